"""Emitting the communication protocols of a lowering, and managing communication qubits.

:class:`ProtocolEmitter` holds the state the protocols share - which
communication qubit holds which burst's cat copy, which teleported qubits
wait for a data slot, where every logical qubit is - and emits the rows of
each protocol (see :mod:`qdframe.distribute.lower` for what they do).

An EPR delivery is one ``EPR`` row whatever its length: the raw pairs on
the route's links and the entanglement swaps at its intermediate nodes
follow from the protocol's route (see :mod:`qdframe.distribute.program`).
A swap holds two communication qubits of its node for a moment; they are
slots 0 and 1 unless those were taken, and only the exceptions are recorded.
So the work per delivery does not grow with its length, except at
intermediate nodes that hold qubits at that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import OpKind, ProtocolKind
from qdframe.distribute.routing import SWAP_COMM_QUBITS
from qdframe.errors import DistributionError, ResourceError

if TYPE_CHECKING:
    from qdframe.cost import Bursts
    from qdframe.distribute._builder import ProgramBuilder
    from qdframe.distribute._runs import BurstRuns
    from qdframe.distribute.routing import RouteTable
    from qdframe.topology import Topology

__all__ = ["ProtocolEmitter"]

IntArray = npt.NDArray[np.int64]

_EPR, _CX, _H, _MEASURE, _RESET, _X_IF, _Z_IF = (
    int(OpKind.EPR), int(OpKind.CX), int(OpKind.H), int(OpKind.MEASURE),
    int(OpKind.RESET), int(OpKind.X_IF), int(OpKind.Z_IF),
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
        comm: IntArray,
    ) -> None:
        self.b = builder
        self.topology = topology
        self.routes = routes
        self.bursts = bursts
        self.runs = runs
        self.positions = positions
        n_bursts = len(bursts)
        self.burst_qubit: list[int] = bursts.qubit.tolist()
        self.burst_home: list[int] = bursts.home.tolist()
        self.burst_remote: list[int] = bursts.remote.tolist()
        self.burst_hops: list[int] = bursts.hops.tolist()
        self.burst_parent: list[int] = bursts.parents.tolist()
        self.burst_source: list[int] = bursts.sources.tolist()
        # Only the few bursts that have them get entries in ``children`` and
        # ``second_pending``: a list per burst costs more than the lookups.
        self.children: dict[int, list[int]] = {}
        for child in np.flatnonzero(bursts.parents >= 0).tolist():
            self.children.setdefault(self.burst_parent[child], []).append(child)
        # Detached gates still to run that need each burst's copy as their
        # second operand, by position (for choosing which burst to close).
        seconds = bursts.seconds
        self.second_of_row: dict[int, int] = {}
        self.second_pending: dict[int, list[int]] = {}
        for j in np.flatnonzero(seconds >= 0).tolist():
            row = int(bursts.gate_rows[j])
            self.second_of_row[row] = int(seconds[j])
            self.second_pending.setdefault(int(seconds[j]), []).append(int(positions[row]))
        for pending in self.second_pending.values():
            pending.sort(reverse=True)  # the next one is popped off the end
        #: Bursts that must stay open while a protocol that reads them runs.
        self.pinned: set[int] = set()
        self.copy = [-1] * n_bursts  # communication qubit holding the cat copy
        self.opened = [False] * n_bursts
        self.burst_protocol = [-1] * n_bursts
        self.next_run: list[int] = runs.run_ptr[:-1].tolist()
        self.run_end: list[int] = runs.run_ptr[1:].tolist()
        self.run_head: list[int] = runs.head.tolist()
        self.held: list[dict[int, int]] = [{} for _ in range(topology.num_nodes)]
        self.pending: list[list[tuple[int, int]]] = [[] for _ in range(topology.num_nodes)]
        #: Teleported qubits waiting in all of ``pending`` (asked once per
        #: protocol: cheaper than looking through a list per node).
        self.waiting = 0
        #: Nodes that hold communication qubits between protocols (open
        #: bursts' copies, teleported qubits waiting for a slot).
        self.occupied: set[int] = set()
        self.loc: list[int] = []
        # Every burst's fewest-hops route (from the node its copy is made
        # on), found for all bursts at once.
        self.route_ptr, self.route_nodes = routes.paths(bursts.sources, bursts.remote)
        self._check_routes(comm)
        # The routes stay one numpy array, each turned into a list when its
        # burst opens: as one Python list they would hold a Python int per
        # node of every route (40 bytes each where numpy needs 8; 13.5 million
        # of them for 10^6 random gates on the 32 x 32 torus).
        self.route_ptr_l: list[int] = self.route_ptr.tolist()

    def _check_routes(self, comm: IntArray) -> None:
        """Every intermediate node of every route must hold a swap's two qubits."""
        interior = np.ones(len(self.route_nodes), dtype=bool)
        interior[self.route_ptr[:-1]] = False
        interior[self.route_ptr[1:] - 1] = False
        short = interior & (comm[self.route_nodes] < SWAP_COMM_QUBITS)
        if short.any():
            at = int(np.flatnonzero(short)[0])
            burst = int(np.searchsorted(self.route_ptr, at, side="right")) - 1
            node = int(self.route_nodes[at])
            raise ResourceError(
                f"a burst of qubit {self.burst_qubit[burst]} from node "
                f"{self.burst_home[burst]} to {self.burst_remote[burst]} needs "
                f"{SWAP_COMM_QUBITS} communication qubit(s) on node {node}, which has "
                f"{int(comm[node])}; raise comm_qubits_per_node"
            )

    def _next_position(self, burst: int) -> int:
        """Where the burst's copy is next needed: its next run, a detached
        gate that reads it, or a copy still to be made from it."""
        run = self.next_run[burst]
        best = 1 << 62
        if run < self.run_end[burst]:
            best = int(self.positions[self.run_head[run]])
        pending = self.second_pending.get(burst)
        if pending and pending[-1] < best:
            best = pending[-1]
        for child in self.children.get(burst, ()):
            if self.copy[child] < 0 and self._needed(child):
                best = min(best, self._next_position(child))
        return best

    def _needed(self, burst: int) -> bool:
        """Whether the burst's copy is needed again (by itself or a child copy)."""
        if self.next_run[burst] < self.run_end[burst] or self.second_pending.get(burst):
            return True
        children = self.children.get(burst)
        return children is not None and any(self.copy[c] < 0 and self._needed(c) for c in children)

    def _maybe_close(self, burst: int) -> None:
        """Close an open burst once nothing needs its copy any more."""
        if self.copy[burst] >= 0 and burst not in self.pinned and not self._needed(burst):
            self._close(burst)

    def _acquire(self, node: int, need: int, what: str | tuple[str, int, int, int]) -> None:
        """Make ``need`` communication qubits free on ``node``, closing bursts if needed.

        ``what`` names the protocol in error messages: a string, or a format
        string and its three values (formatted only when there is an error).
        """
        if not isinstance(what, str):
            what = what[0].format(*what[1:])
        pool = self.b.comm[node]
        if pool.capacity < need:
            raise ResourceError(
                f"{what} needs {need} communication qubit(s) on node {node}, which has "
                f"{pool.capacity}; raise comm_qubits_per_node"
            )
        held = self.held[node]
        while pool.available < need:
            victims = [x for x in held if x not in self.pinned] if self.pinned else list(held)
            if victims:
                victim = max(victims, key=lambda x: (self._next_position(x), -self.burst_hops[x]))
                self._close(victim)
                continue
            if held:
                raise ResourceError(
                    f"{what} needs {need} communication qubit(s) on node {node}, but all "
                    f"{pool.capacity} hold cat copies it reads; raise comm_qubits_per_node"
                )
            raise ResourceError(
                f"{what} needs {need} communication qubit(s) on node {node}, but "
                f"{pool.capacity - pool.available} hold teleported qubits waiting for a "
                "free data slot (a cycle of migrations between full nodes); raise "
                "comm_qubits_per_node"
            )

    def _deliver(
        self, path: tuple[int, ...] | list[int], what: str | tuple[str, int, int, int]
    ) -> tuple[int, int, int]:
        """Emit one EPR delivery between the ends of ``path``; returns (row, near, far)."""
        b = self.b
        comm = b.comm
        hops = len(path) - 1
        home, end = path[0], path[hops]
        # _acquire only where a qubit must be freed first (the rare case).
        if not comm[home].free:
            self._acquire(home, 1, what)
        busy = [node for node in path[1:hops] if node in self.occupied] if self.occupied else []
        for node in busy:
            self._acquire(node, SWAP_COMM_QUBITS, what)
        if not comm[end].free:
            self._acquire(end, 1, what)
        near = b.take_comm(home)
        far = b.take_comm(end)
        row = b.rows
        for node in busy:
            pool = b.comm[node]
            left, right = pool.take(), pool.take()
            pool.give(left)
            pool.give(right)
            if (left, right) != (0, 1):
                b.swap_slots.fromlist([row, node, left, right])
        b.emit(OpKind.EPR, home, near, far, node2=end)
        return row, near, far

    # ------------------------------------------------------------ protocols

    def _open(self, burst: int) -> None:
        b = self.b
        qubit, home, remote = (
            self.burst_qubit[burst],
            self.burst_home[burst],
            self.burst_remote[burst],
        )
        parent = self.burst_parent[burst]
        source = self.burst_source[burst]
        data = self.loc[qubit]
        if data // b.stride != home:
            raise DistributionError(
                f"burst of qubit {qubit} expects it on node {home}, but it is on node "
                f"{b.node_of(data)}; the cost report does not match this allocation"
            )
        if parent >= 0:
            # A copy of a copy: cat-entangle from the parent's copy on ``source``.
            if self.copy[parent] < 0:
                self._open(parent)
            self.pinned.add(parent)
            control = self.copy[parent]
        else:
            control = data
        lo, hi = self.route_ptr_l[burst], self.route_ptr_l[burst + 1]
        path: tuple[int, ...] | list[int] = self.route_nodes[lo:hi].tolist()
        custom = None
        if self.waiting:
            chosen = self._route(source, remote)
            if chosen != tuple(path):
                path = custom = chosen
        protocol = b.begin_protocol(
            ProtocolKind.BURST,
            qubit,
            source,
            remote,
            len(path) - 1,
            burst=burst,
            split=self.opened[burst],
            route=custom,
        )
        _, near, far = self._deliver(
            path, ("a burst of qubit {} from node {} to {}", qubit, source, remote)
        )
        # Cat-entangler: CX, measure, X at the far end on the message, reset.
        row = b.rows
        message = b.num_messages
        b.ops.fromlist([
            _CX, source, -1, control, near, -1, protocol, -1, -1,
            _MEASURE, source, -1, near, -1, near, protocol, -1, -1,
            _X_IF, remote, -1, far, -1, near, protocol, message, -1,
            _RESET, source, -1, near, -1, -1, protocol, -1, -1,
        ])  # fmt: skip
        b.rows += 4
        b.msgs.fromlist([source, remote, 1, protocol, row + 1, -1, -1])
        b.num_messages += 1
        b.give_comm(near)
        b.end_protocol()
        self.copy[burst] = far
        self.burst_protocol[burst] = protocol
        self.opened[burst] = True
        self.held[remote][burst] = far
        self.occupied.add(remote)
        if parent >= 0:
            self.pinned.discard(parent)
            self._maybe_close(parent)

    def _close(self, burst: int) -> None:
        b = self.b
        home, remote = self.burst_home[burst], self.burst_remote[burst]
        copy = self.copy[burst]
        data = self.loc[self.burst_qubit[burst]]
        # The disentangler belongs to the protocol that opened the burst; it
        # may run in the middle of another protocol that needed the qubit.
        protocol = self.burst_protocol[burst]
        row = b.rows
        message = b.num_messages
        b.ops.fromlist([
            _H, remote, -1, copy, -1, -1, protocol, -1, -1,
            _MEASURE, remote, -1, copy, -1, copy, protocol, -1, -1,
            _Z_IF, home, -1, data, -1, copy, protocol, message, -1,
            _RESET, remote, -1, copy, -1, -1, protocol, -1, -1,
        ])  # fmt: skip
        b.rows += 4
        b.msgs.fromlist([remote, home, 1, protocol, row + 1, -1, -1])
        b.num_messages += 1
        b.give_comm(copy)
        self.copy[burst] = -1
        held = self.held[remote]
        del held[burst]
        if not held and not self.pending[remote]:
            self.occupied.discard(remote)

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
        if self._route_ok(path) or not self.waiting:
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
        interior = path[1:-1]
        comm = self.b.comm
        for node in interior:
            if comm[node].capacity < SWAP_COMM_QUBITS:
                raise ResourceError(
                    f"teleporting qubit {qubit} from node {source} to {target} needs "
                    f"{SWAP_COMM_QUBITS} communication qubit(s) on node {node}, which has "
                    f"{comm[node].capacity}; raise comm_qubits_per_node"
                )
        b.begin_protocol(ProtocolKind.TELEPORT, qubit, source, target, len(path) - 1, route=path)
        _, near, far = self._deliver(
            path, f"teleporting qubit {qubit} from node {source} to {target}"
        )
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
            self.waiting -= 1
            self._settle(source, other, held)
        b.end_protocol()

    def _settle(self, node: int, qubit: int, held: int) -> None:
        """Move a teleported qubit from a communication qubit into a free data slot."""
        b = self.b
        if b.data[node].available == 0:
            self.pending[node].append((qubit, held))
            self.waiting += 1
            self.occupied.add(node)
            return
        slot = b.take_data(node)
        b.emit(OpKind.CX, node, held, slot)
        b.emit(OpKind.CX, node, slot, held)
        b.give_comm(held)
        self.loc[qubit] = slot
        if not self.held[node] and not self.pending[node]:
            self.occupied.discard(node)
