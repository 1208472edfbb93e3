"""Registers the built-in allocators (entry point ``allocators``).

``hypergraph`` is registered only when the optional ``kahypar`` package
imports; without it the registry's unknown-name message says which extra to
install.
"""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar
from qdframe_allocators.annealing import AnnealingAllocator
from qdframe_allocators.auto import AutoAllocator
from qdframe_allocators.baseline import RoundRobinAllocator, SequentialAllocator
from qdframe_allocators.ensemble import EnsembleAllocator
from qdframe_allocators.fm import FMAllocator
from qdframe_allocators.greedy import GreedyAllocator
from qdframe_allocators.hypergraph import HypergraphAllocator, kahypar_available
from qdframe_allocators.locality import LocalityAllocator
from qdframe_allocators.temporal import TemporalAllocator
from qdframe_allocators.topology_aware import TopologyAwareAllocator

__all__ = ["qdframe_register_allocators"]


@qdframe.hookimpl
def qdframe_register_allocators(registry: Registrar) -> None:
    """Add every built-in allocator factory."""
    registry.add("auto", AutoAllocator, description="picks the benchmark winner for the size")
    registry.add("round_robin", RoundRobinAllocator, description="qubit q to node q mod k")
    registry.add("sequential", SequentialAllocator, description="fill nodes one after another")
    registry.add("greedy", GreedyAllocator, description="graph growing on the interaction graph")
    registry.add("fm", FMAllocator, description="multilevel k-way Fiduccia-Mattheyses")
    registry.add(
        "locality",
        LocalityAllocator,
        description="qubits and network bisected together, for large networks",
    )
    registry.add(
        "temporal", TemporalAllocator, description="time-sliced partitioning with teleportation"
    )
    registry.add("annealing", AnnealingAllocator, description="simulated annealing of any start")
    registry.add(
        "topology_aware",
        TopologyAwareAllocator,
        description="hop-aware node placement and refinement for sparse networks",
    )
    registry.add("ensemble", EnsembleAllocator, description="several allocators/seeds aggregated")
    if kahypar_available():
        registry.add(
            "hypergraph", HypergraphAllocator, description="KaHyPar km1 on the burst hypergraph"
        )
