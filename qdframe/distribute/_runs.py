"""Grouping a burst's gates into runs that are emitted together.

Every gate of a burst is diagonal on the burst qubit, and the burst qubit has
only diagonal operations while the burst lasts (a non-diagonal one ends its
segment). A gate of the burst may therefore move, earlier or later, to any
point where its *partner* qubit has no operation in between that fails to
commute with it: a non-diagonal single-qubit gate, a measurement or a
teleportation ("blocking events"). Everything else on the partner is a
diagonal gate, which commutes with it. Each gate thus has a window of
positions between the partner's blocking events around it.

A *run* is a set of gates of one burst emitted together at the position of
one of them. Choosing the fewest runs is interval stabbing: take the gate
whose window closes first, emit it together with every gate whose window
contains the latest burst gate position still inside that window, repeat.
Fewer, later runs keep a burst open for less time, which is what lets
bursts share the few communication qubits a node has.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qdframe.allocation import Allocation, GateArray
from qdframe.cost import Bursts

__all__ = ["BurstRuns", "burst_runs"]

IntArray = npt.NDArray[np.int64]

_NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class BurstRuns:
    """Runs of every burst.

    Burst ``b`` has runs ``run_ptr[b] .. run_ptr[b + 1] - 1`` in the order they
    are emitted; run ``r`` is emitted when the walk reaches gate row
    ``head[r]`` and carries the gate rows ``members[member_ptr[r] :
    member_ptr[r + 1]]`` (ascending).
    """

    run_ptr: IntArray
    head: IntArray
    member_ptr: IntArray
    members: IntArray

    @property
    def num_runs(self) -> int:
        return len(self.head)


def _blocking_keys(gates: GateArray, allocation: Allocation, positions: IntArray) -> IntArray:
    """Sorted ``qubit * span + 2 * position`` keys of every blocking event.

    A break row (non-diagonal single-qubit row) of qubit ``q`` at position
    ``p`` has key ``2p``; a teleportation of ``q`` before position ``p`` has
    key ``2p - 1``, so it lies between the gates before and at ``p``.
    """
    span = 2 * (int(positions.max(initial=0)) + 2)
    breaks = np.flatnonzero(~gates.is_pair)
    keys = [gates.qubits[breaks, 0].astype(np.int64) * span + 2 * positions[breaks]]
    moves = allocation.migrations()
    if len(moves):
        keys.append(moves.qubit * span + 2 * positions[moves.before_gate] - 1)
    merged = np.concatenate(keys)
    merged.sort()
    return merged


def _windows(
    gates: GateArray, allocation: Allocation, bursts: Bursts, positions: IntArray
) -> tuple[IntArray, IntArray]:
    """Open window ``(lo, hi)`` of every burst gate, in doubled positions."""
    rows = bursts.gate_rows
    counts = np.diff(bursts.gate_ptr)
    span = 2 * (int(positions.max(initial=0)) + 2)
    qubit_of_burst = np.repeat(bursts.qubit, counts)
    pair = gates.qubits[rows].astype(np.int64)
    partner = np.where(pair[:, 0] == qubit_of_burst, pair[:, 1], pair[:, 0])
    doubled = 2 * positions[rows]
    keys = _blocking_keys(gates, allocation, positions)
    key = partner * span + doubled
    if not len(keys):
        return np.full(len(rows), -1, dtype=np.int64), np.full(len(rows), _NEVER, dtype=np.int64)
    before = np.searchsorted(keys, key, side="left") - 1
    found = keys[np.maximum(before, 0)]
    ok = (before >= 0) & (found // span == partner)
    lo = np.where(ok, found - partner * span, -1)
    after = np.searchsorted(keys, key, side="right")
    found = keys[np.minimum(after, len(keys) - 1)]
    ok = (after < len(keys)) & (found // span == partner)
    hi = np.where(ok, found - partner * span, _NEVER)
    return lo.astype(np.int64), hi.astype(np.int64)


def burst_runs(
    gates: GateArray,
    allocation: Allocation,
    bursts: Bursts,
    positions: IntArray,
    *,
    hoist: bool = True,
) -> BurstRuns:
    """Group every burst's gates into runs (one run per gate when ``hoist`` is off).

    :param positions: program position of every gate row (instruction index
        in the source circuit, or the row itself for a bare gate array).
    """
    rows = bursts.gate_rows.astype(np.int64)
    total = len(rows)
    if not hoist or total == 0:
        ptr = bursts.gate_ptr.astype(np.int64)
        return BurstRuns(ptr, rows.copy(), np.arange(total + 1, dtype=np.int64), rows.copy())
    lo, hi = _windows(gates, allocation, bursts, positions)
    doubled = (2 * positions[rows]).tolist()
    lo_l, hi_l, rows_l = lo.tolist(), hi.tolist(), rows.tolist()
    ptr = bursts.gate_ptr.tolist()
    run_ptr = [0]
    heads: list[int] = []
    member_ptr = [0]
    members: list[int] = []
    for b in range(len(bursts)):
        start, end = ptr[b], ptr[b + 1]
        if end - start == 1:
            heads.append(rows_l[start])
            members.append(rows_l[start])
            member_ptr.append(len(members))
            run_ptr.append(len(heads))
            continue
        points = doubled[start:end]  # ascending: burst rows are in circuit order
        order = sorted(range(start, end), key=lambda j: hi_l[j])
        done = [False] * (end - start)
        chosen: list[tuple[int, list[int]]] = []
        for j in order:
            if done[j - start]:
                continue
            # The latest burst gate position still inside j's window.
            k = bisect.bisect_left(points, hi_l[j]) - 1
            point = points[k]
            group = [
                i for i in range(start, end)
                if not done[i - start] and lo_l[i] < point < hi_l[i]
            ]  # fmt: skip
            for i in group:
                done[i - start] = True
            chosen.append((start + k, group))
        chosen.sort()
        for head, group in chosen:
            heads.append(rows_l[head])
            members.extend(rows_l[i] for i in group)
            member_ptr.append(len(members))
        run_ptr.append(len(heads))
    return BurstRuns(
        np.asarray(run_ptr, dtype=np.int64),
        np.asarray(heads, dtype=np.int64),
        np.asarray(member_ptr, dtype=np.int64),
        np.asarray(members, dtype=np.int64),
    )
