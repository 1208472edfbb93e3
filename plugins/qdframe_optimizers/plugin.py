"""Registers the built-in optimizers (entry point ``optimizers``).

Run them in :data:`DEFAULT_ORDER`: ``transpile`` and ``burst_merge`` rewrite
the circuit before planning, ``route_choice`` picks EPR routes for lowering.
"""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, lazy_factory

__all__ = ["DEFAULT_ORDER", "qdframe_register_optimizers"]

#: The order the built-in optimizers are meant to run in.
DEFAULT_ORDER = ("transpile", "burst_merge", "route_choice")


@qdframe.hookimpl
def qdframe_register_optimizers(registry: Registrar) -> None:
    """Add ``transpile``, ``burst_merge`` and ``route_choice``."""
    registry.add(
        "transpile",
        lazy_factory("qdframe_optimizers.circuit:TranspileOptimizer"),
        description="Qiskit pre-optimisation into the planning basis (level 0-3)",
    )
    registry.add(
        "burst_merge",
        lazy_factory("qdframe_optimizers.circuit:BurstMergeOptimizer"),
        description="defer and fuse single-qubit gates so fewer of them end bursts",
    )
    registry.add(
        "route_choice",
        lazy_factory("qdframe_optimizers.routes:RouteChoiceOptimizer"),
        description="swapping path with the best fidelity-latency product per node pair",
    )
