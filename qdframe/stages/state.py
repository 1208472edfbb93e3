"""The run state that flows through the pipeline, and what a stage is.

A run is a sequence of :class:`Stage` objects, each ``run(state) -> state``
over one frozen :class:`RunState` (as Qiskit's ``PassManager`` runs passes
over a ``PropertySet``). A stage never changes the state it is given: it
returns a new one with :meth:`RunState.replace`. Data moves forward only:
what a stage needs from an earlier one is a field of the state, never that
stage's internals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    from qdframe.config import SystemConfig
    from qdframe.context import RunContext
    from qdframe.distribute.program import DistributedProgram
    from qdframe.distribute.routing import RouteTable
    from qdframe.noise import NoiseModel
    from qdframe.planning import Plan
    from qdframe.resources import SubTopology
    from qdframe.rundir import RunDirectory
    from qdframe.schedule import Schedule
    from qdframe.stages.result import RunResult

__all__ = ["Guard", "RunRequest", "RunState", "Stage"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class RunRequest:
    """What the caller asked for: one ``system.run(...)`` call's arguments.

    ``shots`` and ``seed`` are ``None`` when the caller left them to the
    defaults (a fresh run) or to the run directory (``resume``).
    """

    source: Any
    shots: int | None = None
    seed: int | None = None
    observables: Mapping[str, Any] = field(default_factory=dict)
    verify: bool = False
    verify_method: str | None = None
    noise: NoiseModel | None = None
    report_dir: Path | None = None
    resume: bool = False
    progress: Callable[[int, int], None] | None = None
    backend: str | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class RunState:
    """Everything one run knows, stage by stage (frozen; see :meth:`replace`).

    Set when the run opens: ``context``, ``config`` (sized for the circuit),
    ``run_dir``, ``run_key``, ``original``, ``shots``, ``seed``, ``verify``,
    ``verify_method``, ``observables`` (parsed). Then each stage fills its part: intake
    ``prepared`` and ``circuit``; allocate ``available`` and ``plan``;
    optimize ``routes``; lower ``program``; schedule ``schedule``; execute
    ``executable``, ``counts``, ``backend``, ``execute_info`` (or, by circuit
    cutting, ``mode_result`` and ``expectation_values``); recovery may end
    the attempt with ``fallback_reason``; mitigate ``mitigated``; analyze
    ``result``. ``attempt`` counts the failed distributed attempts so far.
    """

    context: RunContext
    config: SystemConfig
    original: QuantumCircuit
    shots: int
    seed: int
    verify: bool = False
    verify_method: str = "auto"
    noise: NoiseModel | None = None
    observables: Mapping[str, SparsePauliOp] = field(default_factory=dict)
    run_dir: RunDirectory | None = None
    run_key: str = ""
    resume: bool = False
    attempt: int = 0
    prepared: QuantumCircuit | None = None
    circuit: QuantumCircuit | None = None
    available: SubTopology | None = None
    plan: Plan | None = None
    routes: RouteTable | None = None
    optimizer_reports: tuple[Mapping[str, Any], ...] = ()
    program: DistributedProgram | None = None
    schedule: Schedule | None = None
    executable: QuantumCircuit | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    backend: str = ""
    execute_info: Mapping[str, Any] = field(default_factory=dict)
    mode_result: Any = None
    expectation_values: Mapping[str, float] = field(default_factory=dict)
    fallback_reason: str | None = None
    mitigated: Mapping[str, float] | None = None
    readout_calibration: Mapping[str, Any] | None = None
    wall_s: float = 0.0
    process: Mapping[str, Any] = field(default_factory=dict)
    profile_text: str = ""
    result: RunResult | None = None

    def replace(self, **changes: Any) -> RunState:
        """A copy with ``changes`` applied (the state itself never changes)."""
        return dataclasses.replace(self, **changes)

    def require_prepared(self) -> QuantumCircuit:
        """The measured original (set by intake)."""
        return _required(self.prepared, "prepared", "intake")

    def require_plan(self) -> Plan:
        return _required(self.plan, "plan", "allocate")

    def require_program(self) -> DistributedProgram:
        return _required(self.program, "program", "lower")

    def require_schedule(self) -> Schedule:
        return _required(self.schedule, "schedule", "schedule")


def _required(value: _T | None, name: str, stage: str) -> _T:
    if value is None:
        raise RuntimeError(f"the run state has no {name} yet: the {stage} stage sets it")
    return value


class Stage(Protocol):
    """One step of the pipeline.

    ``name`` is one of :data:`qdframe.hookspecs.PIPELINE_STAGES`; the
    runner fires that stage's hooks around :meth:`run`.
    """

    @property
    def name(self) -> str: ...

    def run(self, state: RunState) -> RunState:
        """Return the state after this stage (a new object)."""
        ...

    def hook_input(self, state: RunState) -> Any:
        """What the deprecated ``qdframe_before_<stage>`` hooks receive as ``value``."""
        ...

    def hook_output(self, state: RunState) -> Any:
        """What the deprecated ``qdframe_after_<stage>`` hooks receive as ``value``."""
        ...


@dataclass(frozen=True)
class Guard:
    """A check between stages that may refuse the run.

    Guards fire no hooks and are not recovered from: a refusal (the run
    would take too long, say) is the answer, not a failure to work around.
    """

    name: str
    check: Callable[[RunState], RunState]
