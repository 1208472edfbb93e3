"""Registers the built-in allocators (entry point ``allocators``).

``hypergraph`` is registered only when the optional ``kahypar`` package
imports; without it the registry's unknown-name message says which extra to
install.
"""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, lazy_factory

__all__ = ["qdframe_register_allocators"]


def _kahypar_imports() -> bool:
    # The check of qdframe_allocators.hypergraph.kahypar_available, without
    # importing that module (and numpy) just to register the allocators.
    try:
        import kahypar  # noqa: F401
    except ImportError:
        return False
    return True


@qdframe.hookimpl
def qdframe_register_allocators(registry: Registrar) -> None:
    """Add every built-in allocator factory."""
    registry.add(
        "auto",
        lazy_factory("qdframe_allocators.auto:AutoAllocator"),
        description="picks the benchmark winner for the size",
    )
    registry.add(
        "round_robin",
        lazy_factory("qdframe_allocators.baseline:RoundRobinAllocator"),
        description="qubit q to node q mod k",
    )
    registry.add(
        "sequential",
        lazy_factory("qdframe_allocators.baseline:SequentialAllocator"),
        description="fill nodes one after another",
    )
    registry.add(
        "greedy",
        lazy_factory("qdframe_allocators.greedy:GreedyAllocator"),
        description="graph growing on the interaction graph",
    )
    registry.add(
        "fm",
        lazy_factory("qdframe_allocators.fm:FMAllocator"),
        description="multilevel k-way Fiduccia-Mattheyses",
    )
    registry.add(
        "locality",
        lazy_factory("qdframe_allocators.locality:LocalityAllocator"),
        description="qubits and network bisected together, for large networks",
    )
    registry.add(
        "temporal",
        lazy_factory("qdframe_allocators.temporal:TemporalAllocator"),
        description="time-sliced partitioning with teleportation",
    )
    registry.add(
        "annealing",
        lazy_factory("qdframe_allocators.annealing:AnnealingAllocator"),
        description="simulated annealing of any start",
    )
    registry.add(
        "topology_aware",
        lazy_factory("qdframe_allocators.topology_aware:TopologyAwareAllocator"),
        description="hop-aware node placement and refinement for sparse networks",
    )
    registry.add(
        "ensemble",
        lazy_factory("qdframe_allocators.ensemble:EnsembleAllocator"),
        description="several allocators/seeds aggregated",
    )
    if _kahypar_imports():
        registry.add(
            "hypergraph",
            lazy_factory("qdframe_allocators.hypergraph:HypergraphAllocator"),
            description="KaHyPar km1 on the burst hypergraph",
        )
