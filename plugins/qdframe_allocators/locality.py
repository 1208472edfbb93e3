"""``locality``: multilevel partitioning onto the network, for large problems.

Qubits and nodes are split in halves together, level by level (dual
recursive bisection): the network into compact regions of equal capacity
(:mod:`qdframe_allocators._node_tree`), the qubits of each region into two
sets of exactly the sizes of its two sub-regions. So qubits that interact
end up in the same region, and regions whose qubits interact are close.

At every level, for all regions at once (numpy, no per-region loop):

1. *coarse order*: each region's qubits are ordered by ``d1 - d2``, their
   breadth-first distances (inside the region) from two far-apart qubits
   of it, and the first ones fill the first sub-region; of three such
   orders, each either way, the one that cuts least (counting the pull of
   partners outside the region towards either sub-region) wins;
2. *refine*: passes of pairwise exchanges between sibling sub-regions. The
   gain of moving a qubit is its gate weight times the change in hop
   distance between sub-region centres, to every partner (inside the region
   and outside, so the pull of the rest of the circuit shapes the cut); the
   best movers of both sides are paired, and a pass is kept only when the
   hop-weighted total falls.

The last level has one node per region, so its refinement works on the exact
hop distances. Interaction weights are gate counts; a pair's gates inside one
segment share a burst in the cost model, which this count overestimates, so
the result is checked with the exact cost model like every allocation.
Time and memory are ``O(E log E)`` per level for ``E`` interacting pairs,
over ``log2(nodes)`` levels.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._base import BaseAllocator, Budget
from qdframe_allocators._node_tree import NodeSplitter

__all__ = ["LocalityAllocator", "locality_partition"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _scipy() -> tuple[Any, Any]:
    """``scipy.sparse`` and its ``csgraph``, imported on first use: loading the
    plugins (every command does) should not pay for scipy's linear algebra.
    Imported by name: scipy ships without type information."""
    return importlib.import_module("scipy.sparse"), importlib.import_module("scipy.sparse.csgraph")


class _Graph:
    """The symmetric weighted interaction graph as half-edges ``src -> dst``."""

    def __init__(self, problem: AllocationProblem) -> None:
        edges, weights = problem.gates.interaction_graph()
        self.n = problem.num_qubits
        self.src = np.concatenate([edges[:, 0], edges[:, 1]]).astype(np.int64)
        self.dst = np.concatenate([edges[:, 1], edges[:, 0]]).astype(np.int64)
        self.w = np.concatenate([weights, weights]).astype(np.float64)


def _ranks(keys: IntArray) -> IntArray:
    """Position of each element within its run of equal (sorted) ``keys``."""
    if not len(keys):
        return keys.copy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lengths = np.diff(np.r_[starts, len(keys)])
    return np.arange(len(keys)) - np.repeat(starts, lengths)


def _group_argmax(values: FloatArray, group: IntArray) -> IntArray:
    """For each group present, the member with the largest value (ties: lowest index)."""
    order = np.lexsort((-np.arange(len(values)), values, group))
    last = np.flatnonzero(np.r_[group[order][1:] != group[order][:-1], True])
    return order[last]


def _bfs_from(graph: Any, sources: IntArray) -> FloatArray:
    """Hops from the nearest source along ``graph`` (``inf`` where unreachable)."""
    _, csgraph = _scipy()
    dist: FloatArray = csgraph.dijkstra(
        graph, directed=False, indices=sources, unweighted=True, min_only=True
    )
    return dist


class _Orders:
    """Candidate orders of every group's qubits, for splitting the groups in two.

    Three far-apart anchors per group (``a``, the qubit ``b`` farthest from
    it, a qubit ``c`` far from both) give three keys, ``d_a - d_b``,
    ``d_a - d_c`` and ``d_b - d_c`` (breadth-first hops inside the group),
    each taken either way. On a square lattice ``a`` and ``b`` are opposite
    corners, whose order cuts along the diagonal, and ``c`` a third corner,
    whose orders cut straight.
    """

    def __init__(self, g: _Graph, group: IntArray, rng: np.random.Generator) -> None:
        n = g.n
        inside = group[g.src] == group[g.dst]
        self.src, self.dst, self.w = g.src[inside], g.dst[inside], g.w[inside]
        self.group = group
        sparse, csgraph = _scipy()
        graph = sparse.csr_matrix((np.ones(len(self.src)), (self.src, self.dst)), shape=(n, n))
        noise = rng.random(n) * 1e-3
        start = _group_argmax(noise, group)
        far = np.nan_to_num(_bfs_from(graph, start), posinf=-1.0)
        da = _bfs_from(graph, _group_argmax(far + noise, group))
        db = _bfs_from(graph, _group_argmax(np.where(np.isfinite(da), da, -1.0) + noise, group))
        # ``c``: the qubit farthest from one halfway between ``a`` and ``b``
        # (on a lattice every point between two corners is as far from both).
        both = np.isfinite(da) & np.isfinite(db)
        balance = np.full(n, -np.inf)
        balance[both] = -np.abs(da[both] - db[both])
        middle = _group_argmax(balance + noise, group)
        dm = _bfs_from(graph, middle)
        dc = _bfs_from(graph, _group_argmax(np.where(np.isfinite(dm), dm, -1.0) + noise, group))
        reached = np.isfinite(da) & np.isfinite(db) & np.isfinite(dc)
        # Ties go by qubit index: registers are usually numbered in order, so
        # interchangeable qubits (a QFT's) stay in contiguous blocks. Qubits of
        # other components of the group go last, one component after
        # another, so that only one component is cut.
        index = np.arange(n)
        _, component = csgraph.connected_components(graph, directed=False)
        self.ranks: list[IntArray] = []
        for first, second in ((da, db), (da, dc), (db, dc)):
            key = (2.0 * n + component).astype(np.float64)
            key[reached] = first[reached] - second[reached]
            for sign in (1.0, -1.0):
                order = np.lexsort((sign * index, sign * key, group))
                rank = np.empty(n, dtype=np.int64)
                rank[order] = _ranks(group[order])
                self.ranks.append(rank)

    def best_split(
        self, fill: IntArray, pull: FloatArray, apart: FloatArray
    ) -> tuple[IntArray, FloatArray]:
        """Per group, the cheapest candidate side (0 or 1) of every qubit, with
        ``fill[group]`` qubits on side 0, and each group's cost.

        ``pull[q]`` is the outside cost of ``q`` on side 0 minus on side 1;
        ``apart[g]`` the hops between group ``g``'s two sub-regions.
        """
        group, src, dst, w = self.group, self.src, self.dst, self.w
        groups = len(apart)
        best_side = np.zeros(len(group), dtype=np.int64)
        best_cost = np.full(groups, np.inf)
        for rank in self.ranks:
            side = (rank >= fill[group]).astype(np.int64)
            cut = w * (side[src] != side[dst])
            cost = np.bincount(group[src], weights=cut, minlength=groups) / 2 * apart
            cost += np.bincount(group, weights=pull * (side == 0), minlength=groups)
            better = cost < best_cost
            best_cost = np.where(better, cost, best_cost)
            best_side = np.where(better[group], side, best_side)
        return best_side, best_cost


def _level_cost(g: _Graph, child: IntArray, dist: FloatArray) -> float:
    return float((g.w * dist[child[g.src], child[g.dst]]).sum()) / 2.0


def _refine(
    g: _Graph,
    child: IntArray,
    dist: FloatArray,
    *,
    passes: int,
    budget: Budget,
) -> IntArray:
    """Exchange qubits between sibling sub-regions while the hop-weighted cost falls."""
    n = g.n
    child = child.copy()
    cost = _level_cost(g, child, dist)
    share = 1.0
    for _ in range(passes):
        if budget.expired() or share < 1 / 64:
            break
        budget.spend()
        sibling = child ^ 1
        # Gain of moving q to its sibling sub-region, summed over partners.
        term = g.w * (dist[child[g.src], child[g.dst]] - dist[sibling[g.src], child[g.dst]])
        gain = np.bincount(g.src, weights=term, minlength=n)
        parent = child >> 1
        side = child & 1
        order = np.lexsort((-gain, side, parent))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = _ranks((parent * 2 + side)[order])
        key = parent * n + rank
        zero, one = np.flatnonzero(side == 0), np.flatnonzero(side == 1)
        _, ia, ib = np.intersect1d(key[zero], key[one], assume_unique=True, return_indices=True)
        a, b = zero[ia], one[ib]
        total = gain[a] + gain[b]
        keep = total > 1e-9
        if share < 1.0:
            # Only the best share of each region's profitable pairs.
            limit = np.ceil(share * np.bincount(parent[a], weights=keep, minlength=n))
            keep &= rank[a] < limit[parent[a]]
        a, b = a[keep], b[keep]
        if not len(a):
            break
        child[a] ^= 1
        child[b] ^= 1
        new_cost = _level_cost(g, child, dist)
        if new_cost < cost - 1e-9:
            cost = new_cost
        else:
            child[a] ^= 1
            child[b] ^= 1
            share /= 2
    return child


def _sum_rows(matrix: FloatArray, labels: IntArray, num: int) -> FloatArray:
    """``out[i] = sum of matrix[x]`` over the ``x`` labelled ``i`` (-1: none)."""
    out = np.zeros((num, matrix.shape[1]))
    keep = np.flatnonzero(labels >= 0)
    order = keep[np.argsort(labels[keep], kind="stable")]
    if len(order):
        sorted_labels = labels[order]
        starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
        out[sorted_labels[starts]] = np.add.reduceat(matrix[order], starts, axis=0)
    return out


def _mean_hops(
    hops: FloatArray, rows: IntArray, num_rows: int, cols: IntArray, num_cols: int
) -> FloatArray:
    """Mean hops between the nodes of regions: ``out[i, j]`` over node pairs
    labelled ``i`` by ``rows`` and ``j`` by ``cols`` (node → region, -1: none)."""
    total = _sum_rows(_sum_rows(hops, rows, num_rows).T.copy(), cols, num_cols).T
    sizes = np.outer(
        np.bincount(rows[rows >= 0], minlength=num_rows),
        np.bincount(cols[cols >= 0], minlength=num_cols),
    )
    out: FloatArray = np.divide(total, sizes, out=np.zeros_like(total), where=sizes > 0)
    return out


def locality_partition(
    problem: AllocationProblem,
    seed: int = 0,
    *,
    passes: int = 8,
    budget: Budget | None = None,
) -> IntArray:
    """The dual-recursive-bisection assignment (qubit → node).

    Distances between regions are mean hops over their node pairs. Where a
    region of the network can be cut several ways (a grid region across
    either axis), each way is tried with the qubits' candidate orders and
    the cheapest pair wins, so that long qubit regions land on long node
    regions.
    """
    budget = budget or Budget(None, problem.time_budget_s)
    splitter = NodeSplitter(problem.topology, seed)
    rng = np.random.default_rng(seed)
    g = _Graph(problem)
    n, k = g.n, problem.num_nodes
    hops = problem.topology.distances().astype(np.float64)
    caps = splitter.caps
    group = np.zeros(n, dtype=np.int64)
    regions: dict[int, IntArray] = {0: np.arange(k, dtype=np.int64)}
    parent_of_node = np.zeros(k, dtype=np.int64)
    num_parents = 1
    while any(len(nodes) > 1 for nodes in regions.values()):
        size = 2 * num_parents
        options = {r: splitter.options(nodes) for r, nodes in regions.items()}
        orders = _Orders(g, group, rng)
        counts = np.bincount(group, minlength=num_parents)
        outside = group[g.src] != group[g.dst]
        out_src = g.src[outside]
        there = group[g.dst[outside]]
        here = 2 * group[out_src]
        best_cost = np.full(num_parents, np.inf)
        choice = np.zeros(num_parents, dtype=np.int64)
        side = np.zeros(n, dtype=np.int64)
        labels_by_option = []
        for j in range(max(len(o) for o in options.values())):
            child_of_node = np.full(k, -1, dtype=np.int64)
            first_caps = np.zeros(num_parents, dtype=np.int64)
            for r, opts in options.items():
                first, second = opts[min(j, len(opts) - 1)]
                child_of_node[first] = 2 * r
                child_of_node[second] = 2 * r + 1
                first_caps[r] = int(caps[first].sum())
            labels_by_option.append(child_of_node)
            to_parent = _mean_hops(hops, child_of_node, size, parent_of_node, num_parents)
            apart = _mean_hops(hops, child_of_node, size, child_of_node, size)
            apart_pairs = apart[np.arange(0, size, 2), np.arange(1, size, 2)]
            fill = np.minimum(first_caps, counts)
            # Outside pull: partners in other regions, by mean hops to theirs.
            delta = g.w[outside] * (to_parent[here, there] - to_parent[here + 1, there])
            pull = np.bincount(out_src, weights=delta, minlength=n)
            side_j, cost_j = orders.best_split(fill, pull.astype(np.float64), apart_pairs)
            better = cost_j < best_cost
            best_cost = np.where(better, cost_j, best_cost)
            choice = np.where(better, j, choice)
            side = np.where(better[group], side_j, side)
        child_of_node = np.stack(labels_by_option)[choice[parent_of_node], np.arange(k)]
        children: dict[int, IntArray] = {}
        for r, opts in options.items():
            for half, part in enumerate(opts[min(int(choice[r]), len(opts) - 1)]):
                if len(part):
                    children[2 * r + half] = part
        dist = _mean_hops(hops, child_of_node, size, child_of_node, size)
        group = _refine(g, 2 * group + side, dist, passes=passes, budget=budget)
        regions, parent_of_node, num_parents = children, child_of_node, size
    node_of_region = np.zeros(num_parents, dtype=np.int64)
    for r, nodes in regions.items():
        node_of_region[r] = nodes[0]
    result: IntArray = node_of_region[group]
    return result


class LocalityAllocator(BaseAllocator):
    """Dual recursive bisection of qubits and network (see the module docstring).

    Options: ``passes`` (exchange passes per level, default 8).
    """

    name: ClassVar[str] = "locality"
    OPTIONS: ClassVar[dict[str, Any]] = {"passes": 8}

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        passes = int(self.options["passes"])
        budget = Budget(None, problem.time_budget_s)
        part = locality_partition(problem, seed, passes=passes, budget=budget)
        return Allocation.static(part, notes={"passes": passes, **budget.notes()})
