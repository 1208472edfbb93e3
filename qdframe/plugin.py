"""The stable API for plugin authors: everything a qdframe plugin may import.

A plugin imports from this module and from :mod:`qdframe` only; every other
module of qdframe and of ``qdframe_hal`` is private and may change between
releases. The built-in plugins under ``plugins/`` follow the same rule (a
test fails on any other import), so each of them shows what this surface
allows. ``docs/plugins.md`` ("Stable API for plugin authors") documents every
name listed in ``__all__``.

Names load on first use, from the module that defines them, so a plugin that
imports a few of them at registration time loads no more than it needs (no
numpy, pydantic or Qiskit for a hook that only adds a factory). Factories
that pull in heavy dependencies can be registered through
:func:`lazy_factory`, which imports them when the first object is built.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.allocation import Allocation, AllocationProblem, GateArray, normalize_circuit
    from qdframe.backend import (
        PRECISIONS,
        BackendCapabilities,
        BackendResult,
        BackendResults,
        InvalidCircuitError,
        MemoryBudget,
        ShotsError,
        check_memory,
        format_bytes,
        get_backend,
        max_statevector_qubits,
        memory_budget,
        statevector_bytes,
        validate_shots,
    )
    from qdframe.config import (
        AggregationMethod,
        DistributionEnsembleConfig,
        DiversityMeasure,
        ExecutorKind,
        FallbackStrategy,
        FaultKind,
        FaultSpec,
        OptimizationLevel,
        SystemConfig,
    )
    from qdframe.context import RecoveryAction, RecoveryKind, RunContext
    from qdframe.cost import CostReport, ebit_count, evaluate
    from qdframe.distribute import DistributedProgram, HybridWeights, choose_cuts
    from qdframe.distribute.exact import simulate_histories
    from qdframe.distribute.lower import lower
    from qdframe.distribute.plan import PlanLike, matching_circuit
    from qdframe.distribute.routing import RouteTable
    from qdframe.errors import (
        EXIT_FAILURE,
        EXIT_OK,
        EXIT_USAGE,
        CapacityError,
        CircuitError,
        CommunicationError,
        ConfigError,
        DistributionError,
        HardwareError,
        PluginError,
        QdframeError,
        RegistryError,
        ResourceError,
    )
    from qdframe.executors import Backoff, ProgressCallback, future_outcome, run_jobs
    from qdframe.files import atomic_write_text
    from qdframe.hookspecs import hookimpl
    from qdframe.noise import (
        AmplitudeDampingError,
        DepolarizingError,
        NoiseModel,
        PhaseDampingError,
    )
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import (
        Allocator,
        Backend,
        ErrorHandler,
        Executor,
        Mitigator,
        Optimizer,
        OptimizerReport,
        TopologyBuilder,
    )
    from qdframe.registry import CATEGORY_TABLE, Category, FactoryCall, Registrar, Registry
    from qdframe.schedule.timing import TimingModel
    from qdframe.settings import TunableSetting
    from qdframe.topology import HopFunction, LinkSpec, Topology, werner_fidelity
    from qdframe_hal.capacity import GPU_MEMORY_FRACTION
    from qdframe_hal.detect import default_worker_count, detect_host
    from qdframe_hal.host import HostInfo
    from qdframe_hal.loader import load_profiles_text
    from qdframe_hal.profile import HardwareProfile

__all__ = [
    "CATEGORY_TABLE",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "GPU_MEMORY_FRACTION",
    "PRECISIONS",
    "AggregationMethod",
    "Allocation",
    "AllocationProblem",
    "Allocator",
    "AmplitudeDampingError",
    "Backend",
    "BackendCapabilities",
    "BackendResult",
    "BackendResults",
    "Backoff",
    "CapacityError",
    "Category",
    "CircuitError",
    "CommunicationError",
    "ConfigError",
    "CostReport",
    "DepolarizingError",
    "DistributedProgram",
    "DistributionEnsembleConfig",
    "DistributionError",
    "DiversityMeasure",
    "ErrorHandler",
    "Executor",
    "ExecutorKind",
    "FactoryCall",
    "FallbackStrategy",
    "FaultKind",
    "FaultSpec",
    "GateArray",
    "HardwareError",
    "HardwareProfile",
    "HopFunction",
    "HostInfo",
    "HybridWeights",
    "InvalidCircuitError",
    "LinkSpec",
    "LoadedPlugins",
    "MemoryBudget",
    "Mitigator",
    "NoiseModel",
    "OptimizationLevel",
    "Optimizer",
    "OptimizerReport",
    "PhaseDampingError",
    "PlanLike",
    "PluginError",
    "ProgressCallback",
    "QdframeError",
    "RecoveryAction",
    "RecoveryKind",
    "Registrar",
    "Registry",
    "RegistryError",
    "ResourceError",
    "RouteTable",
    "RunContext",
    "ShotsError",
    "SystemConfig",
    "TimingModel",
    "Topology",
    "TopologyBuilder",
    "TunableSetting",
    "atomic_write_text",
    "check_memory",
    "choose_cuts",
    "default_worker_count",
    "detect_host",
    "ebit_count",
    "evaluate",
    "format_bytes",
    "future_outcome",
    "get_backend",
    "hookimpl",
    "lazy_exports",
    "lazy_factory",
    "load_profiles_text",
    "lower",
    "matching_circuit",
    "max_statevector_qubits",
    "memory_budget",
    "normalize_circuit",
    "run_jobs",
    "simulate_histories",
    "statevector_bytes",
    "validate_shots",
    "werner_fidelity",
]

# Where each exported name is defined; resolved on first access.
_SOURCES: dict[str, str] = {
    **dict.fromkeys(
        ("Allocation", "AllocationProblem", "GateArray", "normalize_circuit"), "qdframe.allocation"
    ),
    **dict.fromkeys(
        (
            "PRECISIONS",
            "BackendCapabilities",
            "BackendResult",
            "BackendResults",
            "InvalidCircuitError",
            "MemoryBudget",
            "ShotsError",
            "check_memory",
            "format_bytes",
            "get_backend",
            "max_statevector_qubits",
            "memory_budget",
            "statevector_bytes",
            "validate_shots",
        ),
        "qdframe.backend",
    ),
    **dict.fromkeys(
        (
            "AggregationMethod",
            "DistributionEnsembleConfig",
            "DiversityMeasure",
            "ExecutorKind",
            "FallbackStrategy",
            "FaultKind",
            "FaultSpec",
            "OptimizationLevel",
            "SystemConfig",
        ),
        "qdframe.config",
    ),
    **dict.fromkeys(("RecoveryAction", "RecoveryKind", "RunContext"), "qdframe.context"),
    **dict.fromkeys(("CostReport", "ebit_count", "evaluate"), "qdframe.cost"),
    **dict.fromkeys(("DistributedProgram", "HybridWeights", "choose_cuts"), "qdframe.distribute"),
    "lower": "qdframe.distribute.lower",
    "simulate_histories": "qdframe.distribute.exact",
    **dict.fromkeys(("PlanLike", "matching_circuit"), "qdframe.distribute.plan"),
    "RouteTable": "qdframe.distribute.routing",
    **dict.fromkeys(
        (
            "EXIT_FAILURE",
            "EXIT_OK",
            "EXIT_USAGE",
            "CapacityError",
            "CircuitError",
            "CommunicationError",
            "ConfigError",
            "DistributionError",
            "HardwareError",
            "PluginError",
            "QdframeError",
            "RegistryError",
            "ResourceError",
        ),
        "qdframe.errors",
    ),
    **dict.fromkeys(
        ("Backoff", "ProgressCallback", "future_outcome", "run_jobs"), "qdframe.executors"
    ),
    "atomic_write_text": "qdframe.files",
    "hookimpl": "qdframe.hookspecs",
    **dict.fromkeys(
        ("AmplitudeDampingError", "DepolarizingError", "NoiseModel", "PhaseDampingError"),
        "qdframe.noise",
    ),
    "LoadedPlugins": "qdframe.plugins",
    **dict.fromkeys(
        (
            "Allocator",
            "Backend",
            "ErrorHandler",
            "Executor",
            "Mitigator",
            "Optimizer",
            "OptimizerReport",
            "TopologyBuilder",
        ),
        "qdframe.protocols",
    ),
    **dict.fromkeys(
        ("CATEGORY_TABLE", "Category", "FactoryCall", "Registrar", "Registry"), "qdframe.registry"
    ),
    "TimingModel": "qdframe.schedule.timing",
    "TunableSetting": "qdframe.settings",
    **dict.fromkeys(("HopFunction", "LinkSpec", "Topology", "werner_fidelity"), "qdframe.topology"),
    "GPU_MEMORY_FRACTION": "qdframe_hal.capacity",
    **dict.fromkeys(("default_worker_count", "detect_host"), "qdframe_hal.detect"),
    "HostInfo": "qdframe_hal.host",
    "load_profiles_text": "qdframe_hal.loader",
    "HardwareProfile": "qdframe_hal.profile",
}


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'qdframe.plugin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _LazyFactory:
    # A registered factory that imports its target when first used (see
    # lazy_factory). No docstring: `__doc__` reads the target's.

    __slots__ = ("_resolved", "_target")
    # The registry checks this factory's signature on first use, not on add
    # (reading it would import the target).
    __qdframe_lazy__ = True

    def __init__(self, target: str) -> None:
        self._target = target
        self._resolved: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        """Import and return the target (once)."""
        if self._resolved is None:
            module_name, _, attribute = self._target.partition(":")
            value = getattr(importlib.import_module(module_name), attribute)
            if not callable(value):
                raise TypeError(
                    f"lazy_factory target {self._target!r} is a {type(value).__name__}, "
                    "not a callable"
                )
            self._resolved = value
        return self._resolved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        # Callers inspect a factory's options (does it take `precision`?);
        # answer for the target, not for this wrapper's *args/**kwargs.
        return inspect.signature(self.resolve())

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.resolve()

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]  # what help() shows
        return self.resolve().__doc__

    @property
    def __name__(self) -> str:
        return str(getattr(self.resolve(), "__name__", self._target))

    def __getattr__(self, name: str) -> Any:
        # Class attributes of the target (a mitigator's `name`, an optimizer's
        # `stage`) read through; private names never do, so copying and
        # pickling see only this object's own state.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_LazyFactory, (self._target,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LazyFactory) and other._target == self._target

    def __hash__(self) -> int:
        return hash(self._target)

    def __repr__(self) -> str:
        return f"lazy_factory({self._target!r})"


def lazy_factory(target: str) -> Callable[..., Any]:
    """A factory for ``registry.add`` that imports ``"module:attribute"`` on first call.

    Registration then costs no import of the implementation: ``qdframe plan``
    does not load a simulator backend it never builds. The returned object
    is called like the target, reports the target's signature to
    :func:`inspect.signature` and reads the target's public attributes
    through.

    :raises ValueError: ``target`` is not of the form ``"package.module:name"``.
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute.isidentifier():
        raise ValueError(
            f"lazy_factory target {target!r} must be 'package.module:name', "
            "e.g. 'qdframe_moebius.topology:build_moebius'"
        )
    return _LazyFactory(target)


def lazy_exports(
    package: str, sources: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    In a plugin's ``__init__.py``::

        __getattr__, __dir__ = lazy_exports(__name__, {"build_moebius": "qdframe_moebius.topology"})

    Importing the package (which loading the entry point ``qdframe_moebius.plugin``
    does first) then imports none of its modules; ``qdframe_moebius.build_moebius``
    imports ``qdframe_moebius.topology`` when first read. Keep the names under
    ``if TYPE_CHECKING:`` imports too, so type checkers see them.
    """
    table = dict(sources)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
