"""Recursive bisection of a network's nodes into compact regions.

The ``locality`` allocator splits qubits and nodes together, so the node side
must come as a binary tree whose halves are compact: few links cross
between them, and nodes of one half are close to each other. Level ``l`` of
the tree numbers its regions ``0 .. 2**l - 1``; region ``g`` splits into
``2g`` and ``2g + 1`` (a single node keeps all of it in ``2g``).

Grids and tori (``params["dims"]``) are cut across their longest axis, which
gives straight cuts and square tiles; all-to-all networks in node order. Other
networks are cut by ordering the
nodes by ``D[a, x] - D[b, x]`` for a few pairs of far-apart anchors ``a, b``
and keeping the order whose halves share the fewest links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qdframe.plugin import Topology

__all__ = ["NodeSplitter", "NodeTree", "build_node_tree"]

IntArray = npt.NDArray[np.int64]

_ANCHORS = 4


@dataclass(frozen=True)
class NodeTree:
    """Regions per level: ``region[l][node]``, ``centers[l][g]`` (a medoid
    node of region ``g``, ``-1`` when empty) and ``capacity[l][g]``."""

    region: list[IntArray]
    centers: list[IntArray]
    capacity: list[IntArray]

    @property
    def depth(self) -> int:
        """Levels below the root (the last one has one node per region)."""
        return len(self.region) - 1


def _grid_coords(topology: Topology) -> IntArray | None:
    dims = topology.params.get("dims")
    if topology.name not in ("torus", "grid") or not isinstance(dims, list | tuple):
        return None
    shape = tuple(int(d) for d in dims)
    if not shape or int(np.prod(shape)) != topology.num_nodes:
        return None
    return np.stack(np.unravel_index(np.arange(topology.num_nodes), shape), axis=1).astype(np.int64)


def _split_at(caps: IntArray) -> int:
    """Position splitting ``caps`` (in order) into two halves of near-equal capacity."""
    total = int(caps.sum())
    cum = np.cumsum(caps)
    pos = int(np.argmin(np.abs(2 * cum - total))) + 1
    return min(max(pos, 1), len(caps) - 1)


def _split_grid(
    nodes: IntArray, coords: IntArray, caps: IntArray, axis: int
) -> tuple[IntArray, IntArray]:
    local = coords[nodes]
    keys = [local[:, a] for a in reversed(range(local.shape[1])) if a != axis]
    order = nodes[np.lexsort((*keys, local[:, axis]))]
    pos = _split_at(caps[order])
    return order[:pos], order[pos:]


def _split_general(
    nodes: IntArray,
    dist: npt.NDArray[np.int16],
    caps: IntArray,
    adjacency: list[list[int]],
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    sub = dist[np.ix_(nodes, nodes)].astype(np.int64)
    # Far-apart anchors: a peripheral node, the node farthest from it, and
    # a few random ones.
    first = int(np.argmax(sub[0]))
    anchors = {first, int(np.argmax(sub[first]))}
    anchors.update(rng.choice(len(nodes), size=min(_ANCHORS, len(nodes)), replace=False).tolist())
    pool = sorted(anchors)
    member = set(nodes.tolist())
    best: tuple[int, IntArray, int] | None = None
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            order = np.lexsort((nodes, sub[a], sub[a] - sub[b]))
            pos = _split_at(caps[nodes[order]])
            left = set(nodes[order[:pos]].tolist())
            cut = sum(1 for u in left for v in adjacency[u] if v in member and v not in left)
            if best is None or cut < best[0]:
                best = (cut, order, pos)
    if best is None:  # a single anchor: two nodes that coincide, or one node
        order = np.arange(len(nodes))
        pos = _split_at(caps[nodes])
    else:
        _, order, pos = best
    return nodes[order[:pos]], nodes[order[pos:]]


def _medoid(nodes: IntArray, dist: npt.NDArray[np.int16]) -> int:
    sub = dist[np.ix_(nodes, nodes)].astype(np.int64)
    return int(nodes[int(np.argmin(sub.sum(axis=1)))])


class NodeSplitter:
    """Ways to split a region of ``topology``'s nodes in two halves of equal capacity.

    A grid or torus region can be cut across each axis it spans (longest
    first); other regions have one split.
    """

    def __init__(self, topology: Topology, seed: int = 0) -> None:
        self.topology = topology
        self.caps = topology.data_qubits.astype(np.int64)
        self.dist = topology.distances()
        self.coords = _grid_coords(topology)
        self.adjacency = (
            [topology.neighbours(u) for u in range(topology.num_nodes)]
            if self.coords is None and not topology.is_complete
            else []
        )
        self.rng = np.random.default_rng(seed)

    def options(self, nodes: IntArray) -> list[tuple[IntArray, IntArray]]:
        """Candidate ``(first, second)`` halves of ``nodes`` (``second`` empty
        for a single node), the preferred one first."""
        if len(nodes) == 1:
            return [(nodes, nodes[:0])]
        if self.topology.is_complete:
            # Every split is as good: keep node order.
            pos = _split_at(self.caps[nodes])
            return [(nodes[:pos], nodes[pos:])]
        if self.coords is not None:
            local = self.coords[nodes]
            extent = local.max(axis=0) - local.min(axis=0)
            axes = [int(a) for a in np.argsort(-extent, kind="stable") if extent[a] > 0]
            return [_split_grid(nodes, self.coords, self.caps, axis) for axis in axes]
        return [_split_general(nodes, self.dist, self.caps, self.adjacency, self.rng)]

    def medoid(self, nodes: IntArray) -> int:
        """The node of ``nodes`` with the least total distance to the others."""
        return _medoid(nodes, self.dist)


def build_node_tree(topology: Topology, seed: int = 0) -> NodeTree:
    """Split ``topology``'s nodes in halves of equal capacity, recursively
    (always the preferred split)."""
    splitter = NodeSplitter(topology, seed)
    k = topology.num_nodes
    caps = splitter.caps
    groups: dict[int, IntArray] = {0: np.arange(k, dtype=np.int64)}
    region = [np.zeros(k, dtype=np.int64)]
    centers = [np.asarray([splitter.medoid(groups[0])], dtype=np.int64)]
    capacity = [np.asarray([int(caps.sum())], dtype=np.int64)]
    while any(len(g) > 1 for g in groups.values()):
        size = 2 * len(centers[-1])
        labels = np.empty(k, dtype=np.int64)
        level_centers = np.full(size, -1, dtype=np.int64)
        level_caps = np.zeros(size, dtype=np.int64)
        children: dict[int, IntArray] = {}
        for g, nodes in groups.items():
            for side, part in enumerate(splitter.options(nodes)[0]):
                if not len(part):
                    continue
                child = 2 * g + side
                children[child] = part
                labels[part] = child
                level_centers[child] = splitter.medoid(part)
                level_caps[child] = int(caps[part].sum())
        groups = children
        region.append(labels)
        centers.append(level_centers)
        capacity.append(level_caps)
    return NodeTree(region, centers, capacity)
