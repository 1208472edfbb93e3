"""An incremental hypergraph cost engine used by the local-search allocators.

Vertices carry a node; each net has one *root* vertex and *leaf* vertices
(with multiplicities). A net costs ``weight * sum(D[node(root), p])`` over the
distinct nodes ``p`` holding at least one leaf, where ``D`` is the hop-distance
matrix (``D[x][x] == 0``). With the burst sides fixed, the net of a qubit
segment (root: the qubit, leaves: the partners it is cat-entangled with)
costs exactly the ebits of its bursts, so the engine measures allocations in
the cost model's own currency while allowing ``O(degree)`` updates.

On all-to-all networks ``D`` is 1 off the diagonal and costs reduce to
counting. Otherwise each net keeps ``reach[e][y] = sum(D[y][p])`` over its
occupied nodes ``p``, updated when a node becomes occupied or empty, so a
net's cost for any root node is one lookup.

Plain Python lists are used on purpose: the per-move work touches a handful
of small nets, where numpy's per-call overhead would dominate.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["NetState"]


class NetState:
    """Node assignment of vertices plus cached net costs.

    :param part: node of every vertex (copied).
    :param roots: root vertex of every net.
    :param leaves: leaf vertices of every net (repeats allowed).
    :param weights: weight of every net.
    :param dist: ``k x k`` hop distances between nodes.
    """

    def __init__(
        self,
        part: Sequence[int],
        roots: Sequence[int],
        leaves: Sequence[Sequence[int]],
        weights: Sequence[int],
        dist: Sequence[Sequence[int]],
    ) -> None:
        k = len(dist)
        self.k = k
        self.D = [list(map(int, row)) for row in dist]
        self.part = [int(x) for x in part]
        nv = len(self.part)
        self.root = [int(r) for r in roots]
        self.w = [int(x) for x in weights]
        self.leaf_nets: list[list[tuple[int, int]]] = [[] for _ in range(nv)]
        self.root_nets: list[list[int]] = [[] for _ in range(nv)]
        self.members: list[list[tuple[int, int]]] = []
        self.cnt: list[list[int]] = []
        for e, pins in enumerate(leaves):
            mult: dict[int, int] = {}
            for v in pins:
                mult[v] = mult.get(v, 0) + 1
            pairs = list(mult.items())
            self.members.append(pairs)
            counts = [0] * k
            for v, m in pairs:
                counts[self.part[v]] += m
                self.leaf_nets[v].append((e, m))
            self.cnt.append(counts)
            self.root_nets[self.root[e]].append(e)
        # On all-to-all networks every remote node is one hop away, which
        # makes gains a matter of counting (the common, fast case).
        self.uniform = all(self.D[x][y] == (0 if x == y else 1) for x in range(k) for y in range(k))
        self.reach: list[list[int]] = []
        if not self.uniform:
            for counts in self.cnt:
                acc = [0] * k
                for p in range(k):
                    if counts[p]:
                        row = self.D[p]
                        acc = [a + b for a, b in zip(acc, row, strict=True)]
                self.reach.append(acc)
        self.cost = [self._net_cost(e) for e in range(len(self.root))]
        self.total = sum(self.cost)
        self._journal: list[tuple[int, int]] = []
        self._saved: dict[int, int] = {}

    # ------------------------------------------------------------------ costs

    def _net_cost(self, e: int) -> int:
        r = self.part[self.root[e]]
        if self.uniform:
            counts = self.cnt[e]
            return self.w[e] * (self.k - counts.count(0) - (1 if counts[r] else 0))
        return self.w[e] * self.reach[e][r]

    def neighbours(self, v: int) -> set[int]:
        """Vertices sharing a net with ``v``."""
        out: set[int] = set()
        for e, _ in self.leaf_nets[v]:
            out.add(self.root[e])
            out.update(u for u, _ in self.members[e])
        for e in self.root_nets[v]:
            out.update(u for u, _ in self.members[e])
        out.discard(v)
        return out

    def gains(self, v: int) -> list[int]:
        """Cost decrease of moving ``v`` to each node (0 for its own node)."""
        k, part, cnt, weight, root = self.k, self.part, self.cnt, self.w, self.root
        x = part[v]
        out = [0] * k
        base = 0
        nodes = range(k)
        if self.uniform:
            for e, m in self.leaf_nets[v]:
                counts = cnt[e]
                r = part[root[e]]
                w = weight[e]
                if counts[x] == m and r != x:
                    base += w
                for y in nodes:
                    if not counts[y] and y != r:
                        out[y] -= w
            for e in self.root_nets[v]:
                counts = cnt[e]
                w = weight[e]
                here = w if counts[x] else 0
                for y in nodes:
                    if counts[y]:
                        out[y] += w - here
                    else:
                        out[y] -= here
        else:
            D, reach = self.D, self.reach
            for e, m in self.leaf_nets[v]:
                counts = cnt[e]
                row = D[part[root[e]]]
                w = weight[e]
                if counts[x] == m:
                    base += w * row[x]
                for y in nodes:
                    if not counts[y]:
                        out[y] -= w * row[y]
            for e in self.root_nets[v]:
                sums = reach[e]
                w = weight[e]
                here = sums[x]
                for y in nodes:
                    out[y] += w * (here - sums[y])
        for y in nodes:
            out[y] += base
        out[x] = 0
        return out

    def move_gain(self, v: int, y: int) -> int:
        """Cost decrease of moving ``v`` to node ``y``."""
        x = self.part[v]
        if x == y:
            return 0
        part, cnt, weight, root = self.part, self.cnt, self.w, self.root
        gain = 0
        if self.uniform:
            for e, m in self.leaf_nets[v]:
                counts = cnt[e]
                r = part[root[e]]
                if counts[x] == m and r != x:
                    gain += weight[e]
                if not counts[y] and r != y:
                    gain -= weight[e]
            for e in self.root_nets[v]:
                counts = cnt[e]
                gain += weight[e] * ((1 if counts[y] else 0) - (1 if counts[x] else 0))
            return gain
        D, reach = self.D, self.reach
        for e, m in self.leaf_nets[v]:
            counts = cnt[e]
            row = D[part[root[e]]]
            if counts[x] == m:
                gain += weight[e] * row[x]
            if not counts[y]:
                gain -= weight[e] * row[y]
        for e in self.root_nets[v]:
            sums = reach[e]
            gain += weight[e] * (sums[x] - sums[y])
        return gain

    # ----------------------------------------------------------------- moves

    def _shift(self, v: int, x: int, y: int) -> list[int]:
        """Move ``v``'s leaf counts from ``x`` to ``y``; return the touched nets."""
        cnt = self.cnt
        touched = []
        if self.uniform:
            for e, m in self.leaf_nets[v]:
                counts = cnt[e]
                counts[x] -= m
                counts[y] += m
                touched.append(e)
        else:
            D, reach = self.D, self.reach
            for e, m in self.leaf_nets[v]:
                counts = cnt[e]
                counts[x] -= m
                counts[y] += m
                if not counts[x]:
                    reach[e] = [a - b for a, b in zip(reach[e], D[x], strict=True)]
                if counts[y] == m:
                    reach[e] = [a + b for a, b in zip(reach[e], D[y], strict=True)]
                touched.append(e)
        touched.extend(self.root_nets[v])
        self.part[v] = y
        return touched

    def move(self, v: int, y: int) -> int:
        """Move ``v`` to ``y`` (journaled); return the cost change."""
        x = self.part[v]
        if x == y:
            return 0
        self._journal.append((v, x))
        saved = self._saved
        cost = self.cost
        delta = 0
        for e in self._shift(v, x, y):
            if e not in saved:
                saved[e] = cost[e]
            new = self._net_cost(e)
            delta += new - cost[e]
            cost[e] = new
        self.total += delta
        return delta

    def apply(self, changes: Sequence[tuple[int, int]]) -> int:
        """Move several vertices (journaled); return the total cost change."""
        return sum(self.move(v, y) for v, y in changes)

    def commit(self) -> None:
        """Forget the journal: the moves so far become permanent."""
        self._journal.clear()
        self._saved.clear()

    def rollback(self) -> None:
        """Undo every move since the last commit."""
        for v, x in reversed(self._journal):
            self._shift(v, self.part[v], x)
        for e, c in self._saved.items():
            self.total += c - self.cost[e]
            self.cost[e] = c
        self._journal.clear()
        self._saved.clear()

    def checkpoint(self) -> int:
        """A marker for :meth:`rollback_to` (the journal length)."""
        return len(self._journal)

    def rollback_to(self, mark: int) -> None:
        """Undo the moves made after ``mark`` (keeps earlier ones journaled)."""
        cost = self.cost
        while len(self._journal) > mark:
            v, x = self._journal.pop()
            for e in self._shift(v, self.part[v], x):
                new = self._net_cost(e)
                self.total += new - cost[e]
                cost[e] = new
