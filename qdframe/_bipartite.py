"""Minimum vertex covers of small bipartite graphs, in plain Python.

:func:`qdframe.cost.evaluate` needs, for the graph of possible bursts, the
two König covers (from either side) and the connected components. The scipy
route builds several sparse matrices per call, which costs more than the
whole answer on the graphs of tens of edges that small circuits and every
allocator move produce; up to :data:`SMALL_EDGES` edges these functions give
the same answer directly.

The answer does not depend on which maximum matching is found: the vertices
reachable from unmatched vertices of one side by alternating paths are the
same for every maximum matching (the Gallai-Edmonds / Dulmage-Mendelsohn
decomposition), so this module and scipy's Hopcroft-Karp agree exactly.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

__all__ = ["SMALL_EDGES", "small_covers"]

#: Graphs of at most this many edges, repeats included (the remote gates of a
#: cost evaluation), take the plain-Python route.
SMALL_EDGES = 2000

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def small_covers(
    left: IntArray, right: IntArray, n_left: int, n_right: int
) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray, IntArray]:
    """König covers of the graph with edges ``(left[i], right[i])``.

    :returns: ``(cover_l1, cover_r1, cover_l2, cover_r2, component)``: the
        cover built from the left side's unmatched vertices, the one built
        from the right side's, and the connected component of every vertex
        (left vertices first, then right ones), numbered in order of first
        appearance.
    """
    adj_l: list[list[int]] = [[] for _ in range(n_left)]
    adj_r: list[list[int]] = [[] for _ in range(n_right)]
    for u, v in zip(left.tolist(), right.tolist(), strict=True):
        adj_l[u].append(v)
        adj_r[v].append(u)
    match_l, match_r = _maximum_matching(adj_l, n_right)
    reached_l, reached_r = _alternating_reach(adj_l, match_l, match_r)
    cover_l1 = ~reached_l
    cover_r1 = reached_r
    reached_r2, reached_l2 = _alternating_reach(adj_r, match_r, match_l)
    cover_r2 = ~reached_r2
    cover_l2 = reached_l2
    return cover_l1, cover_r1, cover_l2, cover_r2, _components(adj_l, adj_r)


def _maximum_matching(adj_l: list[list[int]], n_right: int) -> tuple[list[int], list[int]]:
    """A maximum matching by augmenting paths (iterative, no recursion limit)."""
    n_left = len(adj_l)
    match_l = [-1] * n_left
    match_r = [-1] * n_right
    for start in range(n_left):
        # Breadth-first search for an augmenting path from ``start``.
        parent_r = {}
        queue = deque([start])
        end = -1
        while queue and end < 0:
            u = queue.popleft()
            for v in adj_l[u]:
                if v in parent_r:
                    continue
                parent_r[v] = u
                if match_r[v] < 0:
                    end = v
                    break
                queue.append(match_r[v])
        while end >= 0:  # flip the path
            u = parent_r[end]
            previous = match_l[u]
            match_l[u] = end
            match_r[end] = u
            end = previous
    return match_l, match_r


def _alternating_reach(
    adj_from: list[list[int]], match_from: list[int], match_to: list[int]
) -> tuple[BoolArray, BoolArray]:
    """Vertices reachable from unmatched ``from`` vertices: any edge forward,
    matching edges back."""
    reached_from = np.zeros(len(adj_from), dtype=bool)
    reached_to = np.zeros(len(match_to), dtype=bool)
    queue = deque(u for u, m in enumerate(match_from) if m < 0)
    for u in queue:
        reached_from[u] = True
    while queue:
        u = queue.popleft()
        for v in adj_from[u]:
            if reached_to[v]:
                continue
            reached_to[v] = True
            w = match_to[v]
            if w >= 0 and not reached_from[w]:
                reached_from[w] = True
                queue.append(w)
    return reached_from, reached_to


def _components(adj_l: list[list[int]], adj_r: list[list[int]]) -> IntArray:
    n_left = len(adj_l)
    component = np.full(n_left + len(adj_r), -1, dtype=np.int64)
    count = 0
    for root in range(len(component)):
        if component[root] >= 0:
            continue
        component[root] = count
        stack = [root]
        while stack:
            x = stack.pop()
            neighbours = [n_left + v for v in adj_l[x]] if x < n_left else adj_r[x - n_left]
            for y in neighbours:
                if component[y] < 0:
                    component[y] = count
                    stack.append(y)
        count += 1
    return component
