"""The timing of EPR deliveries, derived from their routes, for all of them at once.

A delivery (one ``EPR`` row) along ``p0 .. ph`` starts when the
communication qubits at both ends, every link of the route and the swap
qubits of every intermediate node are free. All raw pairs are generated at
once, link ``k`` taking ``t_k``. Intermediate node ``p_i`` swaps when both its
pairs are there, at ``c_i = max(t_{i-1}, t_i)``: ``CX``, then ``H`` and
measurement of the left half while the right half is measured, then both
halves reset; its two bits leave at ``c_i + g2 + g1 + gm`` and reach the far
end after the message's travel time. The far end applies ``X`` and ``Z`` per
swap in route order, each a single-qubit gate time, after the bits arrive.
So, relative to the start, the near end is ready at ``t_0``, link ``k`` free
again at ``t_k``, node ``p_i`` free at ``c_i + g2 + g1 + gm + reset`` and the
far end ready (the row's end) at ``max(t_last + 2 (h - 1) g1,
max_i(arrival_i + 2 (h - i) g1))``. These are the times the
operations of a row-per-raw-pair program get; one row per delivery keeps
the schedule's size independent of route lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram

__all__ = ["DeliveryGeometry", "DeliveryTimes"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DeliveryTimes:
    """Per delivery: duration (far end ready), near end ready; per hop and per
    intermediate node: when the link and the node are free again (all
    relative to the delivery's start)."""

    duration: FloatArray
    near: FloatArray
    far_busy: FloatArray
    hop: FloatArray
    interior_done: FloatArray
    interior_busy: FloatArray
    interior_log_idle: float
    interior_log_gates: float


class DeliveryGeometry:
    """Rows, hops and intermediate nodes of every delivery of a program."""

    def __init__(self, program: DistributedProgram) -> None:
        self.rows = program.delivery_rows
        count = len(self.rows)
        self.count = count
        self.route_ptr, self.route_nodes = program.delivery_routes
        self.hop_ptr, self.hop_link = program.delivery_links
        self.hops = np.diff(self.hop_ptr)
        # int32 throughout: ids and positions fit, and there is one entry per hop.
        self.hop_delivery = np.repeat(np.arange(count, dtype=np.int32), self.hops)
        self.home = self.route_nodes[self.route_ptr[:-1]] if count else np.zeros(0, np.int32)
        self.end = self.route_nodes[self.route_ptr[1:] - 1] if count else np.zeros(0, np.int32)
        interior = np.ones(len(self.route_nodes), dtype=bool)
        interior[self.route_ptr[:-1]] = False
        interior[self.route_ptr[1:] - 1] = False
        positions = np.flatnonzero(interior)
        owner = np.repeat(np.arange(count, dtype=np.int32), np.diff(self.route_ptr))[positions]
        index = (positions - self.route_ptr[owner]).astype(np.int32)  # 1 .. h - 1 along the route
        del positions
        self.interior_delivery = owner
        self.interior_node = self.route_nodes[self.route_ptr[owner] + index]
        self.interior_index = index
        # The link before the node.
        self.interior_hop = (self.hop_ptr[owner] + index - 1).astype(np.int32)
        self.interior_end = self.end[owner]
        # Deliveries with intermediate nodes, and where their nodes start.
        self.swapped = np.flatnonzero(self.hops > 1)
        self.interior_start = self.hop_ptr[self.swapped] - self.swapped
        # Swaps per node, and swaps whose far end is each node: the gate
        # errors they add are per-node constants, summed through these counts.
        num_nodes = program.topology.num_nodes
        self.swaps_at = np.bincount(self.interior_node, minlength=num_nodes)
        self.swaps_ending_at = np.bincount(self.interior_end, minlength=num_nodes)

    def times(
        self,
        link_duration: FloatArray,
        swap_delay: FloatArray,
        node_times: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
        node_errors: tuple[FloatArray, FloatArray, FloatArray],
        coherence: tuple[FloatArray, FloatArray],
    ) -> DeliveryTimes:
        """Delivery timings for one set of link durations (see the module docstring)."""
        g1, g2, gm, gr = node_times
        e1, e2, em = node_errors
        t1, t2 = coherence
        t = link_duration[self.hop_link]
        first = t[self.hop_ptr[:-1]] if self.count else np.zeros(0)
        last = t[self.hop_ptr[1:] - 1] if self.count else np.zeros(0)
        g1_end = g1[self.end]
        duration = last + 2.0 * (self.hops - 1) * g1_end  # a copy: updated below
        node = self.interior_node
        before, after = t[self.interior_hop], t[self.interior_hop + 1]
        swap_at = np.maximum(before, after)
        sent = swap_at + g2[node] + g1[node] + gm[node]
        done = sent + gr[node]
        if len(node):
            d = self.interior_delivery
            remaining = self.hops[d] - self.interior_index
            arrival = sent + swap_delay + 2.0 * remaining * g1_end[d]
            latest = np.maximum.reduceat(arrival, self.interior_start)
            duration[self.swapped] = np.maximum(duration[self.swapped], latest)
        left_busy = before + g2[node] + g1[node] + gm[node] + gr[node]
        right_busy = after + g2[node] + gm[node] + gr[node]
        log_idle = 0.0
        if len(node):
            # The half that arrived first waits for the other; the later one
            # does not wait at all (a factor of exactly 1).
            idle = np.abs(before - after)
            factor = (3.0 + np.exp(-idle / t1[node]) + 2.0 * np.exp(-idle / t2[node])) / 6.0
            log_idle = float(np.log(factor).sum())
        swap_log = np.log1p(-e2) + np.log1p(-e1) + 2.0 * np.log1p(-em)
        log_gates = float(self.swaps_at @ swap_log + 2.0 * (self.swaps_ending_at @ np.log1p(-e1)))
        return DeliveryTimes(
            duration=duration,
            near=first,
            far_busy=last + 2.0 * (self.hops - 1) * g1_end,
            hop=t,
            interior_done=done,
            interior_busy=left_busy + right_busy,
            interior_log_idle=log_idle,
            interior_log_gates=log_gates,
        )
