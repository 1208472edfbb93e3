"""As-soon-as-possible times in one pass over the rows, with running "free at" arrays.

Program order is a topological order, and every dependency of an operation
is on the *previous* user of a resource, so no dependency list is needed:
walking the rows in order while keeping, per resource, when it is free
again gives every start time directly. An operation starts when

* each of its qubits is free (the previous operation on the qubit ended; a
  delivery's near end is free as soon as its first raw pair is there);
* for a delivery, every link of its route is free (the previous raw pair
  on the link is made) and every intermediate node can swap: its previous
  swap is done and every earlier operation on its communication qubits has
  released them;
* an operation on a communication qubit also waits for the node's previous
  swap;
* the measurements whose outcomes it reads have ended, plus the message's
  travel time.

These are the dependencies of :mod:`qdframe.schedule._dag` (kept as the
reference the tests compare against) closed under the orders they imply:
the extra constraints read here (a communication qubit waits for the
latest swap at its node, not only a swap after its own previous operation)
already follow from chains of those edges, so the times are the same.

The same pass sums idle decoherence per qubit period (see
:func:`qdframe.schedule.fidelity.idle_log_fidelity`) and counts the depth
(the longest chain of operations, the number of frontiers of a level-by-level
schedule). The pass is compiled with Numba; memory is a few arrays per
resource plus the start and end times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram, OpKind
from qdframe.schedule._deliveries import DeliveryGeometry, DeliveryTimes

__all__ = ["StreamInputs", "StreamResult", "stream_inputs", "stream_schedule"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class StreamResult:
    """Start and end of every row, the depth, idle ``log F`` and busy time per qubit."""

    start: FloatArray
    end: FloatArray
    depth: int
    log_idle: float
    busy_per_qubit: FloatArray


@dataclass
class StreamInputs:
    """The arrays the pass reads, in the dtypes it is compiled for.

    Everything that does not depend on the link durations; :func:`stream_schedule`
    adds the durations of one schedule.
    """

    q0: npt.NDArray[np.int32]
    q1: npt.NDArray[np.int32]
    is_reset: npt.NDArray[np.bool_]
    message: npt.NDArray[np.int32]
    producers: npt.NDArray[np.int32]
    consumer_row: npt.NDArray[np.int64]
    consumer_message: npt.NDArray[np.int64]
    qubit_node: npt.NDArray[np.int32]
    is_comm: npt.NDArray[np.bool_]
    holding: npt.NDArray[np.bool_]
    delivery_rows: npt.NDArray[np.int32]
    hop_ptr: npt.NDArray[np.int64]
    hop_link: npt.NDArray[np.int32]
    interior_ptr: npt.NDArray[np.int64]
    interior_node: npt.NDArray[np.int32]
    num_links: int
    num_nodes: int


def stream_inputs(program: DistributedProgram, geometry: DeliveryGeometry) -> StreamInputs:
    """What :func:`stream_schedule` reads from ``program`` (built once per program)."""
    layout = program.layout
    consumer = np.flatnonzero(program.message_consumer >= 0).astype(np.int64)
    consumer_row = program.message_consumer[consumer].astype(np.int64)
    order = np.argsort(consumer_row, kind="stable")
    holding = np.zeros(layout.num_qubits, dtype=bool)
    holding[layout.final] = True
    interior_ptr = np.zeros(geometry.count + 1, dtype=np.int64)
    np.cumsum(np.maximum(geometry.hops - 1, 0), out=interior_ptr[1:])
    producers = np.ascontiguousarray(program.message_producers, dtype=np.int32).reshape(-1, 2)
    return StreamInputs(
        q0=np.ascontiguousarray(program.q0, dtype=np.int32),
        q1=np.ascontiguousarray(program.q1, dtype=np.int32),
        is_reset=np.asarray(program.kind == OpKind.RESET),
        message=np.ascontiguousarray(program.message, dtype=np.int32),
        producers=producers,
        consumer_row=np.ascontiguousarray(consumer_row[order]),
        consumer_message=np.ascontiguousarray(consumer[order]),
        qubit_node=np.ascontiguousarray(layout.qubit_node, dtype=np.int32),
        is_comm=np.ascontiguousarray(layout.is_comm, dtype=np.bool_),
        holding=holding,
        delivery_rows=np.ascontiguousarray(geometry.rows, dtype=np.int32),
        hop_ptr=np.ascontiguousarray(geometry.hop_ptr, dtype=np.int64),
        hop_link=np.ascontiguousarray(geometry.hop_link, dtype=np.int32),
        interior_ptr=interior_ptr,
        interior_node=np.ascontiguousarray(geometry.interior_node, dtype=np.int32),
        num_links=program.topology.num_links,
        num_nodes=program.num_nodes,
    )


def stream_schedule(
    inputs: StreamInputs,
    duration: FloatArray,
    times: DeliveryTimes,
    message_delay: FloatArray,
    coherence: tuple[FloatArray, FloatArray],
) -> StreamResult:
    """Start and end times of every row for one set of durations (see the module docstring).

    :param duration: per row (a delivery's: until its far end is ready).
    :param times: the delivery timings of this schedule.
    :param message_delay: travel time of every stored message.
    :param coherence: ``(t1, t2)`` per node.
    """
    kernel = _kernel()
    t1, t2 = coherence
    f64 = np.float64
    start, end, depth, log_idle, busy = kernel(
        inputs.q0, inputs.q1, inputs.is_reset, np.ascontiguousarray(duration, dtype=f64),
        inputs.message, inputs.producers, np.ascontiguousarray(message_delay, dtype=f64),
        inputs.consumer_row, inputs.consumer_message,
        inputs.qubit_node, inputs.is_comm, inputs.holding,
        np.ascontiguousarray(t1, dtype=f64), np.ascontiguousarray(t2, dtype=f64),
        inputs.delivery_rows,
        np.ascontiguousarray(times.near, dtype=f64),
        np.ascontiguousarray(times.far_busy, dtype=f64),
        inputs.hop_ptr, inputs.hop_link, np.ascontiguousarray(times.hop, dtype=f64),
        inputs.interior_ptr, inputs.interior_node,
        np.ascontiguousarray(times.interior_done, dtype=f64),
        inputs.num_links, inputs.num_nodes,
    )  # fmt: skip
    return StreamResult(start, end, int(depth), float(log_idle), busy)


_COMPILED: list[Any] = []


def _kernel() -> Any:
    """The compiled pass (compiled on first use, cached on disk by Numba)."""
    if not _COMPILED:
        import numba

        _COMPILED.append(numba.njit(cache=True, nogil=True)(_asap_pass))
    return _COMPILED[0]


def _asap_pass(
    q0: Any, q1: Any, is_reset: Any, duration: Any,
    message: Any, producers: Any, message_delay: Any,
    consumer_row: Any, consumer_message: Any,
    qubit_node: Any, is_comm: Any, holding: Any, t1: Any, t2: Any,
    delivery_rows: Any, near: Any, far_busy: Any,
    hop_ptr: Any, hop_link: Any, hop_time: Any,
    interior_ptr: Any, interior_node: Any, interior_done: Any,
    num_links: int, num_nodes: int,
) -> tuple[Any, Any, int, float, Any]:  # fmt: skip
    n = len(q0)
    num_qubits = len(qubit_node)
    start = np.zeros(n, dtype=np.float64)
    end = np.zeros(n, dtype=np.float64)
    level = np.zeros(n, dtype=np.int32)
    qubit_free = np.zeros(num_qubits, dtype=np.float64)
    qubit_level = np.zeros(num_qubits, dtype=np.int32)
    link_free = np.zeros(num_links, dtype=np.float64)
    link_level = np.zeros(num_links, dtype=np.int32)
    swap_free = np.zeros(num_nodes, dtype=np.float64)
    swap_level = np.zeros(num_nodes, dtype=np.int32)
    comm_free = np.zeros(num_nodes, dtype=np.float64)
    comm_level = np.zeros(num_nodes, dtype=np.int32)
    # The open idle period of every qubit: first start, last release, busy time.
    open_period = np.zeros(num_qubits, dtype=np.bool_)
    period_start = np.zeros(num_qubits, dtype=np.float64)
    period_end = np.zeros(num_qubits, dtype=np.float64)
    period_busy = np.zeros(num_qubits, dtype=np.float64)
    busy_total = np.zeros(num_qubits, dtype=np.float64)
    log_idle = 0.0
    num_deliveries = len(delivery_rows)
    num_consumers = len(consumer_row)
    d = 0
    c = 0
    depth = 0
    makespan = 0.0
    for r in range(n):
        is_delivery = d < num_deliveries and delivery_rows[d] == r
        s = 0.0
        lev = 0
        for q in (q0[r], q1[r]):
            if q >= 0:
                if qubit_free[q] > s:
                    s = qubit_free[q]
                lev = max(lev, qubit_level[q])
                if is_comm[q]:
                    node = qubit_node[q]
                    if swap_free[node] > s:
                        s = swap_free[node]
                    lev = max(lev, swap_level[node])
        if is_delivery:
            for h in range(hop_ptr[d], hop_ptr[d + 1]):
                link = hop_link[h]
                if link_free[link] > s:
                    s = link_free[link]
                lev = max(lev, link_level[link])
            for i in range(interior_ptr[d], interior_ptr[d + 1]):
                node = interior_node[i]
                if swap_free[node] > s:
                    s = swap_free[node]
                if comm_free[node] > s:
                    s = comm_free[node]
                lev = max(lev, swap_level[node], comm_level[node])
        m = message[r]
        while True:
            if m >= 0:
                for k in range(2):
                    p = producers[m, k]
                    if p >= 0:
                        if end[p] + message_delay[m] > s:
                            s = end[p] + message_delay[m]
                        lev = max(lev, level[p])
            if c < num_consumers and consumer_row[c] == r:
                m = consumer_message[c]
                c += 1
            else:
                break
        e = s + duration[r]
        lev += 1
        start[r] = s
        end[r] = e
        level[r] = lev
        depth = max(depth, lev)
        makespan = max(makespan, e)
        # What the row releases, and the idle periods it extends.
        for side in range(2):
            q = q0[r] if side == 0 else q1[r]
            if q < 0:
                continue
            released = e
            busy = e - s
            if is_delivery:
                if side == 0:
                    released = s + near[d]
                    busy = near[d]
                else:
                    busy = far_busy[d]
            qubit_free[q] = released
            qubit_level[q] = lev
            if is_comm[q]:
                node = qubit_node[q]
                comm_free[node] = max(comm_free[node], released)
                comm_level[node] = max(comm_level[node], lev)
            if open_period[q]:
                period_start[q] = min(period_start[q], s)
                period_end[q] = max(period_end[q], released)
                period_busy[q] += busy
            else:
                open_period[q] = True
                period_start[q] = s
                period_end[q] = released
                period_busy[q] = busy
            busy_total[q] += busy
            if is_reset[r]:
                open_period[q] = False
                node = qubit_node[q]
                idle = max(period_end[q] - period_start[q] - period_busy[q], 0.0)
                # Average fidelity of thermal relaxation over the idle time.
                log_idle += math.log(
                    (3.0 + math.exp(-idle / t1[node]) + 2.0 * math.exp(-idle / t2[node])) / 6.0
                )
        if is_delivery:
            for h in range(hop_ptr[d], hop_ptr[d + 1]):
                link_free[hop_link[h]] = s + hop_time[h]
                link_level[hop_link[h]] = lev
            for i in range(interior_ptr[d], interior_ptr[d + 1]):
                swap_free[interior_node[i]] = s + interior_done[i]
                swap_level[interior_node[i]] = lev
            d += 1
    # Data qubits that still hold a logical qubit wait until the program ends.
    for q in range(num_qubits):
        if open_period[q]:
            stop = makespan if holding[q] else period_end[q]
            node = qubit_node[q]
            idle = max(stop - period_start[q] - period_busy[q], 0.0)
            log_idle += math.log(
                (3.0 + math.exp(-idle / t1[node]) + 2.0 * math.exp(-idle / t2[node])) / 6.0
            )
    return start, end, depth, log_idle, busy_total
