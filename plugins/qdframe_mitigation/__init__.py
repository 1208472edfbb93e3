"""Error mitigation for qdframe: readout-error mitigation and zero-noise extrapolation.

Both mitigators run circuits through a :class:`~qdframe_mitigation.runner.CircuitRunner`
the caller supplies (:func:`~qdframe_mitigation.runner.backend_runner` builds one
from a backend and a noise model), so they work with any backend.
"""

from qdframe_mitigation.calibration import QubitReadout, ReadoutCalibration
from qdframe_mitigation.counts import clbit_qubits, normalise_counts
from qdframe_mitigation.errors import MitigationError
from qdframe_mitigation.extrapolate import EXTRAPOLATION_METHODS, extrapolate, richardson_weights
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
