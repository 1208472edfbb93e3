"""An exact branch-and-bound search for small tree covers, without a MILP solver.

:func:`qdframe.cover.tree_cover` hands small instances here before it
imports ``scipy.optimize``: the problem is the one its module docstring
states (binary copies ``y[s, n]``; every remote gate served by a copy of one
side on the other's node or, detached, by copies of both on a third node;
a copy two or more hops from home hanging off a copy on a neighbour one hop
closer; at most ``capacity`` copies among the segments of each capacity
row; at most ``bound`` copies in all), and the answer is the same optimum.

The search is over sets of copies, as bitmasks (bit ``s * k + n``). At each
search node it takes the first unmet requirement, in a fixed order: a copy
without a parent, else a gate without a cover. Every cover that contains the
copies chosen so far meets that requirement by one of its options (a parent
on one of the nodes one hop closer; the copy on ``A``, the copy on ``B``, or
the two copies on one third node), so branching over the options loses no
cover. The options taken by earlier siblings are forbidden in later ones
when they are single copies (a cover holding one is found in that sibling),
which keeps the branches disjoint. Capacity and the bound only ever rule
out supersets, so a branch that breaks one is cut. A branch is also cut
when its copies plus a lower bound reach the best cover found: the number
of unmet requirements whose possible new copies are pairwise disjoint (each
of them needs a copy of its own).

The work is bounded by a count of search nodes, so the answer does not
depend on the machine's load; a search that runs out of them says so, and
the caller solves the instance with the MILP instead. A finished search is a
proof: of optimality, or that no cover within the bound and the capacity
exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_SEARCH_NODES", "MAX_COPY_VARIABLES", "SmallCover", "small_cover"]

IntArray = npt.NDArray[np.int64]

#: Instances with more possible copies (segments x non-home nodes) go to the MILP.
MAX_COPY_VARIABLES = 64
#: Search nodes the branch and bound may visit before it gives up.
DEFAULT_SEARCH_NODES = 5000


@dataclass(frozen=True)
class SmallCover:
    """The outcome of :func:`small_cover`.

    ``status`` is ``"optimal"`` (``copies`` is a cheapest cover, a boolean
    ``(segments, nodes)`` table), ``"infeasible"`` (proved: no cover meets
    the bound and the capacity) or ``"budget"`` (the search ran out of nodes
    and proved nothing). ``nodes`` is the number of search nodes visited.
    """

    status: str
    copies: npt.NDArray[np.bool_] | None
    nodes: int


class _OutOfNodes(Exception):
    pass


def small_cover(
    k: int,
    dist: IntArray,
    edges: IntArray,
    home: IntArray,
    la: IntArray,
    lb: IntArray,
    na: IntArray,
    nb: IntArray,
    *,
    detached: bool,
    tree: bool,
    capacity_rows: Sequence[tuple[IntArray, float]] = (),
    bound: int | None = None,
    max_nodes: int = DEFAULT_SEARCH_NODES,
) -> SmallCover:
    """The cheapest set of copies for the remote gates ``g`` between local
    segment ``la[g]`` (home ``na[g]``) and ``lb[g]`` (home ``nb[g]``).

    :param k: nodes of the network; ``dist`` its hop distances and ``edges``
        its links (pairs of nodes).
    :param home: each segment's node.
    :param detached: allow gates on a third node.
    :param tree: require every copy two or more hops from home to hang off a
        copy one hop closer (not needed on all-to-all networks).
    :param capacity_rows: ``(variables, limit)``: at most ``limit`` of the
        copies ``variables`` (indices ``s * k + n``) at once.
    :param bound: at most this many copies.
    :param max_nodes: search nodes before the search gives up.
    """
    num_seg = len(home)
    num_gates = len(la)
    full = (1 << (num_seg * k)) - 1

    # Gate options: the copy of b's segment on A, of a's segment on B, and
    # the pairs of copies on every third node.
    gate_a = [int(lb[g]) * k + int(na[g]) for g in range(num_gates)]
    gate_b = [int(la[g]) * k + int(nb[g]) for g in range(num_gates)]
    gate_pairs: list[list[int]] = []
    for g in range(num_gates):
        pairs = []
        if detached:
            for x in range(k):
                if x != na[g] and x != nb[g]:
                    pairs.append((1 << (int(la[g]) * k + x)) | (1 << (int(lb[g]) * k + x)))
        gate_pairs.append(pairs)

    # Parents: for a copy two or more hops from home, the copies it may hang off.
    parents: dict[int, list[int]] = {}
    if tree:
        neighbours: list[list[int]] = [[] for _ in range(k)]
        for u, v in edges.tolist():
            neighbours[u].append(v)
            neighbours[v].append(u)
        for s in range(num_seg):
            h = int(home[s])
            for n in range(k):
                if dist[h, n] >= 2:
                    parents[s * k + n] = [
                        s * k + m
                        for m in sorted(set(neighbours[n]))
                        if dist[h, m] == dist[h, n] - 1
                    ]
    home_mask = 0
    for s in range(num_seg):
        home_mask |= 1 << (s * k + int(home[s]))

    rows = [(_mask(variables), int(limit)) for variables, limit in capacity_rows]
    rows_of: dict[int, list[int]] = {}
    for index, (mask, _) in enumerate(rows):
        for v in _bits(mask):
            rows_of.setdefault(v, []).append(index)

    best_cost = (bound + 1) if bound is not None else num_seg * k + 1
    best_mask: int | None = None
    visited = 0

    def fits(chosen: int, new: int) -> bool:
        for v in _bits(new):
            for index in rows_of.get(v, ()):
                mask, limit = rows[index]
                if (chosen & mask).bit_count() > limit:
                    return False
        return True

    def requirements(chosen: int, forbidden: int) -> tuple[list[int], int] | None:
        """Options (masks of copies) of the first unmet requirement, and a
        lower bound on the copies still needed; ``None`` when a requirement
        has no option left; ``([], 0)`` when every requirement is met."""
        first: list[int] | None = None
        needed = 0
        touched = 0
        allowed = ~forbidden & full
        for v in _bits(chosen):
            options = parents.get(v)
            if options is None:
                continue
            if any(chosen >> m & 1 for m in options):
                continue
            union = 0
            for m in options:
                union |= 1 << m
            union &= allowed
            if not union:
                return None
            choices = [1 << m for m in options if not forbidden >> m & 1]
            if first is None or len(choices) < len(first):
                first = choices
            if not union & touched:
                needed += 1
                touched |= union
        for g in range(num_gates):
            one, two = 1 << gate_a[g], 1 << gate_b[g]
            if chosen & (one | two):
                continue
            pairs = gate_pairs[g]
            if any(chosen & p == p for p in pairs):
                continue
            union = (one | two) & allowed
            for p in pairs:
                if not p & forbidden:
                    union |= p & ~chosen
            if not union:
                return None
            choices = [o for o in (one, two, *pairs) if not o & forbidden]
            if first is None or len(choices) < len(first):
                first = choices
            if not union & touched:
                needed += 1
                touched |= union
        return (first or []), needed

    def search(chosen: int, forbidden: int, cost: int) -> None:
        nonlocal visited, best_cost, best_mask
        visited += 1
        if visited > max_nodes:
            raise _OutOfNodes
        found = requirements(chosen, forbidden)
        if found is None:
            return
        options, needed = found
        if cost + needed >= best_cost:
            return
        if not options:
            best_cost, best_mask = cost, chosen
            return
        for option in options:
            new = option & ~chosen
            if new & forbidden:
                continue
            after = chosen | new
            if fits(after, new):
                search(after, forbidden, cost + new.bit_count())
                if best_cost <= cost + 1:
                    return  # no cheaper cover can come from a sibling
            if new.bit_count() == 1:
                forbidden |= new

    try:
        search(0, home_mask, 0)
    except _OutOfNodes:
        return SmallCover("budget", None, visited)
    if best_mask is None:
        return SmallCover("infeasible", None, visited)
    copies = np.zeros(num_seg * k, dtype=bool)
    copies[list(_bits(best_mask))] = True
    return SmallCover("optimal", copies.reshape(num_seg, k), visited)


def _mask(variables: IntArray) -> int:
    mask = 0
    for v in np.asarray(variables).tolist():
        mask |= 1 << int(v)
    return mask


def _bits(mask: int) -> list[int]:
    """The indices of the set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
