"""Emitting the communication protocols of a lowering, and managing communication qubits.

:class:`ProtocolEmitter` holds the state the protocols share - which
communication qubit holds which burst's cat copy, which teleported qubits
wait for a data slot, where every logical qubit is - and emits the rows of
each protocol (see :mod:`qdframe.distribute.lower` for what they do).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import OpKind, ProtocolKind
from qdframe.distribute.routing import SWAP_COMM_QUBITS, link_index
from qdframe.errors import DistributionError, ResourceError

if TYPE_CHECKING:
    from qdframe.cost import Bursts
    from qdframe.distribute._builder import ProgramBuilder
    from qdframe.distribute._runs import BurstRuns
    from qdframe.distribute.routing import RouteTable
    from qdframe.topology import Topology

__all__ = ["ProtocolEmitter"]

IntArray = npt.NDArray[np.int64]

# The rows of one entanglement swap (see ``_Lowering._swaps``).
_SWAP_PATTERN = (
    OpKind.CX, OpKind.H, OpKind.MEASURE, OpKind.MEASURE,
    OpKind.X_IF, OpKind.Z_IF, OpKind.RESET, OpKind.RESET,
)  # fmt: skip


class ProtocolEmitter:
    """Protocol rows and communication-qubit bookkeeping for one lowering."""

    def __init__(
        self,
        builder: ProgramBuilder,
        topology: Topology,
        routes: RouteTable,
        bursts: Bursts,
        runs: BurstRuns,
        positions: IntArray,
    ) -> None:
        self.b = builder
        self.topology = topology
        self.routes = routes
        self.links = link_index(topology)
        self.bursts = bursts
        self.runs = runs
        self.positions = positions
        n_bursts = len(bursts)
        self.burst_qubit: list[int] = bursts.qubit.tolist()
        self.burst_home: list[int] = bursts.home.tolist()
        self.burst_remote: list[int] = bursts.remote.tolist()
        self.burst_hops: list[int] = bursts.hops.tolist()
        self.copy = [-1] * n_bursts  # communication qubit holding the cat copy
        self.opened = [False] * n_bursts
        self.burst_protocol = [-1] * n_bursts
        self.next_run: list[int] = runs.run_ptr[:-1].tolist()
        self.run_end: list[int] = runs.run_ptr[1:].tolist()
        self.run_head: list[int] = runs.head.tolist()
        self.held: list[dict[int, int]] = [{} for _ in range(topology.num_nodes)]
        self.pending: list[list[tuple[int, int]]] = [[] for _ in range(topology.num_nodes)]
        self.loc: list[int] = []

    def _next_position(self, burst: int) -> int:
        run = self.next_run[burst]
        if run >= self.run_end[burst]:
            return 1 << 62
        return int(self.positions[self.run_head[run]])

    def _acquire(self, node: int, need: int, what: str) -> None:
        """Make ``need`` communication qubits free on ``node``, closing bursts if needed."""
        pool = self.b.comm[node]
        if pool.capacity < need:
            raise ResourceError(
                f"{what} needs {need} communication qubit(s) on node {node}, which has "
                f"{pool.capacity}; raise comm_qubits_per_node"
            )
        held = self.held[node]
        while pool.available < need:
            if not held:
                raise ResourceError(
                    f"{what} needs {need} communication qubit(s) on node {node}, but "
                    f"{pool.capacity - pool.available} hold teleported qubits waiting for a "
                    "free data slot (a cycle of migrations between full nodes); raise "
                    "comm_qubits_per_node"
                )
            victim = max(held, key=lambda x: (self._next_position(x), -self.burst_hops[x]))
            self._close(victim)

    def _deliver(self, path: tuple[int, ...], what: str) -> tuple[int, int]:
        """Emit one EPR pair between the ends of ``path`` (swapping in between)."""
        b = self.b
        hops = len(path) - 1
        for i, node in enumerate(path):
            self._acquire(node, 1 if i in (0, hops) else SWAP_COMM_QUBITS, what)
        left: list[int] = [-1] * len(path)
        right: list[int] = [-1] * len(path)
        for i, node in enumerate(path):
            if i > 0:
                left[i] = b.take_comm(node)
            if i < hops:
                right[i] = b.take_comm(node)
        links = self.links
        b.extend(
            [int(OpKind.EPR)] * hops,
            list(path[:-1]),
            right[:-1],
            left[1:],
            [-1] * hops,
            node2=list(path[1:]),
            link=[links[(min(u, v), max(u, v))] for u, v in itertools.pairwise(path)],
        )
        end = path[-1]
        target = left[hops]
        if hops > 1:
            self._swaps(path, left, right, end, target)
        return right[0], target

    def _swaps(
        self, path: tuple[int, ...], left: list[int], right: list[int], end: int, target: int
    ) -> None:
        """Bell measurements at every intermediate node, corrections at ``end``.

        Per swap node, in this order: ``CX(l, r)``, ``H(l)``, measure ``l``,
        measure ``r``, then at ``end`` ``X`` if ``r`` read 1 and ``Z`` if ``l``
        did, then both halves reset (rows built in bulk: long routes have many).
        """
        b = self.b
        middle = range(1, len(path) - 1)
        first_row = len(b.kind)
        first_message = len(b.m_source)
        kinds: list[int] = []
        nodes: list[int] = []
        q0: list[int] = []
        q1: list[int] = []
        clbits: list[int] = []
        messages: list[int] = []
        producers: list[int] = []
        pattern = [int(k) for k in _SWAP_PATTERN]
        for k, i in enumerate(middle):
            node, lq, rq = path[i], left[i], right[i]
            base = first_row + 8 * k
            kinds.extend(pattern)
            nodes.extend((node, node, node, node, end, end, node, node))
            q0.extend((lq, lq, lq, rq, target, target, lq, rq))
            q1.extend((rq, -1, -1, -1, -1, -1, -1, -1))
            clbits.extend((-1, -1, lq, rq, rq, lq, -1, -1))
            m = first_message + k
            messages.extend((-1, -1, -1, -1, m, m, -1, -1))
            producers.extend((base + 2, base + 3))
        b.extend(kinds, nodes, q0, q1, clbits, message=messages)
        b.send_many([path[i] for i in middle], end, producers)
        for i in middle:
            b.give_comm(left[i])
            b.give_comm(right[i])

    # ------------------------------------------------------------ protocols

    def _open(self, burst: int) -> None:
        b = self.b
        qubit, home, remote = (
            self.burst_qubit[burst],
            self.burst_home[burst],
            self.burst_remote[burst],
        )
        data = self.loc[qubit]
        if b.node_of(data) != home:
            raise DistributionError(
                f"burst of qubit {qubit} expects it on node {home}, but it is on node "
                f"{b.node_of(data)}; the cost report does not match this allocation"
            )
        path = self._route(home, remote)
        split = self.opened[burst]
        protocol = b.begin_protocol(
            ProtocolKind.BURST, qubit, home, remote, path, burst=burst, split=split
        )
        near, far = self._deliver(path, f"a burst of qubit {qubit} from node {home} to {remote}")
        b.emit(OpKind.CX, home, data, near)
        m = b.emit(OpKind.MEASURE, home, near, clbit=near)
        message = b.send(home, remote, (m,))
        b.emit(OpKind.X_IF, remote, far, clbit=near, message=message)
        b.emit(OpKind.RESET, home, near)
        b.give_comm(near)
        b.end_protocol()
        self.copy[burst] = far
        self.burst_protocol[burst] = protocol
        self.opened[burst] = True
        self.held[remote][burst] = far

    def _close(self, burst: int) -> None:
        b = self.b
        qubit, home, remote = (
            self.burst_qubit[burst],
            self.burst_home[burst],
            self.burst_remote[burst],
        )
        copy = self.copy[burst]
        data = self.loc[qubit]
        # The disentangler belongs to the protocol that opened the burst; it
        # may run in the middle of another protocol that needed the qubit.
        outer = b.current
        b.current = self.burst_protocol[burst]
        b.emit(OpKind.H, remote, copy)
        m = b.emit(OpKind.MEASURE, remote, copy, clbit=copy)
        message = b.send(remote, home, (m,))
        b.emit(OpKind.Z_IF, home, data, clbit=copy, message=message)
        b.emit(OpKind.RESET, remote, copy)
        b.give_comm(copy)
        b.current = outer
        self.copy[burst] = -1
        del self.held[remote][burst]

    def _migrate(self, moves: list[tuple[int, int, int]]) -> None:
        """Teleport the qubits that change node between two slices.

        Moves into a node with a free data slot go first. When only cycles
        are left, one qubit has to wait in a communication qubit of its new
        node; it goes to a node that no other remaining move swaps through,
        where possible, so the waiting qubit does not block a swap.
        """
        remaining = list(moves)
        while remaining:
            ready = [m for m in remaining if self.b.data[m[2]].available > 0]
            if ready:
                move = ready[0]
            else:
                crossed = {node for _, s, t in remaining for node in self.routes.path(s, t)[1:-1]}
                quiet = [m for m in remaining if m[2] not in crossed]
                move = (quiet or remaining)[0]
            remaining.remove(move)
            self._teleport(*move)

    def _route(self, a: int, b: int) -> tuple[int, ...]:
        """A fewest-hops route whose nodes can provide the communication qubits.

        The table's route unless one of its nodes has too many communication
        qubits tied up by teleported qubits waiting for a data slot (those
        cannot be released); then another route of the same length, if any.
        """
        path = self.routes.path(a, b)
        if self._route_ok(path) or not any(self.pending):
            return path
        for other in self.routes.all_shortest_paths(a, b):
            if self._route_ok(other):
                return other
        return path

    def _route_ok(self, path: tuple[int, ...]) -> bool:
        last = len(path) - 1
        for i, node in enumerate(path):
            need = 1 if i in (0, last) else SWAP_COMM_QUBITS
            if self.b.comm[node].capacity - len(self.pending[node]) < need:
                return False
        return True

    def _teleport(self, qubit: int, source: int, target: int) -> None:
        b = self.b
        data = self.loc[qubit]
        if b.node_of(data) != source:
            raise DistributionError(
                f"migration of qubit {qubit} from node {source}, but it is on node "
                f"{b.node_of(data)}"
            )
        path = self._route(source, target)
        b.begin_protocol(ProtocolKind.TELEPORT, qubit, source, target, path)
        near, far = self._deliver(path, f"teleporting qubit {qubit} from node {source} to {target}")
        b.emit(OpKind.CX, source, data, near)
        b.emit(OpKind.H, source, data)
        mz = b.emit(OpKind.MEASURE, source, data, clbit=data)
        mx = b.emit(OpKind.MEASURE, source, near, clbit=near)
        message = b.send(source, target, (mz, mx))
        b.emit(OpKind.X_IF, target, far, clbit=near, message=message)
        b.emit(OpKind.Z_IF, target, far, clbit=data, message=message)
        b.emit(OpKind.RESET, source, data)
        b.emit(OpKind.RESET, source, near)
        b.give_comm(near)
        b.give_data(data)
        self.loc[qubit] = far
        self._settle(target, qubit, far)
        # The slot just freed may be waited for by a qubit teleported earlier.
        waiting = self.pending[source]
        if waiting:
            other, held = waiting.pop(0)
            self._settle(source, other, held)
        b.end_protocol()

    def _settle(self, node: int, qubit: int, held: int) -> None:
        """Move a teleported qubit from a communication qubit into a free data slot."""
        b = self.b
        if b.data[node].available == 0:
            self.pending[node].append((qubit, held))
            return
        slot = b.take_data(node)
        b.emit(OpKind.CX, node, held, slot)
        b.emit(OpKind.CX, node, slot, held)
        b.give_comm(held)
        self.loc[qubit] = slot
