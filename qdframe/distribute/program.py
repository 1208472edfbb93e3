"""The lowered program: every operation each node runs, with its network traffic.

A :class:`DistributedProgram` is columnar (one numpy array per field, one row
per operation) so that programs of millions of operations stay compact. Rows
are in *program order*: a sequential order that is correct when executed one
after another; the scheduler finds the parallelism from the qubits, links
and classical bits each operation uses.

An EPR delivery is **one row** whatever its length: an ``EPR`` row names
its protocol, whose route (``route_ptr``/``route_nodes``) says which links
carry the raw pairs and which intermediate nodes swap them. What a route
implies - one raw pair per link, at every intermediate node a Bell
measurement of two communication qubits (slots 0 and 1 of the node unless
``swap_slots`` says otherwise) and two bits sent to the far end, which
corrects with ``X`` and ``Z`` - is not stored; :meth:`DistributedProgram.expanded`
writes it out as rows (the form :meth:`DistributedProgram.to_circuit` builds
from and :meth:`DistributedProgram.network_operations` lists).

Physical qubits are numbered globally: node ``n`` owns the block
``node_offset[n] .. node_offset[n + 1] - 1``, its used data slots first,
then its used communication qubits. Each physical qubit has one protocol
classical bit with the same number: a protocol measurement of qubit ``p``
writes bit ``p``, and a correction conditioned on it names ``p``.

Readable views (:meth:`DistributedProgram.node_operations`,
:meth:`DistributedProgram.network_operations`,
:meth:`DistributedProgram.messages`) are built on demand, and
:meth:`DistributedProgram.to_circuit` builds the Qiskit circuit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import DistributionError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.allocation import GateArray
    from qdframe.topology import Topology

__all__ = [
    "DistributedProgram",
    "Message",
    "NetworkOperation",
    "OpKind",
    "Operation",
    "ProtocolKind",
]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


class OpKind(IntEnum):
    """What one row of a program does."""

    #: An instruction of the source circuit, run locally (``source`` is its index).
    GATE = 0
    #: An EPR pair delivered along its protocol's route: ``q0`` at ``node``
    #: (the route's first node), ``q1`` at ``node2`` (its last); one raw pair
    #: per link, swapped at the intermediate nodes. In an expanded program
    #: (:meth:`DistributedProgram.expanded`) one raw pair on one link.
    EPR = 1
    #: Protocol CNOT, control ``q0``, target ``q1`` (same node).
    CX = 2
    #: Protocol Hadamard on ``q0``.
    H = 3
    #: Protocol Z-basis measurement of ``q0`` into protocol bit ``clbit``.
    MEASURE = 4
    #: Reset ``q0`` to ``|0>`` so it can be reused.
    RESET = 5
    #: X on ``q0`` when protocol bit ``clbit`` is 1 (``message`` carries the bit).
    X_IF = 6
    #: Z on ``q0`` when protocol bit ``clbit`` is 1.
    Z_IF = 7
    #: A remote gate of the source circuit carried out by circuit cutting
    #: (hybrid mode): ``q0`` at ``node``, ``q1`` at ``node2``; no EPR pair.
    CUT = 8


class ProtocolKind(IntEnum):
    """The communication protocols a program uses."""

    #: Cat-entanglement of ``qubit`` (home ``home``) into ``remote`` for one burst.
    BURST = 0
    #: Teleportation of ``qubit`` from ``home`` to ``remote``.
    TELEPORT = 1


#: Bits a message carries besides its measurement outcomes: kind, flags,
#: source and target node, protocol, sequence and measurement numbers (see
#: :mod:`qdframe.schedule.messages`), padded with the outcomes to whole bytes.
MESSAGE_HEADER_BITS = 144


@dataclass(frozen=True)
class Operation:
    """One operation, in readable form (see :meth:`DistributedProgram.node_operations`)."""

    index: int
    kind: str
    node: int
    qubits: tuple[str, ...]
    name: str
    clbit: int = -1
    link: int = -1
    protocol: int = -1
    message: int = -1


@dataclass(frozen=True)
class NetworkOperation:
    """One raw EPR pair generated on a link."""

    index: int
    link: int
    nodes: tuple[int, int]
    qubits: tuple[str, str]
    protocol: int


@dataclass(frozen=True)
class Message:
    """Classical bits sent from one node to another for a protocol's corrections.

    ``size_bytes`` is the payload before compression (header plus bits,
    rounded up to whole bytes); ``path`` is the node path it travels.
    """

    index: int
    source: int
    target: int
    bits: int
    size_bytes: int
    protocol: int
    producers: tuple[int, ...]
    path: tuple[int, ...]


def _readonly(values: list[int] | npt.NDArray[Any], dtype: Any = np.int64) -> npt.NDArray[Any]:
    array = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Layout:
    """Where physical qubits live and which logical qubit each data slot holds.

    :param node_offset: ``(num_nodes + 1,)`` first physical qubit of each node.
    :param node_data: data slots used per node (they come first in its block).
    :param node_comm: communication qubits used per node.
    :param initial: physical qubit of each logical qubit at the start.
    :param final: physical qubit of each logical qubit at the end.
    """

    node_offset: IntArray
    node_data: IntArray
    node_comm: IntArray
    initial: IntArray
    final: IntArray

    @property
    def num_qubits(self) -> int:
        """Physical qubits in all."""
        return int(self.node_offset[-1])

    @cached_property
    def qubit_node(self) -> IntArray:
        """Node of every physical qubit."""
        sizes = np.diff(self.node_offset)
        return _readonly(np.repeat(np.arange(len(sizes), dtype=np.int64), sizes))

    @cached_property
    def is_comm(self) -> npt.NDArray[np.bool_]:
        """Whether each physical qubit is a communication qubit."""
        local = np.arange(self.num_qubits, dtype=np.int64) - self.node_offset[self.qubit_node]
        flags = local >= self.node_data[self.qubit_node]
        flags.flags.writeable = False
        return flags

    def label(self, qubit: int) -> str:
        """``n3.d1`` (data slot 1 of node 3) or ``n3.c0`` (communication qubit 0)."""
        node = int(self.qubit_node[qubit])
        local = qubit - int(self.node_offset[node])
        data = int(self.node_data[node])
        return f"n{node}.d{local}" if local < data else f"n{node}.c{local - data}"


@dataclass(frozen=True, eq=False)
class DistributedProgram:
    """A circuit lowered onto a network of nodes (see the module docstring).

    Operation columns (one entry per row): ``kind`` (:class:`OpKind`),
    ``node`` (where it runs; for ``EPR`` and ``CUT`` the first end),
    ``node2`` (other end of ``EPR``/``CUT``, else -1), ``q0``/``q1`` (physical
    qubits, -1 when unused), ``clbit`` (protocol bit written or read),
    ``protocol`` (row of the protocol
    table, -1 for source gates), ``message`` (message carrying the bit a
    correction needs, -1 when local), ``source`` (instruction index for
    ``GATE``/``CUT``, -1 otherwise).

    Protocol columns: ``protocol_kind`` (:class:`ProtocolKind`),
    ``protocol_qubit`` (logical qubit), ``protocol_home``,
    ``protocol_remote``, ``protocol_hops``, ``protocol_burst`` (index into the
    cost report's bursts, -1 for teleports), ``protocol_split`` (a reopened
    burst, costing extra ebits), and the routes as CSR
    (``route_ptr``/``route_nodes``).

    Message columns: ``message_source``, ``message_target``,
    ``message_bits``, ``message_protocol``, ``message_producers``
    (``(m, 2)`` measurement rows, -1 padded) and ``message_consumer`` (the
    reading row for messages of the source circuit's own conditions; -1 for
    protocol messages, whose readers name them in ``message``). A message
    whose source and target are the same node only orders two operations;
    it is not sent and is left out of the counts. The messages of
    entanglement swaps are implied by the routes and not stored (see
    :meth:`swap_messages`).

    ``swap_slots`` lists the ``(row, node, left, right)`` physical qubits of
    the swaps that did not use their node's communication slots 0 and 1.
    ``raw_pairs`` marks an expanded program, whose ``EPR`` rows are single
    raw pairs and whose swaps are rows.
    """

    topology: Topology
    layout: Layout
    kind: npt.NDArray[np.int8]
    node: Int32Array
    node2: Int32Array
    q0: Int32Array
    q1: Int32Array
    clbit: Int32Array
    protocol: Int32Array
    message: Int32Array
    source: Int32Array
    protocol_kind: npt.NDArray[np.int8]
    protocol_qubit: Int32Array
    protocol_home: Int32Array
    protocol_remote: Int32Array
    protocol_hops: Int32Array
    protocol_burst: Int32Array
    protocol_split: npt.NDArray[np.bool_]
    route_ptr: IntArray
    route_nodes: Int32Array
    message_source: Int32Array
    message_target: Int32Array
    message_bits: Int32Array
    message_protocol: Int32Array
    message_producers: Int32Array
    message_consumer: Int32Array
    plan_ebits: int
    gates: GateArray
    circuit: QuantumCircuit | None = None
    num_clbits_source: int = 0
    sampling_overhead: float = 1.0
    notes: dict[str, Any] = field(default_factory=dict)
    swap_slots: IntArray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))
    raw_pairs: bool = False

    # ------------------------------------------------------------- figures

    @property
    def num_operations(self) -> int:
        return len(self.kind)

    @property
    def num_nodes(self) -> int:
        return self.topology.num_nodes

    @cached_property
    def kind_counts(self) -> dict[str, int]:
        """Operations per :class:`OpKind` name."""
        counts = np.bincount(self.kind.astype(np.int64), minlength=len(OpKind))
        return {k.name.lower(): int(counts[k]) for k in OpKind}

    @property
    def ebits(self) -> int:
        """EPR pairs the program consumes (raw pairs on links, one per hop)."""
        if self.raw_pairs:
            return self.kind_counts["epr"]
        return int(self.delivery_hops.sum())

    @cached_property
    def delivery_rows(self) -> Int32Array:
        """Rows of the ``EPR`` deliveries, ascending."""
        return _readonly(np.flatnonzero(self.kind == OpKind.EPR), np.int32)

    @cached_property
    def delivery_hops(self) -> Int32Array:
        """Links each delivery's raw pairs use (1 for every row of an expanded program)."""
        if self.raw_pairs:
            return _readonly(np.ones(len(self.delivery_rows), dtype=np.int32))
        return _readonly(self.protocol_hops[self.protocol[self.delivery_rows]], np.int32)

    @cached_property
    def delivery_routes(self) -> tuple[IntArray, Int32Array]:
        """Node path of every delivery as CSR ``(ptr, nodes)``, in delivery order."""
        rows = self.delivery_rows
        if self.raw_pairs:
            ptr = np.arange(0, 2 * len(rows) + 1, 2, dtype=np.int64)
            nodes = np.stack([self.node[rows], self.node2[rows]], axis=1).reshape(-1)
            return _readonly(ptr), _readonly(nodes, np.int32)
        protocols = self.protocol[rows].astype(np.int64)
        lo = self.route_ptr[protocols]
        lengths = self.route_ptr[protocols + 1] - lo
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        shift = np.repeat(lo - ptr[:-1], lengths)
        nodes = self.route_nodes[np.arange(int(ptr[-1]), dtype=np.int64) + shift]
        return _readonly(ptr), _readonly(nodes, np.int32)

    @cached_property
    def delivery_links(self) -> tuple[IntArray, Int32Array]:
        """Links of every delivery's raw pairs as CSR ``(ptr, links)``, in route order."""
        from qdframe.distribute.routing import link_ids

        ptr, nodes = self.delivery_routes
        count = len(ptr) - 1
        hop_ptr = ptr - np.arange(count + 1, dtype=np.int64)
        if not len(nodes):
            return _readonly(hop_ptr), _readonly(np.zeros(0, dtype=np.int32))
        inner = np.ones(len(nodes) - 1, dtype=bool)
        inner[ptr[1:-1] - 1] = False  # pairs that straddle two routes
        near = nodes[:-1][inner].astype(np.int64)
        far = nodes[1:][inner].astype(np.int64)
        return _readonly(hop_ptr), _readonly(link_ids(self.topology, near, far), np.int32)

    @cached_property
    def link(self) -> Int32Array:
        """Per row: the link of a one-hop ``EPR`` row, else -1."""
        out = np.full(self.num_operations, -1, dtype=np.int32)
        ptr, links = self.delivery_links
        single = np.diff(ptr) == 1
        out[self.delivery_rows[single]] = links[ptr[:-1][single]]
        return _readonly(out)

    @property
    def split_ebits(self) -> int:
        """Ebits spent re-opening bursts that ran out of communication qubits."""
        split = self.protocol_split
        return int(self.protocol_hops[split].sum())

    @property
    def route_extra_ebits(self) -> int:
        """Ebits spent on routes longer than the fewest-hops ones (first openings only)."""
        shortest = self.topology.hops(self.protocol_home, self.protocol_remote)
        extra = (self.protocol_hops - shortest)[~self.protocol_split]
        return int(extra.sum())

    @property
    def comm_splits(self) -> int:
        """Bursts re-opened because communication qubits ran out."""
        return int(self.protocol_split.sum())

    @property
    def swaps(self) -> int:
        """Entanglement swaps (Bell measurements at intermediate nodes)."""
        return int(np.maximum(self.protocol_hops.astype(np.int64) - 1, 0).sum())

    @property
    def num_bursts(self) -> int:
        return int((self.protocol_kind == ProtocolKind.BURST).sum())

    @property
    def num_teleportations(self) -> int:
        return int((self.protocol_kind == ProtocolKind.TELEPORT).sum())

    @property
    def num_cuts(self) -> int:
        return self.kind_counts["cut"]

    @cached_property
    def is_sent(self) -> npt.NDArray[np.bool_]:
        """Messages that travel between two nodes."""
        sent: npt.NDArray[np.bool_] = np.asarray(self.message_source != self.message_target)
        sent.flags.writeable = False
        return sent

    @property
    def classical_bits(self) -> int:
        """Measurement bits sent between nodes (two per entanglement swap included)."""
        return int(self.message_bits[self.is_sent].sum()) + 2 * self._implied_swaps

    @property
    def _implied_swaps(self) -> int:
        """Swaps whose messages are implied by routes, not stored."""
        return 0 if self.raw_pairs else self.swaps

    @property
    def num_messages_sent(self) -> int:
        """Messages between nodes, those of entanglement swaps included."""
        return int(self.is_sent.sum()) + self._implied_swaps

    @property
    def classical_bytes(self) -> int:
        """Payload bytes of every message sent between nodes, before compression."""
        swap_bytes = (2 + MESSAGE_HEADER_BITS + 7) // 8
        return int(self.message_bytes[self.is_sent].sum()) + swap_bytes * self._implied_swaps

    def route(self, protocol: int) -> tuple[int, ...]:
        """Node path of a protocol's EPR pair."""
        lo, hi = int(self.route_ptr[protocol]), int(self.route_ptr[protocol + 1])
        return tuple(int(x) for x in self.route_nodes[lo:hi])

    def __repr__(self) -> str:
        # The dataclass repr would print every column array: kilobytes for a
        # small circuit. The figures a reader wants fit on one line.
        return (
            f"DistributedProgram({self.num_operations} operations on "
            f"{self.layout.num_qubits} physical qubits: ebits={self.ebits}, "
            f"swaps={self.swaps}, teleportations={self.num_teleportations}, "
            f"cuts={self.num_cuts}, classical_bits={self.classical_bits})"
        )

    def summary(self) -> dict[str, Any]:
        """The scalar figures, JSON-ready."""
        return {
            "ebits": self.ebits,
            "plan_ebits": self.plan_ebits,
            "split_ebits": self.split_ebits,
            "route_extra_ebits": self.route_extra_ebits,
            "comm_splits": self.comm_splits,
            "bursts": self.num_bursts,
            "teleportations": self.num_teleportations,
            "swaps": self.swaps,
            "cuts": self.num_cuts,
            "sampling_overhead": self.sampling_overhead,
            "classical_bits": self.classical_bits,
            "messages": self.num_messages_sent,
            "classical_bytes": self.classical_bytes,
            "operations": self.num_operations,
            "deliveries": len(self.delivery_rows),
            "operation_counts": self.kind_counts,
            "physical_qubits": self.layout.num_qubits,
            "data_qubits_used": self.layout.node_data.tolist(),
            "comm_qubits_used": self.layout.node_comm.tolist(),
        }

    # ------------------------------------------------------------- readable views

    def _name(self, row: int) -> str:
        kind = OpKind(int(self.kind[row]))
        if kind in (OpKind.GATE, OpKind.CUT):
            if self.circuit is not None:
                return str(self.circuit.data[int(self.source[row])].operation.name)
            return "cp" if int(self.q1[row]) >= 0 else "u"
        return {
            OpKind.EPR: "epr",
            OpKind.CX: "cx",
            OpKind.H: "h",
            OpKind.MEASURE: "measure",
            OpKind.RESET: "reset",
            OpKind.X_IF: "x_if",
            OpKind.Z_IF: "z_if",
        }[kind]

    def operation(self, row: int) -> Operation:
        """Row ``row`` in readable form."""
        qubits = tuple(
            self.layout.label(int(q)) for q in (self.q0[row], self.q1[row]) if int(q) >= 0
        )
        return Operation(
            index=row,
            kind=OpKind(int(self.kind[row])).name.lower(),
            node=int(self.node[row]),
            qubits=qubits,
            name=self._name(row),
            clbit=int(self.clbit[row]),
            link=int(self.link[row]),
            protocol=int(self.protocol[row]),
            message=int(self.message[row]),
        )

    def node_operations(self, node: int) -> list[Operation]:
        """Operations that run on ``node`` (either end of an EPR pair or a cut), in order."""
        rows = np.flatnonzero((self.node == node) | (self.node2 == node))
        return [self.operation(int(r)) for r in rows]

    def network_operations(self) -> list[NetworkOperation]:
        """Every raw EPR pair, in program order, with its link."""
        if not self.raw_pairs:
            return self.expanded().network_operations()
        rows = np.flatnonzero(self.kind == OpKind.EPR)
        return [
            NetworkOperation(
                index=int(r),
                link=int(self.link[r]),
                nodes=(int(self.node[r]), int(self.node2[r])),
                qubits=(self.layout.label(int(self.q0[r])), self.layout.label(int(self.q1[r]))),
                protocol=int(self.protocol[r]),
            )
            for r in rows
        ]

    @cached_property
    def message_bytes(self) -> IntArray:
        """Payload bytes of each message before compression (header plus bits)."""
        return _readonly((self.message_bits + MESSAGE_HEADER_BITS + 7) // 8)

    def messages(self) -> list[Message]:
        """Every classical message sent between nodes, in program order
        (those of entanglement swaps included)."""
        if not self.raw_pairs and self.swaps:
            return self.expanded().messages()
        found = []
        for m in np.flatnonzero(self.is_sent).tolist():
            source, target = int(self.message_source[m]), int(self.message_target[m])
            producers = tuple(int(p) for p in self.message_producers[m] if p >= 0)
            found.append(
                Message(
                    index=m,
                    source=source,
                    target=target,
                    bits=int(self.message_bits[m]),
                    size_bytes=int(self.message_bytes[m]),
                    protocol=int(self.message_protocol[m]),
                    producers=producers,
                    path=tuple(self.topology.shortest_path(source, target, weight="latency")),
                )
            )
        return found

    def protocol_counts(self) -> Counter[str]:
        """Protocols by kind name."""
        return Counter(ProtocolKind(int(k)).name.lower() for k in self.protocol_kind)

    # ------------------------------------------------------------- circuit

    def expanded(self) -> DistributedProgram:
        """The same program with every delivery written out: one ``EPR`` row per
        raw pair and link, and the rows and messages of every entanglement
        swap (built once and cached; meant for programs small enough to
        simulate or read)."""
        if self.raw_pairs:
            return self
        return self._expanded

    @cached_property
    def _expanded(self) -> DistributedProgram:
        from qdframe.distribute._expand import expand

        return expand(self)

    @cached_property
    def _circuit(self) -> QuantumCircuit:
        from qdframe.distribute.circuit import build_circuit

        return build_circuit(self.expanded())

    def to_circuit(self) -> QuantumCircuit:
        """The program as a Qiskit circuit: one quantum register per node.

        Register ``n<k>`` holds node ``k``'s used data slots, then its used
        communication qubits; register ``m<k>`` holds node ``k``'s protocol
        bits (one per qubit); the source circuit's classical registers follow
        unchanged. ``circuit.metadata["qdframe"]`` records the layout.
        The circuit is built once and cached; do not modify it.

        :raises DistributionError: the program was lowered from a gate array
            alone (no source circuit to take gate angles from).
        """
        if self.circuit is None:
            raise DistributionError(
                "this program was lowered from a gate array without a source circuit, so it has "
                "no gate parameters to build a Qiskit circuit from; lower a QuantumCircuit "
                "(qdframe.distribute.compile_distributed) to get one"
            )
        return self._circuit
