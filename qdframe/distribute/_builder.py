"""Collecting the rows of a program under construction, in flat typed arrays.

A lowering records operations, messages and protocols in program order.
Each record is a fixed number of integers appended to one flat ``array``
(a protocol's rows go in with one ``fromlist``, about twice as fast as
``extend`` with a tuple), and :meth:`ProgramBuilder.columns`
turns each flat array into numpy columns at once, so no Python object is
kept per row.

Qubits are named by *provisional codes* while lowering, ``node * stride +
local``: data slots use ``local < stride_data`` and communication qubits
``stride_data + k``. Slots are handed out lowest first, so the slots a node
used are ``0 .. n - 1``; :meth:`ProgramBuilder.physical` turns codes into the
final global numbering once the counts are known.
"""

from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import OpKind, ProtocolKind
from qdframe.errors import ResourceError

__all__ = ["MESSAGE_FIELDS", "OP_FIELDS", "PROTOCOL_FIELDS", "ProgramBuilder", "SlotPool"]

IntArray = npt.NDArray[np.int64]

#: Integers per operation: kind, node, node2, q0, q1, clbit, protocol, message, source.
OP_FIELDS = 9
#: Integers per message: source, target, bits, protocol, producer0, producer1, consumer.
MESSAGE_FIELDS = 7
#: Integers per protocol: kind, qubit, home, remote, hops, burst, split, route reference
#: (a burst's precomputed route when >= 0, else custom route ``-1 - ref``).
PROTOCOL_FIELDS = 8


@dataclass
class SlotPool:
    """Free slots of one kind on one node, lowest first, with the high-water mark."""

    capacity: int
    free: list[int] = field(default_factory=list)
    used: int = 0

    def __post_init__(self) -> None:
        self.free = list(range(self.capacity))

    def take(self) -> int:
        slot = heapq.heappop(self.free)
        if slot >= self.used:
            self.used = slot + 1
        return slot

    def give(self, slot: int) -> None:
        heapq.heappush(self.free, slot)

    @property
    def available(self) -> int:
        return len(self.free)


class ProgramBuilder:
    """Collects operation, protocol and message records in program order."""

    def __init__(self, num_nodes: int, data_capacity: IntArray, comm_capacity: IntArray) -> None:
        self.num_nodes = num_nodes
        self.stride_data = int(max(int(data_capacity.max(initial=0)), 1))
        self.stride = self.stride_data + int(max(int(comm_capacity.max(initial=0)), 1))
        self.data = [SlotPool(int(c)) for c in data_capacity]
        self.comm = [SlotPool(int(c)) for c in comm_capacity]
        # Eight bytes a value: provisional codes and source positions of
        # very large programs exceed 32 bits only in theory, but cost nothing here.
        self.ops = array("q")
        self.msgs = array("q")
        self.protos = array("q")
        self.custom_routes: list[tuple[int, ...]] = []
        #: Interior swaps that did not use communication slots 0 and 1:
        #: (delivery row, node, left slot, right slot).
        self.swap_slots = array("q")
        self.rows = 0
        self.num_messages = 0
        self.num_protocols = 0
        self.current = -1

    # ------------------------------------------------------------ qubit codes

    def data_code(self, node: int, slot: int) -> int:
        return node * self.stride + slot

    def comm_code(self, node: int, slot: int) -> int:
        return node * self.stride + self.stride_data + slot

    def node_of(self, code: int) -> int:
        return code // self.stride

    def take_comm(self, node: int) -> int:
        pool = self.comm[node]
        if not pool.free:
            raise ResourceError(f"node {node} has no free communication qubit")
        return node * self.stride + self.stride_data + pool.take()

    def give_comm(self, code: int) -> None:
        node, local = divmod(code, self.stride)
        self.comm[node].give(local - self.stride_data)

    def take_data(self, node: int) -> int:
        return self.data_code(node, self.data[node].take())

    def give_data(self, code: int) -> None:
        node, local = divmod(code, self.stride)
        self.data[node].give(local)

    # ------------------------------------------------------------ rows

    def emit(
        self,
        kind: OpKind,
        node: int,
        q0: int = -1,
        q1: int = -1,
        *,
        node2: int = -1,
        clbit: int = -1,
        message: int = -1,
        source: int = -1,
        protocol: int | None = None,
    ) -> int:
        """Append one operation; returns its row."""
        self.ops.fromlist(
            [
                kind,
                node,
                node2,
                q0,
                q1,
                clbit,
                self.current if protocol is None else protocol,
                message,
                source,
            ]
        )
        self.rows += 1
        return self.rows - 1

    def begin_protocol(
        self,
        kind: ProtocolKind,
        qubit: int,
        home: int,
        remote: int,
        hops: int,
        *,
        burst: int = -1,
        split: bool = False,
        route: tuple[int, ...] | None = None,
    ) -> int:
        """Start a protocol row; later rows belong to it until :meth:`end_protocol`.

        ``route`` is the protocol's node path when it is not burst ``burst``'s
        precomputed one.
        """
        if route is not None:
            ref = -1 - len(self.custom_routes)
            self.custom_routes.append(route)
        else:
            ref = burst
        self.protos.fromlist([kind, qubit, home, remote, hops, burst, int(split), ref])
        self.current = self.num_protocols
        self.num_protocols += 1
        return self.current

    def end_protocol(self) -> None:
        self.current = -1

    def send(self, source: int, target: int, producers: tuple[int, ...], consumer: int = -1) -> int:
        """Record a message carrying one bit per producing measurement (at most two).

        ``consumer`` names the reading operation when it is not found through
        the operations' ``message`` column.
        """
        padded = (*producers, -1, -1)[:2]
        self.msgs.fromlist(
            [source, target, len(producers), self.current, padded[0], padded[1], consumer]
        )
        self.num_messages += 1
        return self.num_messages - 1

    # ------------------------------------------------------------ finishing

    def used_counts(self) -> tuple[IntArray, IntArray]:
        data = np.asarray([p.used for p in self.data], dtype=np.int64)
        comm = np.asarray([p.used for p in self.comm], dtype=np.int64)
        return data, comm

    @staticmethod
    def columns(flat: array[int], width: int) -> npt.NDArray[np.int64]:
        """A flat record array as an ``(n, width)`` numpy view (no copy)."""
        if not len(flat):
            return np.zeros((0, width), dtype=np.int64)
        return np.frombuffer(flat, dtype=np.int64).reshape(-1, width)

    def physical(
        self, codes: npt.ArrayLike, node_offset: IntArray, node_data: IntArray
    ) -> IntArray:
        """Global physical numbers of provisional codes (-1 stays -1)."""
        values = np.asarray(codes, dtype=np.int64)
        valid = values >= 0
        safe = np.where(valid, values, 0)
        # ``//`` and a product: np.divmod on integers costs twice as much.
        node = safe // self.stride
        local = safe - node * self.stride
        index: IntArray = np.where(
            local >= self.stride_data, node_data[node] + (local - self.stride_data), local
        )
        index += node_offset[node]
        index[~valid] = -1
        return index
