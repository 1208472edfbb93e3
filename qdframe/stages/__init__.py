"""The stages of a run, as objects over one frozen run state.

Each stage is an object with a ``name`` (one of
:data:`qdframe.hookspecs.PIPELINE_STAGES`) and ``run(state) -> state`` over a
:class:`RunState`; :mod:`qdframe.orchestration` builds them with what each
needs and :class:`qdframe.pipeline.StageRunner` runs them between their hooks.
"""

from __future__ import annotations

from qdframe.stages.allocate import AllocateStage
from qdframe.stages.analyze import AnalyzeStage
from qdframe.stages.execute import BackendChoice, CuttingStage, ExecuteStage, estimate_guard
from qdframe.stages.intake import IntakeStage, prepare_circuit
from qdframe.stages.lower import LowerStage
from qdframe.stages.mitigate import MitigateStage
from qdframe.stages.opening import DEFAULT_SHOTS, open_run
from qdframe.stages.optimize import OptimizeStage
from qdframe.stages.recovery import Recovery
from qdframe.stages.result import RunResult
from qdframe.stages.schedule import ScheduleStage
from qdframe.stages.state import Guard, RunRequest, RunState, Stage

__all__ = [
    "DEFAULT_SHOTS",
    "AllocateStage",
    "AnalyzeStage",
    "BackendChoice",
    "CuttingStage",
    "ExecuteStage",
    "Guard",
    "IntakeStage",
    "LowerStage",
    "MitigateStage",
    "OptimizeStage",
    "Recovery",
    "RunRequest",
    "RunResult",
    "RunState",
    "ScheduleStage",
    "Stage",
    "estimate_guard",
    "open_run",
    "prepare_circuit",
]
