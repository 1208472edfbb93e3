"""Built-in network topologies: torus, ring, line, grid, star, all_to_all, tree,
hypercube, small_world and custom.

Each builder follows :class:`qdframe.protocols.TopologyBuilder` and is
registered by :mod:`qdframe_topologies.plugin`; they can also be called
directly::

    from qdframe_topologies import build_torus
    topology = build_torus(1024, qubits_per_node=64, comm_qubits_per_node=2)
"""

from __future__ import annotations

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

__all__ = [
    "build_all_to_all",
    "build_custom",
    "build_grid",
    "build_hypercube",
    "build_line",
    "build_ring",
    "build_small_world",
    "build_star",
    "build_torus",
    "build_tree",
]
