"""Appending rows to a program under construction (columns as Python lists).

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

__all__ = ["ProgramBuilder", "SlotPool"]

IntArray = npt.NDArray[np.int64]


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
        self.used = max(self.used, slot + 1)
        return slot

    def give(self, slot: int) -> None:
        heapq.heappush(self.free, slot)

    @property
    def available(self) -> int:
        return len(self.free)


class ProgramBuilder:
    """Collects operation, protocol and message rows in program order."""

    def __init__(self, num_nodes: int, data_capacity: IntArray, comm_capacity: IntArray) -> None:
        self.num_nodes = num_nodes
        self.stride_data = int(max(int(data_capacity.max(initial=0)), 1))
        self.stride = self.stride_data + int(max(int(comm_capacity.max(initial=0)), 1))
        self.data = [SlotPool(int(c)) for c in data_capacity]
        self.comm = [SlotPool(int(c)) for c in comm_capacity]
        # Columns are typed arrays: eight bytes a value, and numpy reads them
        # without converting element by element.
        # operation columns
        self.kind = array("q")
        self.node = array("q")
        self.node2 = array("q")
        self.q0 = array("q")
        self.q1 = array("q")
        self.clbit = array("q")
        self.link = array("q")
        self.protocol = array("q")
        self.message = array("q")
        self.source = array("q")
        # protocol columns
        self.p_kind = array("q")
        self.p_qubit = array("q")
        self.p_home = array("q")
        self.p_remote = array("q")
        self.p_hops = array("q")
        self.p_burst = array("q")
        self.p_split = array("q")
        self.route_ptr = array("q", [0])
        self.route_nodes = array("q")
        # message columns
        self.m_source = array("q")
        self.m_target = array("q")
        self.m_bits = array("q")
        self.m_protocol = array("q")
        self.m_producer0 = array("q")
        self.m_producer1 = array("q")
        self.m_consumer = array("q")
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
        if not pool.available:
            raise ResourceError(f"node {node} has no free communication qubit")
        return self.comm_code(node, pool.take())

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
        link: int = -1,
        message: int = -1,
        source: int = -1,
        protocol: int | None = None,
    ) -> int:
        """Append one operation; returns its row."""
        self.kind.append(int(kind))
        self.node.append(node)
        self.node2.append(node2)
        self.q0.append(q0)
        self.q1.append(q1)
        self.clbit.append(clbit)
        self.link.append(link)
        self.protocol.append(self.current if protocol is None else protocol)
        self.message.append(message)
        self.source.append(source)
        return len(self.kind) - 1

    def extend(
        self,
        kind: list[int],
        node: list[int],
        q0: list[int],
        q1: list[int],
        clbit: list[int],
        *,
        node2: list[int] | None = None,
        link: list[int] | None = None,
        message: list[int] | None = None,
    ) -> int:
        """Append many operations of the current protocol at once; returns the first row."""
        first = len(self.kind)
        count = len(kind)
        none = [-1] * count
        self.kind.extend(kind)
        self.node.extend(node)
        self.node2.extend(node2 if node2 is not None else none)
        self.q0.extend(q0)
        self.q1.extend(q1)
        self.clbit.extend(clbit)
        self.link.extend(link if link is not None else none)
        self.protocol.extend([self.current] * count)
        self.message.extend(message if message is not None else none)
        self.source.extend(none)
        return first

    def send_many(self, sources: list[int], target: int, producers: list[int]) -> int:
        """Record one two-bit message per source node, produced by rows
        ``producers[2k]`` and ``producers[2k + 1]``; returns the first message id."""
        first = len(self.m_source)
        count = len(sources)
        self.m_source.extend(sources)
        self.m_target.extend([target] * count)
        self.m_bits.extend([2] * count)
        self.m_protocol.extend([self.current] * count)
        self.m_producer0.extend(producers[0::2])
        self.m_producer1.extend(producers[1::2])
        self.m_consumer.extend([-1] * count)
        return first

    def begin_protocol(
        self,
        kind: ProtocolKind,
        qubit: int,
        home: int,
        remote: int,
        path: tuple[int, ...],
        *,
        burst: int = -1,
        split: bool = False,
    ) -> int:
        """Start a protocol row; later rows belong to it until :meth:`end_protocol`."""
        self.p_kind.append(int(kind))
        self.p_qubit.append(qubit)
        self.p_home.append(home)
        self.p_remote.append(remote)
        self.p_hops.append(len(path) - 1)
        self.p_burst.append(burst)
        self.p_split.append(int(split))
        self.route_nodes.extend(path)
        self.route_ptr.append(len(self.route_nodes))
        self.current = len(self.p_kind) - 1
        return self.current

    def end_protocol(self) -> None:
        self.current = -1

    def send(self, source: int, target: int, producers: tuple[int, ...], consumer: int = -1) -> int:
        """Record a message carrying one bit per producing measurement (at most two).

        ``consumer`` names the reading operation when it is not found through
        the operations' ``message`` column.
        """
        padded = (*producers, -1, -1)[:2]
        self.m_source.append(source)
        self.m_target.append(target)
        self.m_bits.append(len(producers))
        self.m_protocol.append(self.current)
        self.m_producer0.append(padded[0])
        self.m_producer1.append(padded[1])
        self.m_consumer.append(consumer)
        return len(self.m_source) - 1

    # ------------------------------------------------------------ finishing

    def used_counts(self) -> tuple[IntArray, IntArray]:
        data = np.asarray([p.used for p in self.data], dtype=np.int64)
        comm = np.asarray([p.used for p in self.comm], dtype=np.int64)
        return data, comm

    def physical(
        self, codes: npt.ArrayLike, node_offset: IntArray, node_data: IntArray
    ) -> IntArray:
        """Global physical numbers of provisional codes (-1 stays -1)."""
        array = np.asarray(codes, dtype=np.int64)
        valid = array >= 0
        safe = np.where(valid, array, 0)
        node, local = np.divmod(safe, self.stride)
        is_comm = local >= self.stride_data
        index = np.where(is_comm, node_data[node] + local - self.stride_data, local)
        return np.where(valid, node_offset[node] + index, -1)
