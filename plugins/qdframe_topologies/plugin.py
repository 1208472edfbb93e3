"""Registers the built-in topologies (entry point ``topologies``)."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, lazy_factory

__all__ = ["qdframe_register_topologies"]


@qdframe.hookimpl
def qdframe_register_topologies(registry: Registrar) -> None:
    """Add every built-in topology builder."""
    registry.add(
        "torus",
        lazy_factory("qdframe_topologies.builders:build_torus"),
        description="2D torus (3D with dims); 1024 → 32x32",
    )
    registry.add(
        "ring",
        lazy_factory("qdframe_topologies.builders:build_ring"),
        description="nodes on a cycle",
    )
    registry.add(
        "line",
        lazy_factory("qdframe_topologies.builders:build_line"),
        description="nodes on a path",
    )
    registry.add(
        "grid",
        lazy_factory("qdframe_topologies.builders:build_grid"),
        description="2D grid without wrap-around (3D with dims)",
    )
    registry.add(
        "star",
        lazy_factory("qdframe_topologies.builders:build_star"),
        description="hub node 0 linked to every other node",
    )
    registry.add(
        "all_to_all",
        lazy_factory("qdframe_topologies.builders:build_all_to_all"),
        description="complete graph",
    )
    registry.add(
        "tree",
        lazy_factory("qdframe_topologies.builders:build_tree"),
        description="level-order tree (arity, default 2)",
    )
    registry.add(
        "hypercube",
        lazy_factory("qdframe_topologies.builders:build_hypercube"),
        description="hypercube of 2**d nodes",
    )
    registry.add(
        "small_world",
        lazy_factory("qdframe_topologies.custom:build_small_world"),
        description="connected Watts-Strogatz graph (neighbours, rewire_probability, seed)",
    )
    registry.add(
        "custom",
        lazy_factory("qdframe_topologies.custom:build_custom"),
        description="edge list from topology_params.edges or edges_file",
    )
