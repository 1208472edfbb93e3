"""Built-in qubit allocators (partitioners).

Baselines (``round_robin``, ``sequential``), ``greedy`` graph growing,
multilevel ``fm``, ``locality`` (qubits and network bisected together, for
large networks), time-sliced ``temporal`` with teleportation, ``annealing``,
KaHyPar ``hypergraph`` (optional), ``topology_aware`` refinement, ``ensemble``
aggregation and the ``auto`` policy. Each follows
:class:`qdframe.protocols.Allocator` and is registered by
:mod:`qdframe_allocators.plugin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_allocators.annealing import AnnealingAllocator, anneal
    from qdframe_allocators.auto import AutoAllocator, choose
    from qdframe_allocators.baseline import RoundRobinAllocator, SequentialAllocator
    from qdframe_allocators.ensemble import EnsembleAllocator, diversity
    from qdframe_allocators.fm import FMAllocator
    from qdframe_allocators.greedy import GreedyAllocator
    from qdframe_allocators.hypergraph import HypergraphAllocator, kahypar_available
    from qdframe_allocators.locality import LocalityAllocator
    from qdframe_allocators.temporal import TemporalAllocator
    from qdframe_allocators.topology_aware import TopologyAwareAllocator

__all__ = [
    "AnnealingAllocator",
    "AutoAllocator",
    "EnsembleAllocator",
    "FMAllocator",
    "GreedyAllocator",
    "HypergraphAllocator",
    "LocalityAllocator",
    "RoundRobinAllocator",
    "SequentialAllocator",
    "TemporalAllocator",
    "TopologyAwareAllocator",
    "anneal",
    "choose",
    "diversity",
    "kahypar_available",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AnnealingAllocator": "qdframe_allocators.annealing",
        "anneal": "qdframe_allocators.annealing",
        "AutoAllocator": "qdframe_allocators.auto",
        "choose": "qdframe_allocators.auto",
        "RoundRobinAllocator": "qdframe_allocators.baseline",
        "SequentialAllocator": "qdframe_allocators.baseline",
        "EnsembleAllocator": "qdframe_allocators.ensemble",
        "diversity": "qdframe_allocators.ensemble",
        "FMAllocator": "qdframe_allocators.fm",
        "GreedyAllocator": "qdframe_allocators.greedy",
        "HypergraphAllocator": "qdframe_allocators.hypergraph",
        "kahypar_available": "qdframe_allocators.hypergraph",
        "LocalityAllocator": "qdframe_allocators.locality",
        "TemporalAllocator": "qdframe_allocators.temporal",
        "TopologyAwareAllocator": "qdframe_allocators.topology_aware",
    },
)
