"""As-soon-as-possible times on the dependency graph of a program, vectorised.

The reference the one-pass scheduler (:mod:`qdframe.schedule._stream`) is
checked against in the tests: it holds every dependency edge, so it needs
far more memory and time at scale.

Program order is a topological order, so every operation can start when the
operations it depends on have freed what it needs:

* the previous operation on each of its qubits;
* for a delivery, the previous delivery on every link of its route and the
  swap qubits of every intermediate node: a node's swaps are ordered among
  themselves and with the operations on its communication qubits next to
  them in program order;
* the measurements whose outcome it needs, plus the message's travel time.

A delivery frees its resources at different times (see
:mod:`qdframe.schedule._deliveries`): an edge out of it carries a *code*
naming which release time applies, and the delay of each edge is looked up
per schedule (the link durations change with purification).

Every kind of edge is generated already ordered by its source row, so the
out-edge lists come from one merge of a few sorted runs. Start times are the
longest paths, computed frontier by frontier (Kahn's algorithm), each
frontier with a handful of numpy calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram
from qdframe.schedule._deliveries import DeliveryGeometry, DeliveryTimes

__all__ = ["Edges", "asap_times", "dependency_edges"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Edges:
    """Dependency edges as out-edge lists: ``target[ptr[r]:ptr[r + 1]]`` follow row
    ``r``; ``code`` says which delay applies (see :meth:`delays`)."""

    def __init__(self, num_ops: int, source: IntArray, target: IntArray, code: IntArray) -> None:
        order = np.argsort(source, kind="stable")
        self.source = source[order].astype(np.int32)
        self.target = target[order].astype(np.int32)
        self.code = code[order].astype(np.int32)
        self.ptr = np.zeros(num_ops + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.source, minlength=num_ops), out=self.ptr[1:])

    def __len__(self) -> int:
        return len(self.target)

    def delays(self, times: DeliveryTimes, message_delay: FloatArray) -> FloatArray:
        """Delay of every edge: ``end(source) + delay`` is when the target may start."""
        duration = times.duration
        geometry_rel = np.concatenate(
            [
                times.near - duration,
                times.hop - duration[self._hop_delivery],
                times.interior_done - duration[self._interior_delivery],
                message_delay,
            ]
        )
        delay = np.zeros(len(self.code), dtype=np.float64)
        coded = self.code >= 0
        delay[coded] = geometry_rel[self.code[coded]]
        return delay

    def bind(self, geometry: DeliveryGeometry) -> None:
        self._hop_delivery = geometry.hop_delivery
        self._interior_delivery = geometry.interior_delivery


def _next_in_chain(keys: IntArray, count: int) -> IntArray:
    """For entries with ``keys = resource * count + entry`` (entries ascending in
    program order), the next entry on the same resource, or -1."""
    ordered = np.sort(keys)
    resource, entry = np.divmod(ordered, count)
    following = np.full(count, -1, dtype=np.int64)
    same = resource[1:] == resource[:-1]
    following[entry[:-1][same]] = entry[1:][same]
    return following


def dependency_edges(program: DistributedProgram, geometry: DeliveryGeometry) -> Edges:
    """Every dependency of ``program`` (see the module docstring)."""
    n = program.num_operations
    layout = program.layout
    num_deliveries = geometry.count
    num_hops = len(geometry.hop_link)
    num_interiors = len(geometry.interior_node)
    hop_code0 = num_deliveries
    interior_code0 = hop_code0 + num_hops
    message_code0 = interior_code0 + num_interiors
    delivery_of_row = np.full(n, -1, dtype=np.int64)
    delivery_of_row[geometry.rows] = np.arange(num_deliveries, dtype=np.int64)
    sources: list[npt.NDArray[Any]] = []
    targets: list[npt.NDArray[Any]] = []
    codes: list[npt.NDArray[Any]] = []

    # Qubit chains: entries (row, q0) then (row, q1), in program order.
    pair = np.stack([program.q0, program.q1], axis=1).astype(np.int64).reshape(-1)
    valid = np.flatnonzero(pair >= 0)
    entry_qubit = pair[valid]
    entry_row = valid // 2
    entry_side = valid % 2
    count = len(valid)
    following = _next_in_chain(entry_qubit * count + np.arange(count), count)
    has = np.flatnonzero(following >= 0)
    entry_delivery = delivery_of_row[entry_row]
    # Out of a delivery: its near end is free at the first raw pair.
    entry_code = np.where((entry_delivery >= 0) & (entry_side == 0), entry_delivery, -1)
    sources.append(entry_row[has])
    targets.append(entry_row[following[has]])
    codes.append(entry_code[has])

    # Links: every hop after the previous hop on the same link.
    hop_row = geometry.rows[geometry.hop_delivery]
    if num_hops:
        links = geometry.hop_link.astype(np.int64)
        after = _next_in_chain(links * num_hops + np.arange(num_hops), num_hops)
        has = np.flatnonzero(after >= 0)
        sources.append(hop_row[has])
        targets.append(hop_row[after[has]])
        codes.append(hop_code0 + has)

    # Swap qubits: a node's swaps in program order, and the operations on its
    # communication qubits around them.
    if num_interiors:
        interior_row = geometry.rows[geometry.interior_delivery]
        node = geometry.interior_node.astype(np.int64)
        after = _next_in_chain(node * num_interiors + np.arange(num_interiors), num_interiors)
        has = np.flatnonzero(after >= 0)
        sources.append(interior_row[has])
        targets.append(interior_row[after[has]])
        codes.append(interior_code0 + has)
        comm = np.flatnonzero(layout.is_comm[entry_qubit])
        e_node = layout.qubit_node[entry_qubit[comm]].astype(np.int64)
        e_row = entry_row[comm]
        bank_key = node * n + interior_row  # ascending per node, rows ascending
        order = np.argsort(bank_key, kind="stable")
        sorted_key = bank_key[order]
        at = np.searchsorted(sorted_key, e_node * n + e_row)
        # Previous swap at the node, if it comes after the entry's previous operation.
        prev_chain = np.full(count, -1, dtype=np.int64)
        prev_chain[following[following >= 0]] = np.flatnonzero(following >= 0)
        prev_row = np.where(prev_chain[comm] >= 0, entry_row[prev_chain[comm]], -1)
        before = at - 1
        ok = before >= 0
        before_idx = order[np.maximum(before, 0)]
        ok &= node[before_idx] == e_node
        ok &= interior_row[before_idx] > prev_row
        sources.append(interior_row[before_idx[ok]])
        targets.append(e_row[ok])
        codes.append(interior_code0 + before_idx[ok])
        # Next swap at the node, if it comes before the entry's next operation.
        next_entry = following[comm]
        next_row = np.where(next_entry >= 0, entry_row[np.maximum(next_entry, 0)], n + 1)
        ok = at < len(sorted_key)
        after_idx = order[np.minimum(at, len(sorted_key) - 1)]
        ok &= node[after_idx] == e_node
        ok &= interior_row[after_idx] < next_row
        sources.append(e_row[ok])
        targets.append(interior_row[after_idx[ok]])
        codes.append(entry_code[comm][ok])

    # Classical edges: producers of a message -> its readers.
    reads = np.flatnonzero(program.message >= 0)
    readers = [(program.message[reads].astype(np.int64), reads)]
    consumer = program.message_consumer >= 0
    if consumer.any():
        ids = np.flatnonzero(consumer).astype(np.int64)
        readers.append((ids, program.message_consumer[consumer].astype(np.int64)))
    for message, reader in readers:
        for column in (0, 1):
            producer = program.message_producers[message, column].astype(np.int64)
            ok = producer >= 0
            sources.append(producer[ok])
            targets.append(reader[ok])
            codes.append(message_code0 + message[ok])
    edges = Edges(
        n,
        np.concatenate(sources),
        np.concatenate(targets),
        np.concatenate(codes),
    )
    edges.bind(geometry)
    return edges


def asap_times(
    num_ops: int, duration: FloatArray, edges: Edges, delay: FloatArray
) -> tuple[FloatArray, FloatArray, int]:
    """Start and end time of every operation, and the number of frontiers."""
    start = np.zeros(num_ops, dtype=np.float64)
    end = np.zeros(num_ops, dtype=np.float64)
    if num_ops == 0:
        return start, end, 0
    ptr, dst = edges.ptr, edges.target
    indegree = np.bincount(dst, minlength=num_ops).astype(np.int64)
    frontier = np.flatnonzero(indegree == 0)
    levels = 0
    while frontier.size:
        levels += 1
        end[frontier] = start[frontier] + duration[frontier]
        lo, hi = ptr[frontier], ptr[frontier + 1]
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            break
        # Concatenated edge index ranges of the frontier.
        offsets = np.repeat(lo - np.cumsum(counts) + counts, counts)
        picked = np.arange(total, dtype=np.int64) + offsets
        targets = dst[picked]
        sources = np.repeat(frontier, counts)
        np.maximum.at(start, targets, end[sources] + delay[picked])
        hit = np.bincount(targets, minlength=num_ops) if total > num_ops // 8 else None
        if hit is not None:
            indegree -= hit
            touched = np.flatnonzero(hit)
        else:
            touched, times = np.unique(targets, return_counts=True)
            indegree[touched] -= times
        frontier = touched[indegree[touched] == 0]
    return start, end, levels
