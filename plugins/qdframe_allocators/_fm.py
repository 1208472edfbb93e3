"""k-way Fiduccia-Mattheyses refinement and multilevel coarsening on net models.

``fm_refine`` runs FM passes on a :class:`NetState`: every vertex moves at
most once per pass, always the best move available (even a losing one, so the
search climbs out of local minima); a node may hold ``slack`` weight above its
capacity during a pass, while the pass remembers the best state that fits and
returns to it. ``multilevel_partition`` contracts strongly connected vertices
(heavy-edge matching) level by level, partitions the coarsest hypergraph from
several starts and refines while projecting back.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qdframe_allocators._base import Budget
from qdframe_allocators._nets import NetState

__all__ = ["Level", "fm_refine", "initial_fill", "multilevel_partition"]


def _loads(part: Sequence[int], weight: Sequence[int], k: int) -> list[int]:
    loads = [0] * k
    for v, x in enumerate(part):
        loads[x] += weight[v]
    return loads


def fm_refine(
    state: NetState,
    weight: Sequence[int],
    caps: Sequence[int],
    rng: np.random.Generator,
    *,
    max_passes: int = 10,
    slack: int = 1,
    budget: Budget | None = None,
    movable: Sequence[int] | None = None,
) -> int:
    """Improve ``state`` in place with FM passes; return the cost gained.

    Each tentative move spends one unit of ``budget``; passes stop when one
    gains nothing (converged), after ``max_passes``, or when the budget ends.
    """
    start_total = state.total
    k = state.k
    nv = len(state.part)
    candidates = list(range(nv)) if movable is None else list(movable)
    for _ in range(max_passes):
        if budget is not None and budget.expired():
            break
        before = state.total
        _fm_pass(state, weight, caps, rng, slack, candidates, k, nv, budget)
        if state.total >= before:
            break
    return start_total - state.total


def _fm_pass(
    state: NetState,
    weight: Sequence[int],
    caps: Sequence[int],
    rng: np.random.Generator,
    slack: int,
    candidates: list[int],
    k: int,
    nv: int,
    budget: Budget | None,
) -> None:
    part = state.part
    loads = _loads(part, weight, k)
    over = sum(1 for p in range(k) if loads[p] > caps[p])
    locked = [False] * nv
    version = [0] * nv
    gains: dict[int, list[int]] = {}
    heap: list[tuple[int, float, int, int, int]] = []
    noise = rng.random(nv).tolist()

    def best_target(v: int) -> tuple[int, int]:
        g = gains[v]
        x = part[v]
        wv = weight[v]
        best_y, best_g = -1, -(1 << 60)
        for y in range(k):
            if y == x or loads[y] + wv > caps[y] + slack:
                continue
            gy = g[y]
            if gy > best_g or (gy == best_g and loads[y] < loads[best_y]):
                best_y, best_g = y, gy
        return best_y, best_g

    def push(v: int) -> None:
        gains[v] = state.gains(v)
        version[v] += 1
        y, g = best_target(v)
        if y >= 0:
            heapq.heappush(heap, (-g, noise[v], v, y, version[v]))

    for v in candidates:
        push(v)
    state.commit()
    best_total = state.total if over == 0 else None
    best_mark = 0
    since_best = 0
    limit = max(50, len(candidates) // 3)
    deferred: list[tuple[int, float, int, int, int]] = []
    while heap:
        entry = heapq.heappop(heap)
        _, _, v, y, ver = entry
        if locked[v] or ver != version[v]:
            continue
        x = part[v]
        if over and loads[x] <= caps[x]:
            # While some node is over capacity, only moves out of one help.
            deferred.append(entry)
            if not heap:
                break
            continue
        if loads[y] + weight[v] > caps[y] + slack:
            y2, g2 = best_target(v)
            if y2 >= 0:
                heapq.heappush(heap, (-g2, noise[v], v, y2, version[v]))
            continue
        state.move(v, y)
        locked[v] = True
        if budget is not None:
            budget.spend()
        was_over_x, was_over_y = loads[x] > caps[x], loads[y] > caps[y]
        loads[x] -= weight[v]
        loads[y] += weight[v]
        over += (loads[x] > caps[x]) - was_over_x + (loads[y] > caps[y]) - was_over_y
        if over == 0:
            if best_total is None or state.total < best_total:
                best_total = state.total
                best_mark = state.checkpoint()
                since_best = 0
            else:
                since_best += 1
            if deferred:
                for item in deferred:
                    heapq.heappush(heap, item)
                deferred.clear()
        else:
            since_best += 1
        if since_best > limit or (budget is not None and budget.expired()):
            break
        for u in state.neighbours(v):
            if not locked[u]:
                push(u)
    if best_total is None:
        # Never feasible in this pass (cannot happen when the start fits).
        state.rollback()
    else:
        state.rollback_to(best_mark)
    state.commit()


def initial_fill(
    weight: Sequence[int], caps: Sequence[int], rng: np.random.Generator
) -> list[int] | None:
    """A random assignment that fits (first fit, heaviest vertices first)."""
    nv = len(weight)
    order = sorted(range(nv), key=lambda v: (-weight[v], rng.random()))
    room = list(caps)
    k = len(caps)
    part = [0] * nv
    for v in order:
        start = int(rng.integers(k))
        for step in range(k):
            y = (start + step) % k
            if room[y] >= weight[v]:
                part[v] = y
                room[y] -= weight[v]
                break
        else:
            return None
    return part


@dataclass
class Level:
    """One level of the hierarchy: nets over its vertices and their weights."""

    roots: list[int]
    leaves: list[list[int]]
    weights: list[int]
    vertex_weight: list[int]
    parent: list[int] | None = None  # finer vertex -> this level's vertex


def _coarsen(level: Level, rng: np.random.Generator, max_weight: int) -> Level | None:
    """Heavy-edge matching: pair each vertex with its most connected neighbour."""
    nv = len(level.vertex_weight)
    rating: list[dict[int, float]] = [{} for _ in range(nv)]
    for root, pins, w in zip(level.roots, level.leaves, level.weights, strict=True):
        share = w / max(1, len(pins))
        for u in pins:
            if u == root:
                continue
            rating[root][u] = rating[root].get(u, 0.0) + share
            rating[u][root] = rating[u].get(root, 0.0) + share
    match = [-1] * nv
    vw = level.vertex_weight
    for v in rng.permutation(nv).tolist():
        if match[v] >= 0:
            continue
        best, best_r = -1, 0.0
        for u, r in rating[v].items():
            if match[u] < 0 and u != v and vw[u] + vw[v] <= max_weight:
                score = r / (vw[u] * vw[v])
                if score > best_r:
                    best, best_r = u, score
        match[v] = best if best >= 0 else v
        if best >= 0:
            match[best] = v
    parent = [-1] * nv
    count = 0
    for v in range(nv):
        if parent[v] < 0:
            parent[v] = count
            if match[v] != v:
                parent[match[v]] = count
            count += 1
    if count > 0.9 * nv:
        return None
    coarse_w = [0] * count
    for v in range(nv):
        coarse_w[parent[v]] += vw[v]
    roots: list[int] = []
    leaves: list[list[int]] = []
    weights: list[int] = []
    for root, pins, w in zip(level.roots, level.leaves, level.weights, strict=True):
        r = parent[root]
        mapped = [parent[u] for u in pins if parent[u] != r]
        if mapped:
            roots.append(r)
            leaves.append(mapped)
            weights.append(w)
    return Level(roots, leaves, weights, coarse_w, parent)


def multilevel_partition(
    base: Level,
    dist: list[list[int]],
    caps: Sequence[int],
    rng: np.random.Generator,
    *,
    budget: Budget,
    starts: int = 4,
    start_part: list[int] | None = None,
) -> list[int]:
    """Partition ``base`` with capacities ``caps`` by multilevel FM."""
    k = len(caps)
    positive = [c for c in caps if c > 0]
    max_weight = max(1, min(positive) // 2) if positive else 1
    levels = [base]
    if start_part is None:
        while len(levels[-1].vertex_weight) > max(2 * k, 12) and len(levels) < 12:
            coarser = _coarsen(levels[-1], rng, max_weight)
            if coarser is None:
                break
            levels.append(coarser)
    part: list[int] | None = start_part
    while part is None and levels:
        top = levels[-1]
        best: tuple[int, list[int]] | None = None
        for _ in range(max(1, starts)):
            fill = initial_fill(top.vertex_weight, caps, rng)
            if fill is None:
                break
            state = NetState(fill, top.roots, top.leaves, top.weights, dist)
            fm_refine(state, top.vertex_weight, caps, rng, slack=max_weight, budget=budget)
            if best is None or state.total < best[0]:
                best = (state.total, list(state.part))
            if budget.expired():
                break
        if best is None:
            levels.pop()  # too coarse to fit: start one level finer
            continue
        part = best[1]
    assert part is not None
    for i in range(len(levels) - 1, 0, -1):
        parent = levels[i].parent
        assert parent is not None
        part = [part[parent[v]] for v in range(len(parent))]
        finer = levels[i - 1]
        state = NetState(part, finer.roots, finer.leaves, finer.weights, dist)
        slack = max(finer.vertex_weight)
        fm_refine(state, finer.vertex_weight, caps, rng, slack=slack, budget=budget)
        part = state.part
    if len(levels) == 1 and start_part is not None:
        state = NetState(part, base.roots, base.leaves, base.weights, dist)
        fm_refine(state, base.vertex_weight, caps, rng, slack=1, budget=budget)
        part = state.part
    return part
