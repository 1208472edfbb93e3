"""Search over time-sliced allocations (qubits may be teleported between slices).

The model follows Andres-Martinez & Heunen (2019), sliced in time: a vertex
per (slice, qubit), a vertex per two-qubit gate, and a net per qubit segment
(root: the qubit's vertex when the segment starts; leaves: the segment's
gates, plus the qubit's own vertices in later slices). A gate placed on the
node of one of its qubits means the other qubit is cat-entangled there, so a
net costs exactly the ebits of its bursts. A two-pin *migration net* joins each
qubit's vertices in consecutive slices (a teleportation costs its hops).

Free slots are padded with gate-less placeholder qubits, so every node is
full in every slice and every change is an *exchange* of two qubits' nodes,
which keeps each slice within capacity by construction. After qubits move,
the gates around them are re-placed greedily (a burst left with one gate may
hand it to a burst that is open anyway), which tracks the exact cost model's
optimal choice closely.

The main move swaps the futures of two qubits from slice ``t`` on. It is
scored on a look-ahead window (the boundary at the end of the window is
priced as it would be for the whole future) and the best improving exchange
is applied for the whole future; sweeping ``t`` forward builds a schedule of
teleportations like a model-predictive controller.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qdframe.plugin import AllocationProblem
from qdframe_allocators._base import Budget
from qdframe_allocators._nets import NetState

__all__ = ["TemporalSearch", "choose_slices"]

IntArray = npt.NDArray[np.int64]


def choose_slices(problem: AllocationProblem, min_pairs: int) -> tuple[IntArray, IntArray]:
    """Slice starts (gate rows) and the slice of every two-qubit gate.

    A slice is a run of consecutive as-soon-as-possible layers holding at
    least ``min_pairs`` two-qubit gates. Rows out of layer order (possible for
    hand-built gate arrays) simply start slices where the count is reached.
    """
    gates = problem.gates
    layers = gates.layers().tolist()
    is_pair = gates.is_pair.tolist()
    starts = [0]
    count = 0
    previous = layers[0] if layers else 0
    for row, layer in enumerate(layers):
        if layer != previous and count >= min_pairs:
            starts.append(row)
            count = 0
        previous = layer
        count += is_pair[row]
    slice_starts = np.asarray(starts, dtype=np.int64)
    gate_slice = np.searchsorted(slice_starts, gates.pair_rows, side="right") - 1
    return slice_starts, gate_slice.astype(np.int64)


class TemporalSearch:
    """The time-sliced gate/qubit model and the exchange moves on it.

    :param assignment: ``(num_slices, num_qubits)`` starting nodes.
    :param gate_side: per two-qubit gate, which qubit is cat-entangled (0 or 1)
        when remote; decides the starting gate placement.
    """

    def __init__(
        self,
        problem: AllocationProblem,
        gate_slice: IntArray,
        num_slices: int,
        assignment: npt.NDArray[np.int64],
        gate_side: IntArray,
        seg_a: IntArray,
        seg_b: IntArray,
        dist: list[list[int]],
        *,
        teleport_weight: int = 1,
    ) -> None:
        n = problem.num_qubits
        caps = problem.capacities
        spare = int(caps.sum()) - n
        T = num_slices
        N = n + spare  # one placeholder qubit per free slot
        self.n, self.T, self.N = n, T, N
        self.dist = dist
        padded = np.empty((T, N), dtype=np.int64)
        padded[:, :n] = assignment
        if spare:
            for t in range(T):
                used = np.bincount(assignment[t], minlength=len(caps))
                padded[t, n:] = np.repeat(np.arange(len(caps)), caps - used)
        gates = problem.gates
        rows = gates.pair_rows
        a = gates.qubits[rows, 0].astype(np.int64)
        b = gates.qubits[rows, 1].astype(np.int64)
        G = len(rows)
        base = T * N
        self.base = base
        va = gate_slice * N + a
        vb = gate_slice * N + b
        node_a = padded.ravel()[va]
        node_b = padded.ravel()[vb]
        # Side 0: qubit a is linked into b's node, i.e. the gate runs there.
        gate_node = np.where(gate_side == 0, node_b, node_a)
        part = padded.ravel().tolist() + gate_node.tolist()

        # Segment nets, one per (qubit, segment) holding gates.
        seg = np.concatenate([seg_a, seg_b])
        qubit = np.concatenate([a, b])
        tslice = np.concatenate([gate_slice, gate_slice])
        gate_id = np.concatenate([np.arange(G), np.arange(G)])
        order = np.lexsort((tslice, seg))
        seg_sorted = seg[order]
        starts = (
            np.flatnonzero(np.r_[True, seg_sorted[1:] != seg_sorted[:-1]]).tolist()
            if len(order)
            else []
        )
        ends = [*starts[1:], len(order)]
        q_sorted = qubit[order].tolist()
        t_sorted = tslice[order].tolist()
        g_sorted = gate_id[order].tolist()
        roots: list[int] = []
        leaves: list[list[int]] = []
        weights: list[int] = []
        self.gate_nets: list[list[int]] = [[] for _ in range(G)]
        self.net_gates: list[list[int]] = []
        for s, e in zip(starts, ends, strict=True):
            q = q_sorted[s]
            first = t_sorted[s] * N + q
            members = g_sorted[s:e]
            later = sorted({t_sorted[i] * N + q for i in range(s, e)} - {first})
            net = len(roots)
            roots.append(first)
            leaves.append([base + g for g in members] + later)
            weights.append(1)
            self.net_gates.append(members)
            for g in members:
                self.gate_nets[g].append(net)
        for t in range(1, T):
            for q in range(n):
                roots.append((t - 1) * N + q)
                leaves.append([t * N + q])
                weights.append(teleport_weight)
                self.net_gates.append([])
        self.state = NetState(part, roots, leaves, weights, dist)
        self.gate_ends = list(zip(va.tolist(), vb.tolist(), strict=True))
        self.gates_at: dict[int, list[int]] = {}
        for g, (x, y) in enumerate(self.gate_ends):
            self.gates_at.setdefault(x, []).append(g)
            self.gates_at.setdefault(y, []).append(g)
        self.pairs: list[list[tuple[int, int]]] = [[] for _ in range(T)]
        for s_, x, y in zip(gate_slice.tolist(), a.tolist(), b.tolist(), strict=True):
            self.pairs[s_].append((x, y))

    # --------------------------------------------------------------- queries

    def assignment(self) -> npt.NDArray[np.int64]:
        table = np.asarray(self.state.part[: self.base], dtype=np.int64).reshape(self.T, self.N)
        return table[:, : self.n].copy()

    def node(self, t: int, q: int) -> int:
        return self.state.part[t * self.N + q]

    # ----------------------------------------------------------------- moves

    def place_gates(self, gates: Sequence[int], budget: int | None = None) -> int:
        """Greedily re-place gates on the better of their qubits' nodes."""
        state, part, base = self.state, self.state.part, self.base
        delta = 0
        queue = list(dict.fromkeys(gates))
        queued = set(queue)
        steps = 0
        limit = budget if budget is not None else 4 * len(queue) + 16
        while queue and steps < limit:
            g = queue.pop()
            queued.discard(g)
            steps += 1
            v = base + g
            x = part[v]
            ya, yb = part[self.gate_ends[g][0]], part[self.gate_ends[g][1]]
            best_y, best_gain = x, 0
            for y in (ya, yb):
                if y != x:
                    gain = state.move_gain(v, y)
                    if gain > best_gain:
                        best_y, best_gain = y, gain
            if best_y != x:
                delta += state.move(v, best_y)
                for net in self.gate_nets[g]:
                    for h in self.net_gates[net]:
                        if h != g and h not in queued:
                            queued.add(h)
                            queue.append(h)
        return delta

    def exchange(self, q1: int, q2: int, t0: int, t1: int) -> int:
        """Swap the nodes of ``q1`` and ``q2`` in slices ``t0 .. t1`` (journaled,
        not committed) and re-place their gates; return the cost change."""
        part, N, state = self.state.part, self.N, self.state
        delta = 0
        touched: list[int] = []
        gates_at = self.gates_at
        for t in range(t0, t1 + 1):
            v1, v2 = t * N + q1, t * N + q2
            x1, x2 = part[v1], part[v2]
            if x1 != x2:
                delta += state.move(v1, x2)
                delta += state.move(v2, x1)
                touched.extend(gates_at.get(v1, ()))
                touched.extend(gates_at.get(v2, ()))
        if touched:
            delta += self.place_gates(touched)
        return delta

    def scoreexchange(self, q1: int, q2: int, t0: int, window: int) -> int:
        """Estimated cost change of swapping the futures of ``q1`` and ``q2`` from ``t0``."""
        t1 = min(self.T - 1, t0 + window)
        state = self.state
        mark = state.checkpoint()
        delta = self.exchange(q1, q2, t0, t1)
        if t1 + 1 < self.T:
            # The window leaves q1 on q2's node at t1 followed by its own
            # next node; over the whole future it would follow q2's path.
            N, D, part, n = self.N, self.dist, state.part, self.n
            o1, o2 = part[t1 * N + q1], part[t1 * N + q2]  # already exchanged
            n1, n2 = part[(t1 + 1) * N + q1], part[(t1 + 1) * N + q2]
            windowed = (D[o1][n1] if q1 < n else 0) + (D[o2][n2] if q2 < n else 0)
            whole = (D[o1][n2] if q1 < n else 0) + (D[o2][n1] if q2 < n else 0)
            delta -= windowed - whole
        state.rollback_to(mark)
        return delta

    def applyexchange(self, q1: int, q2: int, t0: int, t1: int | None = None) -> int:
        delta = self.exchange(q1, q2, t0, self.T - 1 if t1 is None else t1)
        self.state.commit()
        return delta

    # ---------------------------------------------------------------- search

    def _candidates(self, t: int, lookahead: int, per_side: int) -> set[tuple[int, int]]:
        """Exchanges that could make a remote gate of slices ``t .. t + lookahead`` local."""
        state, N, n = self.state, self.N, self.n
        part = state.part
        base = t * N
        row = part[base : base + N]
        by_node: dict[int, list[int]] = {}
        for q, x in enumerate(row):
            by_node.setdefault(x, []).append(q)
        horizon = min(self.T - 1, t + lookahead)
        out: set[tuple[int, int]] = set()
        for s in range(t, horizon + 1):
            sbase = s * N
            for a, b in self.pairs[s]:
                if part[sbase + a] == part[sbase + b]:
                    continue
                for mover, other in ((a, b), (b, a)):
                    src, dest = row[mover], row[other]
                    if src == dest:
                        continue
                    scored = []
                    seen_placeholder = False
                    for c in by_node.get(dest, ()):
                        if c == other:
                            continue
                        if c >= n:
                            if not seen_placeholder:
                                seen_placeholder = True
                                scored.append((0, c))
                            continue
                        gain = 0
                        for u in range(t, horizon + 1):
                            gain += state.move_gain(u * N + c, src)
                        scored.append((gain, c))
                    scored.sort(reverse=True)
                    for _, c in scored[:per_side]:
                        out.add((mover, c) if mover < c else (c, mover))
        return out

    def sweep(
        self,
        window: int,
        budget: Budget,
        *,
        per_side: int = 3,
        lookahead: int = 2,
        max_moves_per_slice: int = 64,
        slices: Sequence[int] | None = None,
    ) -> int:
        """One forward pass; returns the number of exchanges applied.

        Each scored exchange spends one unit of ``budget``.
        """
        applied = 0
        for t in slices if slices is not None else range(self.T):
            for _ in range(max_moves_per_slice):
                best, best_pair = 0, None
                for q1, q2 in sorted(self._candidates(t, lookahead, per_side)):
                    if budget.expired():
                        break
                    budget.spend()
                    d = self.scoreexchange(q1, q2, t, window)
                    if d < best:
                        best, best_pair = d, (q1, q2)
                if best_pair is None:
                    break
                self.applyexchange(best_pair[0], best_pair[1], t)
                applied += 1
                if budget.expired():
                    break
            if budget.expired():
                break
        return applied
