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
