"""Error mitigation for qdframe: readout-error mitigation and zero-noise extrapolation.

Both mitigators run circuits through a :class:`~qdframe_mitigation.runner.CircuitRunner`
the caller supplies (:func:`~qdframe_mitigation.runner.backend_runner` builds one
from a backend and a noise model), so they work with any backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

# Imported now: the function shares its name with its module, which would
# otherwise shadow it once any code imports ``qdframe_mitigation.extrapolate``.
from qdframe_mitigation.extrapolate import extrapolate

if TYPE_CHECKING:
    from qdframe_mitigation.calibration import QubitReadout, ReadoutCalibration
    from qdframe_mitigation.counts import clbit_qubits, normalise_counts
    from qdframe_mitigation.errors import MitigationError
    from qdframe_mitigation.extrapolate import (
        EXTRAPOLATION_METHODS,
        richardson_weights,
    )
    from qdframe_mitigation.folding import FOLDING_METHODS, fold, fold_global, fold_local
    from qdframe_mitigation.observables import Observable, pauli_terms
    from qdframe_mitigation.readout import ReadoutMitigator
    from qdframe_mitigation.runner import CircuitRunner, backend_runner
    from qdframe_mitigation.simplex import project_to_simplex
    from qdframe_mitigation.zne import ZNEMitigator, ZNEResult

__all__ = [
    "EXTRAPOLATION_METHODS",
    "FOLDING_METHODS",
    "CircuitRunner",
    "MitigationError",
    "Observable",
    "QubitReadout",
    "ReadoutCalibration",
    "ReadoutMitigator",
    "ZNEMitigator",
    "ZNEResult",
    "backend_runner",
    "clbit_qubits",
    "extrapolate",
    "fold",
    "fold_global",
    "fold_local",
    "normalise_counts",
    "pauli_terms",
    "project_to_simplex",
    "richardson_weights",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "QubitReadout": "qdframe_mitigation.calibration",
        "ReadoutCalibration": "qdframe_mitigation.calibration",
        "clbit_qubits": "qdframe_mitigation.counts",
        "normalise_counts": "qdframe_mitigation.counts",
        "MitigationError": "qdframe_mitigation.errors",
        "EXTRAPOLATION_METHODS": "qdframe_mitigation.extrapolate",
        "richardson_weights": "qdframe_mitigation.extrapolate",
        "FOLDING_METHODS": "qdframe_mitigation.folding",
        "fold": "qdframe_mitigation.folding",
        "fold_global": "qdframe_mitigation.folding",
        "fold_local": "qdframe_mitigation.folding",
        "Observable": "qdframe_mitigation.observables",
        "pauli_terms": "qdframe_mitigation.observables",
        "ReadoutMitigator": "qdframe_mitigation.readout",
        "CircuitRunner": "qdframe_mitigation.runner",
        "backend_runner": "qdframe_mitigation.runner",
        "project_to_simplex": "qdframe_mitigation.simplex",
        "ZNEMitigator": "qdframe_mitigation.zne",
        "ZNEResult": "qdframe_mitigation.zne",
    },
)
