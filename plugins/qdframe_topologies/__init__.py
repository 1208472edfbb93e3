"""Built-in network topologies: torus, ring, line, grid, star, all_to_all, tree,
hypercube, small_world and custom.

Each builder follows :class:`qdframe.protocols.TopologyBuilder` and is
registered by :mod:`qdframe_topologies.plugin`; they can also be called
directly::

    from qdframe_topologies import build_torus
    topology = build_torus(1024, qubits_per_node=64, comm_qubits_per_node=2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
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

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "build_all_to_all": "qdframe_topologies.builders",
        "build_grid": "qdframe_topologies.builders",
        "build_hypercube": "qdframe_topologies.builders",
        "build_line": "qdframe_topologies.builders",
        "build_ring": "qdframe_topologies.builders",
        "build_star": "qdframe_topologies.builders",
        "build_torus": "qdframe_topologies.builders",
        "build_tree": "qdframe_topologies.builders",
        "build_custom": "qdframe_topologies.custom",
        "build_small_world": "qdframe_topologies.custom",
    },
)
