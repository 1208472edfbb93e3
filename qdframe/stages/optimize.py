"""The optimize stage: route optimizers choose the EPR routes the lowering uses.

Optimizers run in the order ``[distributed] optimizers`` lists them, each
where its ``stage`` says: circuit optimizers (``"intake"``) in the intake
stage, before allocation; route optimizers (``"lower"``) here, on the
routes of the plan. Each one's report goes to ``metrics["optimizers"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Optimizer
    from qdframe.stages.state import RunState

__all__ = ["OptimizeStage", "optimizer_report", "optimizers_for"]


def optimizers_for(plugins: LoadedPlugins, names: Sequence[str], stage: str) -> list[Optimizer]:
    """The configured optimizers that apply at ``stage``, built, in configured order."""
    registry = plugins.registries.optimizers
    built = [registry.get(name)() for name in names]
    return [optimizer for optimizer in built if optimizer.stage == stage]


def optimizer_report(report: Any) -> dict[str, Any]:
    """An optimizer's report as JSON-ready data."""
    return {
        "name": getattr(report, "name", "?"),
        "saved": dict(getattr(report, "saved", {})),
        "before": dict(getattr(report, "before", {})),
        "after": dict(getattr(report, "after", {})),
    }


@dataclass(frozen=True)
class OptimizeStage:
    """Run the route optimizers on the plan's routes (``routes`` stays ``None`` without any).

    :param plugins: the plugin set the optimizers come from.
    :param optimizers: ``[distributed] optimizers``.
    """

    plugins: LoadedPlugins
    optimizers: Sequence[str] = ()
    name: str = "optimize"

    def run(self, state: RunState) -> RunState:
        plan = state.require_plan()
        reports = list(state.optimizer_reports)
        routes = None
        for optimizer in optimizers_for(self.plugins, self.optimizers, "lower"):
            if routes is None:
                from qdframe.distribute.routing import RouteTable

                routes = RouteTable.for_plan(plan)
            routes, report = optimizer.optimize(routes, state.context)
            reports.append(optimizer_report(report))
        state.context.metrics["optimizers"] = list(reports)
        return state.replace(routes=routes, optimizer_reports=tuple(reports))

    def hook_input(self, state: RunState) -> Any:
        return state.plan

    def hook_output(self, state: RunState) -> Any:
        return state.plan
