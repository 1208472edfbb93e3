"""``greedy``: graph growing on the weighted interaction graph.

Nodes are filled one at a time (in breadth-first order, so on sparse networks
consecutive nodes are neighbours): start from the unplaced qubit with the most
interactions, then keep adding the unplaced qubit with the best gain (its
interaction weight with the node being filled minus its weight with
everything else), until the node is full. ``O(E log E)`` for ``E`` distinct
interacting pairs, so it runs at any scale.
"""

from __future__ import annotations

import heapq
from typing import ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._base import BaseAllocator, node_order

__all__ = ["GreedyAllocator", "grow_partition"]


def grow_partition(problem: AllocationProblem, seed: int = 0) -> np.ndarray:
    """The greedy graph-growing assignment (qubit → node)."""
    n = problem.num_qubits
    edges, weights = problem.gates.interaction_graph()
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    wts = np.concatenate([weights, weights]).astype(np.float64)
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    nbr = dst[order].tolist()
    nwt = wts[order].tolist()
    ptr = indptr.tolist()
    degree = np.bincount(src, weights=wts, minlength=n)
    deg = degree.tolist()
    rng = np.random.default_rng(seed)
    # Seeds: heaviest qubits first; ties broken at random (reproducibly).
    seeds = np.lexsort((rng.random(n), -degree)).tolist()
    assigned = [-1] * n
    score = [0.0] * n
    stamp = [-1] * n
    caps = problem.capacities.tolist()
    seed_pos = 0
    placed = 0
    for node in node_order(problem.topology):
        room = caps[node]
        heap: list[tuple[float, int]] = []
        while room > 0 and placed < n:
            q = -1
            while heap:
                s, cand = heapq.heappop(heap)
                if assigned[cand] < 0 and stamp[cand] == node and -s == 2 * score[cand] - deg[cand]:
                    q = cand
                    break
            if q < 0:
                while assigned[seeds[seed_pos]] >= 0:
                    seed_pos += 1
                q = seeds[seed_pos]
            assigned[q] = node
            placed += 1
            room -= 1
            for i in range(ptr[q], ptr[q + 1]):
                r = nbr[i]
                if assigned[r] >= 0:
                    continue
                if stamp[r] != node:
                    stamp[r] = node
                    score[r] = 0.0
                score[r] += nwt[i]
                heapq.heappush(heap, (deg[r] - 2 * score[r], r))
        if placed == n:
            break
    return np.asarray(assigned, dtype=np.int64)


class GreedyAllocator(BaseAllocator):
    """Graph growing: fill each node with the qubits most connected to it."""

    name: ClassVar[str] = "greedy"

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        return Allocation.static(grow_partition(problem, seed))
