"""The allocate stage: qubits to nodes, on the part of the network that is up.

Each attempt plans on what the resource manager still has (a failed node or
link is left out after a recovery). With a run directory the allocation is
kept in ``allocation.json``, so a resumed run lowers the very same circuit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.allocation import Allocation
    from qdframe.config import SystemConfig
    from qdframe.planning import Plan
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Executor
    from qdframe.resources import ResourceManager, SubTopology
    from qdframe.rundir import RunDirectory
    from qdframe.stages.state import RunState

__all__ = ["AllocateStage"]

_PLAN_FILE = "allocation.json"


@dataclass(frozen=True)
class AllocateStage:
    """Plan the intake's circuit on the network that is up.

    :param plugins: the plugin set (topologies, allocators).
    :param config: the run's configuration (planning reads the network,
        allocator and cost model from it).
    :param resources: what is up; recovery marks failed nodes and links down.
    :param executor: runs ensemble members, when the allocator is an ensemble.
    """

    plugins: LoadedPlugins
    config: SystemConfig
    resources: ResourceManager
    executor: Executor
    name: str = "allocate"

    def run(self, state: RunState) -> RunState:
        from qdframe.planning import make_plan

        available = self.resources.available_topology()
        saved = _load_allocation(state.run_dir, available) if state.resume else None
        plan = make_plan(
            state.circuit if state.circuit is not None else state.require_prepared(),
            self.config,
            plugins=self.plugins,
            seed=state.seed,
            topology=available.topology,
            executor=self.executor,
            allocation=saved,
            # The lower stage counts the split ebits from the program it builds.
            count_splits=False,
        )
        if state.run_dir is not None:
            _save_allocation(state.run_dir, plan, available)
        return state.replace(available=available, plan=plan, routes=None)

    def hook_input(self, state: RunState) -> Any:
        return state.circuit

    def hook_output(self, state: RunState) -> Any:
        return state.plan


def _save_allocation(run_dir: RunDirectory, plan: Plan, available: SubTopology) -> None:
    from qdframe.files import atomic_write_text

    allocation = plan.allocation
    data = {
        "network_nodes": list(available.original),
        "assignment": allocation.assignment.tolist(),
        "slice_starts": allocation.slice_starts.tolist(),
        "allocator": plan.allocator,
        "reason": plan.reason,
    }
    atomic_write_text(run_dir.path / _PLAN_FILE, json.dumps(data))


def _load_allocation(run_dir: RunDirectory | None, available: SubTopology) -> Allocation | None:
    """The saved allocation, when it was made for the network now available."""
    from qdframe.allocation import Allocation

    if run_dir is None:
        return None
    try:
        data = json.loads((run_dir.path / _PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("network_nodes") != list(available.original):
        return None
    return Allocation(
        data["assignment"],
        data["slice_starts"],
        allocator=data.get("allocator", ""),
        notes={"reason": f"resumed: {data.get('reason', '')}"},
    )
