"""As-soon-as-possible times on the dependency graph of a program, vectorised.

Program order is a topological order, so every operation can start when the
operations it depends on have ended (plus a delay on classical edges):

* the previous operation on each of its qubits;
* the previous EPR pair on the same link (a link makes one pair at a time);
* the measurements whose outcome it needs, plus the message's travel time.

Start times are the longest paths into each operation. They are computed
frontier by frontier (Kahn's algorithm), each frontier with a handful of
numpy calls, so a program of millions of operations takes seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram, OpKind

__all__ = ["Edges", "asap_times", "dependency_edges"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Edges:
    """Dependency edges ``source -> target`` with a delay (microseconds)."""

    def __init__(self, source: IntArray, target: IntArray, delay: FloatArray) -> None:
        self.source = source
        self.target = target
        self.delay = delay


def _chain(keys: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Edges between consecutive rows that share a key (rows ascending per key)."""
    order = np.lexsort((rows, keys))
    k, r = keys[order], rows[order]
    same = k[1:] == k[:-1]
    return r[:-1][same], r[1:][same]


def dependency_edges(program: DistributedProgram, message_delay: FloatArray) -> Edges:
    """Every dependency of ``program`` (see the module docstring)."""
    n = program.num_operations
    rows = np.arange(n, dtype=np.int64)
    sources: list[IntArray] = []
    targets: list[IntArray] = []
    delays: list[FloatArray] = []
    # Qubit chains.
    has0, has1 = program.q0 >= 0, program.q1 >= 0
    qubits = np.concatenate([program.q0[has0], program.q1[has1]])
    qrows = np.concatenate([rows[has0], rows[has1]])
    s, t = _chain(qubits, qrows)
    sources.append(s)
    targets.append(t)
    delays.append(np.zeros(len(s)))
    # Link chains.
    epr = program.kind == OpKind.EPR
    s, t = _chain(program.link[epr], rows[epr])
    sources.append(s)
    targets.append(t)
    delays.append(np.zeros(len(s)))
    # Classical edges: producers of a message -> its readers.
    reads = program.message >= 0
    readers = [(program.message[reads], rows[reads])]
    consumer = program.message_consumer >= 0
    if consumer.any():
        ids = np.flatnonzero(consumer).astype(np.int64)
        readers.append((ids, program.message_consumer[consumer]))
    for message, reader in readers:
        for column in (0, 1):
            producer = program.message_producers[message, column]
            valid = producer >= 0
            sources.append(producer[valid])
            targets.append(reader[valid])
            delays.append(message_delay[message[valid]])
    return Edges(
        np.concatenate(sources).astype(np.int64),
        np.concatenate(targets).astype(np.int64),
        np.concatenate(delays).astype(np.float64),
    )


def asap_times(
    num_ops: int, duration: FloatArray, edges: Edges
) -> tuple[FloatArray, FloatArray, int]:
    """Start and end time of every operation, and the number of frontiers."""
    start = np.zeros(num_ops, dtype=np.float64)
    end = np.zeros(num_ops, dtype=np.float64)
    if num_ops == 0:
        return start, end, 0
    order = np.argsort(edges.source, kind="stable")
    src, dst, delay = edges.source[order], edges.target[order], edges.delay[order]
    ptr = np.zeros(num_ops + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=num_ops), out=ptr[1:])
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
        np.maximum.at(start, targets, end[src[picked]] + delay[picked])
        hit = np.bincount(targets, minlength=num_ops) if total > num_ops // 8 else None
        if hit is not None:
            indegree -= hit
            touched = np.flatnonzero(hit)
        else:
            touched, times = np.unique(targets, return_counts=True)
            indegree[touched] -= times
        frontier = touched[indegree[touched] == 0]
    return start, end, levels
