"""The lower stage: every cross-node gate becomes its communication protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.config import SystemConfig
    from qdframe.stages.state import RunState

__all__ = ["LowerStage"]


@dataclass(frozen=True)
class LowerStage:
    """Lower the plan to a distributed program over the routes the optimize stage chose.

    :param config: the run's configuration (communication mode, cost model).
    """

    config: SystemConfig
    name: str = "lower"

    def run(self, state: RunState) -> RunState:
        from qdframe.distribute import compile_distributed

        program = compile_distributed(None, state.require_plan(), self.config, routes=state.routes)
        return state.replace(program=program)

    def hook_input(self, state: RunState) -> Any:
        return state.plan

    def hook_output(self, state: RunState) -> Any:
        return state.program
