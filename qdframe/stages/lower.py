"""The lower stage: every cross-node gate becomes its communication protocol."""

from __future__ import annotations

from dataclasses import dataclass, replace
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

        plan = state.require_plan()
        program = compile_distributed(None, plan, self.config, routes=state.routes)
        # The plan's consumed ebits are the program's: bursts re-opened for lack
        # of communication qubits are known once it is lowered.
        figures = (program.split_ebits, program.comm_splits)
        if figures != (plan.split_ebits, plan.comm_splits):
            plan = replace(plan, split_ebits=figures[0], comm_splits=figures[1])
        return state.replace(program=program, plan=plan)

    def hook_input(self, state: RunState) -> Any:
        return state.plan

    def hook_output(self, state: RunState) -> Any:
        return state.program
