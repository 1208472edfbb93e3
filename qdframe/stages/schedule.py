"""The schedule stage: when each operation runs, the makespan and the fidelity estimate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.config import SystemConfig
    from qdframe.resources import ResourceManager, SubTopology
    from qdframe.schedule import Schedule
    from qdframe.stages.state import RunState

__all__ = ["ScheduleStage"]


@dataclass(frozen=True)
class ScheduleStage:
    """Schedule the program on the network; charge its EPR pairs to the links used.

    :param config: the run's configuration (timing model).
    :param resources: where the link usage is recorded (full-network node ids).
    """

    config: SystemConfig
    resources: ResourceManager
    name: str = "schedule"

    def run(self, state: RunState) -> RunState:
        from qdframe.schedule import schedule

        result = schedule(state.require_program(), self.config)
        if state.available is not None:
            self.resources.record_link_usage(_link_usage(result, state.available))
        return state.replace(schedule=result)

    def hook_input(self, state: RunState) -> Any:
        return state.program

    def hook_output(self, state: RunState) -> Any:
        return state.schedule


def _link_usage(schedule: Schedule, available: SubTopology) -> dict[tuple[int, int], int]:
    """EPR pairs per link, in the full network's node ids."""
    usage: dict[tuple[int, int], int] = {}
    for link in schedule.links:
        if link.pairs:
            a, b = link.nodes
            usage[(available.to_original(a), available.to_original(b))] = int(link.raw_pairs)
    return usage
