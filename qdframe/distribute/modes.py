"""Communication modes as plugins: how a run with classical communication is carried out.

The quantum mode is core (:func:`qdframe.distribute.compile_distributed`).
Modes that estimate observables by circuit cutting - ``classical`` and
``hybrid`` - come from plugins (the built-in one is ``qdframe_cutting``) that
register a :class:`CommunicationMode` under the mode's name in the
``communication_modes`` registry. :func:`run_mode` looks it up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qdframe.errors import DistributionError, RegistryError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.distribute.plan import PlanLike
    from qdframe.plugins import LoadedPlugins

__all__ = ["MODE_REGISTRY", "CommunicationMode", "ModeResult", "run_mode"]

#: Registry category the cutting modes are registered in.
MODE_REGISTRY = "communication_modes"


@runtime_checkable
class ModeResult(Protocol):
    """What a mode returns: estimates, their standard errors and what it cost."""

    expectation_values: list[float]
    standard_errors: list[float]
    sampling_overhead: float

    def summary(self) -> dict[str, Any]: ...


@runtime_checkable
class CommunicationMode(Protocol):
    """Carries out a circuit with one way of communicating between nodes.

    Registered as a factory: ``registry.add("classical", ClassicalMode)``.
    """

    name: str

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
    ) -> ModeResult:
        """Estimate ``observables`` on ``circuit`` (``plan`` places it; the
        classical mode does not need one); ``plugins`` is the run's plugin set,
        which backends and executors come from."""


def run_mode(
    mode: str,
    circuit: QuantumCircuit,
    plan: PlanLike | None,
    observables: Any,
    config: SystemConfig,
    *,
    shots: int = 2000,
    seed: int = 0,
    executor: Any = None,
    plugins: LoadedPlugins,
) -> ModeResult:
    """Run ``circuit`` through the communication mode registered as ``mode``.

    :raises RegistryError: no plugin provides ``mode`` (the message names the
        extra to install).
    """
    loaded = plugins
    registry = getattr(loaded.registries, MODE_REGISTRY, None)
    if registry is None or mode not in registry:
        known = sorted(registry.names()) if registry is not None else []
        hint = (
            "; it comes with the cutting extra: pip install 'qdframe[cutting]'"
            if mode in ("classical", "hybrid")
            else ""
        )
        raise RegistryError(
            f"no communication mode {mode!r} is registered (registered: "
            f"{', '.join(known) or 'none'}){hint}"
        )
    handler = registry.get(mode)()
    if not isinstance(handler, CommunicationMode):
        raise DistributionError(f"communication mode {mode!r} does not implement run()")
    return handler.run(
        circuit,
        plan,
        observables,
        config,
        shots=shots,
        seed=seed,
        executor=executor,
        plugins=loaded,
    )
