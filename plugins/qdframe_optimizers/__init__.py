"""qdframe's built-in optimizers: circuit pre-optimisation, burst merging, route choice.

Each has ``name``, ``stage`` and ``optimize(subject, context) -> (subject,
report)``; the report (:class:`OptimizationReport`) says what it saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_optimizers.circuit import BurstMergeOptimizer, TranspileOptimizer, circuit_figures
    from qdframe_optimizers.plugin import DEFAULT_ORDER
    from qdframe_optimizers.report import OptimizationReport
    from qdframe_optimizers.routes import RouteChoiceOptimizer, path_score

__all__ = [
    "DEFAULT_ORDER",
    "BurstMergeOptimizer",
    "OptimizationReport",
    "RouteChoiceOptimizer",
    "TranspileOptimizer",
    "circuit_figures",
    "path_score",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BurstMergeOptimizer": "qdframe_optimizers.circuit",
        "TranspileOptimizer": "qdframe_optimizers.circuit",
        "circuit_figures": "qdframe_optimizers.circuit",
        "DEFAULT_ORDER": "qdframe_optimizers.plugin",
        "OptimizationReport": "qdframe_optimizers.report",
        "RouteChoiceOptimizer": "qdframe_optimizers.routes",
        "path_score": "qdframe_optimizers.routes",
    },
)
