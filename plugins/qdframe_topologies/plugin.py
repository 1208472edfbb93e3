"""Registers the built-in topologies (entry point ``topologies``)."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar
from qdframe_topologies.builders import (
    build_all_to_all,
    build_grid,
    build_hypercube,
    build_line,
    build_ring,
    build_star,
    build_torus,
    build_tree,
)
from qdframe_topologies.custom import build_custom, build_small_world

__all__ = ["qdframe_register_topologies"]


@qdframe.hookimpl
def qdframe_register_topologies(registry: Registrar) -> None:
    """Add every built-in topology builder."""
    registry.add("torus", build_torus, description="2D torus (3D with dims); 1024 → 32x32")
    registry.add("ring", build_ring, description="nodes on a cycle")
    registry.add("line", build_line, description="nodes on a path")
    registry.add("grid", build_grid, description="2D grid without wrap-around (3D with dims)")
    registry.add("star", build_star, description="hub node 0 linked to every other node")
    registry.add("all_to_all", build_all_to_all, description="complete graph")
    registry.add("tree", build_tree, description="level-order tree (arity, default 2)")
    registry.add("hypercube", build_hypercube, description="hypercube of 2**d nodes")
    registry.add(
        "small_world",
        build_small_world,
        description="connected Watts-Strogatz graph (neighbours, rewire_probability, seed)",
    )
    registry.add(
        "custom", build_custom, description="edge list from topology_params.edges or edges_file"
    )
