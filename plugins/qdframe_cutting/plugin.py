"""Registers the ``classical`` and ``hybrid`` communication modes (entry point ``cutting``).

They are added to the ``communication_modes`` registry, through the
``qdframe_register_communication_modes`` hook, when the installed qdframe
declares that hook.
"""

from __future__ import annotations

import importlib.util
import math
from typing import TYPE_CHECKING, Any

import qdframe

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import LoadedPlugins, PlanLike, Registrar, SystemConfig
    from qdframe_cutting.classical import CuttingResult

__all__ = ["ClassicalMode", "HybridMode"]


class ClassicalMode:
    """Every gate between nodes cut: ``find_cuts`` with the node size as constraint."""

    name = "classical"

    def run(
        self,
        circuit: QuantumCircuit,
        plan: PlanLike | None,
        observables: Any,
        config: SystemConfig,
        *,
        shots: int,
        seed: int,
        executor: Any = None,
        plugins: LoadedPlugins,
    ) -> CuttingResult:
        from qdframe_cutting.classical import run_classical

        return run_classical(
            circuit, observables, config, shots=shots, seed=seed, num_samples=math.inf,
            executor=executor, plugins=plugins,
        )  # fmt: skip


class HybridMode:
    """Per burst, a cat-entanglement or a gate cut, whichever the weighted cost prefers."""

    name = "hybrid"

    def run(
        self,
        circuit: QuantumCircuit,
        plan: PlanLike | None,
        observables: Any,
        config: SystemConfig,
        *,
        shots: int,
        seed: int,
        executor: Any = None,
        plugins: LoadedPlugins,
    ) -> CuttingResult:
        from qdframe.plugin import DistributionError
        from qdframe_cutting.hybrid import run_hybrid

        if plan is None:
            raise DistributionError("the hybrid mode needs a plan (an allocation of the qubits)")
        return run_hybrid(circuit, plan, observables, config, shots=shots, seed=seed,
                          executor=executor, plugins=plugins)  # fmt: skip


@qdframe.hookimpl
def qdframe_register_communication_modes(registry: Registrar) -> None:
    """Add the ``classical`` and ``hybrid`` modes (when qiskit-addon-cutting is installed)."""
    if importlib.util.find_spec("qiskit_addon_cutting") is None:
        return  # the registry then points to: pip install "qdframe[cutting]"
    registry.add("classical", ClassicalMode, description="circuit cutting (qiskit-addon-cutting)")
    registry.add("hybrid", HybridMode, description="EPR protocols or cuts, per burst by cost")
