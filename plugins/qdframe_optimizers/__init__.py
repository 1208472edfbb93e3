"""qdframe's built-in optimizers: circuit pre-optimisation, burst merging, route choice.

Each has ``name``, ``stage`` and ``optimize(subject, context) -> (subject,
report)``; the report (:class:`OptimizationReport`) says what it saved.
"""

from __future__ import annotations

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
