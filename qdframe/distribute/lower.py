"""Quantum-mode lowering: bursts become cat-entanglements, migrations teleportations.

:func:`lower` walks the circuit in order and emits, per node, the operations
that carry it out:

* a **local gate** runs on the data slots of its node;
* a **remote burst** (a :class:`qdframe.cost.BurstRecord`: qubit ``q`` on
  node ``A`` serving gates with partners on node ``B``) opens with a
  cat-entangler - an EPR pair between a communication qubit of ``A`` and one
  of ``B``, ``CX(q, c_A)``, measurement of ``c_A``, ``X`` on ``c_B`` when it
  reads 1 - after which ``c_B`` is a copy of ``q`` in the computational basis
  and every gate of the burst runs on ``B`` with ``c_B`` in place of ``q``;
  it closes with a cat-disentangler - ``H`` and measurement of ``c_B``, ``Z``
  on ``q`` when it reads 1. Both communication qubits are reset and reused;
* a **migration** is a teleportation into a communication qubit of the new
  node, then moved into a free data slot there (two CNOTs, as the slot is
  ``|0>``);
* an EPR pair between nodes that are not neighbours is made of one raw pair
  per link of the route, joined by Bell measurements at the intermediate
  nodes, whose outcomes become ``X``/``Z`` corrections at the far end.

Communication qubits are limited (``comm_qubits`` per node). A burst holds
one on its remote node while it is open; opening one needs a free one on
both ends and two on every swap node. Two measures keep the demand low:
gates of a burst are moved together, earlier or later, as far as they
commute with everything in between (see :mod:`qdframe.distribute._runs`), so
bursts open late and close early; and when a node still runs out, the open
burst whose next gate is furthest away is closed and re-opened at its next
gate. A re-opened burst costs its ebits again: the program reports these as
``comm_splits`` / ``split_ebits``, and ``program.ebits == plan_ebits +
split_ebits`` always holds (:func:`ebit_account` computes the figures
without building the program).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import CostReport, evaluate
from qdframe.distribute._builder import (
    MESSAGE_FIELDS,
    OP_FIELDS,
    PROTOCOL_FIELDS,
    ProgramBuilder,
)
from qdframe.distribute._protocols import ProtocolEmitter
from qdframe.distribute._runs import burst_runs
from qdframe.distribute.program import DistributedProgram, Layout, OpKind
from qdframe.distribute.routing import RouteTable
from qdframe.errors import CircuitError, DistributionError, ResourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.topology import Topology

__all__ = ["EbitAccount", "ebit_account", "lower"]

IntArray = npt.NDArray[np.int64]

_IGNORED = frozenset({"barrier", "global_phase"})


@dataclass(frozen=True)
class EbitAccount:
    """How many EPR pairs a lowering consumes, and why.

    ``ebits == plan_ebits + split_ebits``; ``plan_ebits`` is the cost model's
    count (less any bursts carried out by cutting) and ``split_ebits`` what
    re-opening ``comm_splits`` bursts cost when communication qubits ran out.
    """

    ebits: int
    plan_ebits: int
    split_ebits: int
    comm_splits: int


class _Lowering(ProtocolEmitter):
    """One walk over the circuit; see the module docstring."""

    def __init__(
        self,
        gates: GateArray,
        topology: Topology,
        allocation: Allocation,
        cost: CostReport,
        *,
        circuit: QuantumCircuit | None,
        routes: RouteTable,
        comm: IntArray,
        hoist: bool,
        cut_bursts: frozenset[int],
    ) -> None:
        bursts = cost.bursts
        if bursts is None:
            raise DistributionError("the cost report has no burst records (evaluate(records=True))")
        if circuit is not None:
            positions = gates.source_index.astype(np.int64)
            self.length = len(circuit.data)
        else:
            positions = np.arange(gates.num_gates, dtype=np.int64)
            self.length = gates.num_gates
        runs = burst_runs(gates, allocation, bursts, positions, hoist=hoist)
        super().__init__(
            ProgramBuilder(topology.num_nodes, topology.data_qubits, comm),
            topology,
            routes,
            bursts,
            runs,
            positions,
            comm,
        )
        self.gates = gates
        self.allocation = allocation
        self.circuit = circuit
        self.comm_capacity = comm
        self.cut = cut_bursts
        self.member_ptr = runs.member_ptr.tolist()
        self.members = runs.members.tolist()
        self.qubit_rows: list[list[int]] = gates.qubits.tolist()
        self.position_l: list[int] = positions.tolist()
        # Source-circuit classical bits: the operation that last wrote each one.
        self.writer: dict[int, tuple[int, int]] = {}
        self.clbit_index = (
            {bit: i for i, bit in enumerate(circuit.clbits)} if circuit is not None else {}
        )

    # ------------------------------------------------------------ the walk

    def run(self) -> DistributedProgram:
        gates = self.gates
        num_rows = gates.num_gates
        row_at = np.full(self.length, -1, dtype=np.int64)
        row_at[self.positions] = np.arange(num_rows, dtype=np.int64)
        burst_of_row = np.full(num_rows, -1, dtype=np.int64)
        counts = np.diff(self.bursts.gate_ptr)
        burst_of_row[self.bursts.gate_rows] = np.repeat(np.arange(len(self.bursts)), counts)
        # Run heads: the gate row at which each run is emitted, and which run it is.
        run_of_row = np.full(num_rows, -1, dtype=np.int64)
        run_of_row[self.runs.head] = np.arange(self.runs.num_runs, dtype=np.int64)
        boundaries = self._boundaries()
        for node in self.allocation.assignment[0].tolist():
            self.loc.append(self.b.take_data(int(node)))
        qubit_rows = self.qubit_rows
        row_at_l = row_at.tolist()
        burst_l = burst_of_row.tolist()
        run_l = run_of_row.tolist()
        data = self.circuit.data if self.circuit is not None else None
        qubit_index = (
            {bit: i for i, bit in enumerate(self.circuit.qubits)}
            if self.circuit is not None
            else {}
        )
        cut = self.cut
        loc = self.loc
        stride = self.b.stride
        ops = self.b.ops
        gate = int(OpKind.GATE)
        b = self.b
        for position in range(self.length):
            if boundaries:
                moves = boundaries.get(position)
                if moves:
                    self._migrate(moves)
            row = row_at_l[position]
            if row < 0:
                assert data is not None
                instruction = data[position]
                if instruction.operation.name in _IGNORED or not instruction.qubits:
                    continue
                self._local(position, [qubit_index[q] for q in instruction.qubits])
                continue
            a, c = qubit_rows[row]
            burst = burst_l[row] if c >= 0 else -1
            if burst < 0:
                if data is not None and data[position].clbits:
                    self._local(position, [a] if c < 0 else [a, c])
                    continue
                ca = loc[a]
                node = ca // stride
                if c < 0:
                    ops.fromlist([gate, node, -1, ca, -1, -1, -1, -1, position])
                else:
                    cc = loc[c]
                    if cc // stride != node:
                        self._local(position, [a, c])  # raises the mismatch
                    ops.fromlist([gate, node, -1, ca, cc, -1, -1, -1, position])
                b.rows += 1
            elif burst in cut:
                self._cut(position, a, c)
            else:
                run = run_l[row]
                if run >= 0:
                    self._run(burst, run)
        for node, held in enumerate(self.held):
            if held:  # pragma: no cover - every burst closes after its last run
                raise DistributionError(f"internal: bursts {sorted(held)} left open on node {node}")
        return self._finish()

    def _boundaries(self) -> dict[int, list[tuple[int, int, int]]]:
        moves = self.allocation.migrations()
        found: dict[int, list[tuple[int, int, int]]] = {}
        for q, s, t, g in zip(
            moves.qubit.tolist(),
            moves.source.tolist(),
            moves.target.tolist(),
            moves.before_gate.tolist(),
            strict=True,
        ):
            found.setdefault(int(self.positions[g]), []).append((q, s, t))
        return found

    # ------------------------------------------------------------ local work

    def _local(self, position: int, qubits: Sequence[int]) -> None:
        codes = [self.loc[q] for q in qubits]
        nodes = {self.b.node_of(c) for c in codes}
        if len(nodes) != 1:
            raise DistributionError(
                f"instruction {position} acts on qubits {list(qubits)} on nodes {sorted(nodes)}; "
                "the cost report does not match this circuit and allocation"
            )
        if len(codes) > 2:
            raise CircuitError(
                f"instruction {position} acts on {len(codes)} qubits; lowering handles one- and "
                "two-qubit instructions (normalise the circuit first)"
            )
        node = nodes.pop()
        row = self.b.emit(
            OpKind.GATE,
            node,
            codes[0],
            codes[1] if len(codes) > 1 else -1,
            source=position,
            protocol=-1,
        )
        if self.circuit is not None and self.circuit.data[position].clbits:
            self._classical(position, row, node)

    def _classical(self, position: int, row: int, node: int) -> None:
        """Messages for source bits read on another node than the one that wrote them."""
        instruction = self.circuit.data[position]  # type: ignore[union-attr]
        bits = [self.clbit_index[c] for c in instruction.clbits]
        operation = instruction.operation
        if operation.name == "measure":
            for bit in bits:
                self.writer[bit] = (row, node)
            return
        sent: set[int] = set()
        for bit in bits:
            found = self.writer.get(bit)
            if found is None or found[0] in sent:
                continue
            sent.add(found[0])
            # A message to the same node only orders the two operations.
            self.b.send(found[1], node, (found[0],), consumer=row)
        if getattr(operation, "blocks", None):
            for bit in bits:
                self.writer[bit] = (row, node)

    def _cut(self, position: int, a: int, c: int) -> None:
        ca, cc = self.loc[a], self.loc[c]
        self.b.emit(
            OpKind.CUT,
            self.b.node_of(ca),
            ca,
            cc,
            node2=self.b.node_of(cc),
            source=position,
            protocol=-1,
        )

    def _run(self, burst: int, run: int) -> None:
        if self.copy[burst] < 0:
            self._open(burst)
        remote = self.burst_remote[burst]
        qubit = self.burst_qubit[burst]
        qubit_rows = self.qubit_rows
        positions = self.position_l
        loc = self.loc
        stride = self.b.stride
        ops = self.b.ops
        gate = int(OpKind.GATE)
        seconds = self.second_of_row
        used: list[int] = []
        lo, hi = self.member_ptr[run], self.member_ptr[run + 1]
        for row in self.members[lo:hi]:
            a, c = qubit_rows[row]
            second = seconds.get(row, -1) if seconds else -1
            if second >= 0:
                # A detached gate: the other operand is a copy on this node too.
                if self.copy[second] < 0:
                    self.pinned.add(burst)
                    self._open(second)
                    self.pinned.discard(burst)
                other = self.copy[second]
                self.second_pending[second].pop()
                used.append(second)
            else:
                other = loc[c] if a == qubit else loc[a]
            copy = self.copy[burst]
            first, second_operand = (copy, other) if a == qubit else (other, copy)
            if other // stride != remote:
                raise DistributionError(
                    f"gate row {row}: partner qubit is on node {other // stride}, but "
                    f"its burst aims at node {remote}; the cost report does not match"
                )
            ops.fromlist([gate, remote, -1, first, second_operand, -1, -1, -1, positions[row]])
            self.b.rows += 1
        self.next_run[burst] = run + 1
        self._maybe_close(burst)
        for second in used:
            self._maybe_close(second)

    # ------------------------------------------------------------ result

    def _finish(self) -> DistributedProgram:
        b = self.b
        if self.waiting:
            raise DistributionError("internal: teleported qubits left without a data slot")
        protos = b.columns(b.protos, PROTOCOL_FIELDS)
        route_ptr, route_nodes = self._protocol_routes(protos[:, 7])
        node_data, node_comm = b.used_counts()
        # A swap holds slots 0 and 1 of its node (exceptions were taken from the pool).
        interior = np.ones(len(route_nodes), dtype=bool)
        interior[route_ptr[:-1]] = False
        interior[route_ptr[1:] - 1] = False
        swap_nodes = np.unique(route_nodes[interior])
        node_comm[swap_nodes] = np.maximum(node_comm[swap_nodes], 2)
        node_offset = np.zeros(self.topology.num_nodes + 1, dtype=np.int64)
        np.cumsum(node_data + node_comm, out=node_offset[1:])
        phys = b.physical
        layout = Layout(
            node_offset=_ro(node_offset),
            node_data=_ro(node_data),
            node_comm=_ro(node_comm),
            initial=_ro(phys(self._initial_codes(), node_offset, node_data)),
            final=_ro(phys(self.loc, node_offset, node_data)),
        )
        moves = self.allocation.migrations()
        hops = self.bursts.hops
        kept = np.ones(len(hops), dtype=bool)
        if self.cut:
            kept[np.fromiter(self.cut, dtype=np.int64)] = False
        plan_ebits = int(hops[kept].sum()) + int(
            self.topology.hops(moves.source, moves.target).sum()
        )
        ops = b.columns(b.ops, OP_FIELDS)
        msgs = b.columns(b.msgs, MESSAGE_FIELDS)
        swaps = b.columns(b.swap_slots, 4)
        swap_slots = (
            np.stack(
                [
                    swaps[:, 0],
                    swaps[:, 1],
                    phys(
                        swaps[:, 1] * b.stride + b.stride_data + swaps[:, 2], node_offset, node_data
                    ),
                    phys(
                        swaps[:, 1] * b.stride + b.stride_data + swaps[:, 3], node_offset, node_data
                    ),
                ],
                axis=1,
            )
            if len(swaps)
            else np.zeros((0, 4), dtype=np.int64)
        )
        program = DistributedProgram(
            topology=self.topology,
            layout=layout,
            kind=_ro(ops[:, 0], np.int8),
            node=_ro(ops[:, 1], np.int32),
            node2=_ro(ops[:, 2], np.int32),
            q0=_ro(phys(ops[:, 3], node_offset, node_data), np.int32),
            q1=_ro(phys(ops[:, 4], node_offset, node_data), np.int32),
            clbit=_ro(phys(ops[:, 5], node_offset, node_data), np.int32),
            protocol=_ro(ops[:, 6], np.int32),
            message=_ro(ops[:, 7], np.int32),
            source=_ro(ops[:, 8], np.int32),
            protocol_kind=_ro(protos[:, 0], np.int8),
            protocol_qubit=_ro(protos[:, 1], np.int32),
            protocol_home=_ro(protos[:, 2], np.int32),
            protocol_remote=_ro(protos[:, 3], np.int32),
            protocol_hops=_ro(protos[:, 4], np.int32),
            protocol_burst=_ro(protos[:, 5], np.int32),
            protocol_split=_ro(protos[:, 6], np.bool_),
            route_ptr=_ro(route_ptr),
            route_nodes=_ro(route_nodes, np.int32),
            message_source=_ro(msgs[:, 0], np.int32),
            message_target=_ro(msgs[:, 1], np.int32),
            message_bits=_ro(msgs[:, 2], np.int32),
            message_protocol=_ro(msgs[:, 3], np.int32),
            message_producers=_ro(msgs[:, 4:6], np.int32),
            message_consumer=_ro(msgs[:, 6], np.int32),
            plan_ebits=plan_ebits,
            gates=self.gates,
            circuit=self.circuit,
            swap_slots=_ro(swap_slots),
            notes={"hoist_runs": self.runs.num_runs, "bursts_cut": len(self.cut)},
        )
        return program

    def _protocol_routes(self, refs: npt.NDArray[np.int64]) -> tuple[IntArray, IntArray]:
        """Route CSR of every protocol, gathered from the bursts' routes in bulk."""
        ptr, nodes = self.route_ptr, self.route_nodes
        custom = self.b.custom_routes
        if custom:
            extra_ptr = ptr[-1] + np.cumsum([len(r) for r in custom])
            ptr = np.concatenate([ptr, extra_ptr])
            nodes = np.concatenate([nodes, np.asarray([n for r in custom for n in r], np.int64)])
        which = np.where(refs >= 0, refs, len(self.route_ptr) - 1 + (-1 - refs))
        lengths = ptr[which + 1] - ptr[which]
        out_ptr = np.zeros(len(which) + 1, dtype=np.int64)
        np.cumsum(lengths, out=out_ptr[1:])
        shift = np.repeat(ptr[which] - out_ptr[:-1], lengths)
        gathered = nodes[np.arange(int(out_ptr[-1]), dtype=np.int64) + shift]
        return out_ptr, gathered

    def _initial_codes(self) -> list[int]:
        stride = self.b.stride
        codes: list[int] = []
        used: dict[int, int] = {}
        for node in self.allocation.assignment[0].tolist():
            slot = used.get(int(node), 0)
            used[int(node)] = slot + 1
            codes.append(int(node) * stride + slot)
        return codes


def _ro(values: Any, dtype: Any = np.int64) -> npt.NDArray[Any]:
    array = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


def _comm_array(topology: Topology, comm_qubits: int | Sequence[int] | None) -> IntArray:
    if comm_qubits is None:
        return np.asarray(topology.comm_qubits, dtype=np.int64)
    if isinstance(comm_qubits, int | np.integer):
        if comm_qubits < 0:
            raise ResourceError(f"comm_qubits must be >= 0, got {comm_qubits}")
        return np.full(topology.num_nodes, int(comm_qubits), dtype=np.int64)
    array = np.asarray(list(comm_qubits), dtype=np.int64)
    if array.shape != (topology.num_nodes,) or (array < 0).any():
        raise ResourceError(
            f"comm_qubits must be one number or {topology.num_nodes} numbers >= 0, "
            f"got {list(comm_qubits)}"
        )
    return array


def lower(
    problem: AllocationProblem,
    allocation: Allocation,
    *,
    cost: CostReport | None = None,
    circuit: QuantumCircuit | None = None,
    routes: RouteTable | None = None,
    comm_qubits: int | Sequence[int] | None = None,
    hoist: bool = True,
    cut_bursts: Iterable[int] = (),
    sampling_overhead: float = 1.0,
) -> DistributedProgram:
    """Lower an allocated circuit to a :class:`DistributedProgram` (quantum mode).

    :param problem: the gates and the topology.
    :param allocation: where each qubit lives (static or time-sliced).
    :param cost: the allocation's cost report with records; computed when
        omitted.
    :param circuit: the source circuit the gate rows index (normalised, as
        for planning); without it the program covers only the gate rows and
        cannot be turned into a Qiskit circuit.
    :param routes: EPR routes; fewest-hops routes by default.
    :param comm_qubits: communication qubits per node (one number or one per
        node); the topology's by default.
    :param hoist: move burst gates together (see :mod:`qdframe.distribute._runs`).
    :param cut_bursts: indices of bursts carried out by circuit cutting
        instead (hybrid mode): their gates become ``CUT`` operations.
    :param sampling_overhead: what the cuts cost in samples (recorded on the
        program).
    :raises ResourceError: a node has too few communication qubits for a
        protocol (the message names node, need and capacity).
    :raises DistributionError: the cost report or circuit does not match.
    """
    topology = problem.topology
    comm = _comm_array(topology, comm_qubits)
    if cost is None:
        cost = evaluate(problem, allocation)
    else:
        allocation.check(problem)
    if circuit is not None:
        _check_circuit(problem.gates, circuit)
    table = routes if routes is not None else RouteTable(topology, comm_qubits=comm)
    if table.topology is not topology:
        raise DistributionError("the route table was made for another topology")
    lowering = _Lowering(
        problem.gates,
        topology,
        allocation,
        cost,
        circuit=circuit,
        routes=table,
        comm=comm,
        hoist=hoist,
        cut_bursts=frozenset(int(x) for x in cut_bursts),
    )
    program = lowering.run()
    if sampling_overhead != 1.0:
        program = replace(program, sampling_overhead=float(sampling_overhead))
    return program


def _check_circuit(gates: GateArray, circuit: QuantumCircuit) -> None:
    if circuit.num_qubits != gates.num_qubits:
        raise DistributionError(
            f"the circuit has {circuit.num_qubits} qubits but the plan's gates cover "
            f"{gates.num_qubits}"
        )
    if gates.num_gates and int(gates.source_index.max()) >= len(circuit.data):
        raise DistributionError(
            "the plan's gate rows point past the end of the circuit; lower the normalised "
            "circuit the plan was made from"
        )
    index = {bit: i for i, bit in enumerate(circuit.qubits)}
    for row, position in enumerate(gates.source_index.tolist()):
        qubits = [index[q] for q in circuit.data[position].qubits]
        a, c = (int(x) for x in gates.qubits[row])
        expected = [a] if c < 0 else [a, c]
        if qubits != expected:
            raise DistributionError(
                f"gate row {row} is on qubits {expected} but instruction {position} of the "
                f"circuit acts on {qubits}; lower the normalised circuit the plan was made from"
            )


def ebit_account(
    problem: AllocationProblem,
    allocation: Allocation,
    *,
    cost: CostReport | None = None,
    comm_qubits: int | Sequence[int] | None = None,
    routes: RouteTable | None = None,
    hoist: bool = True,
) -> EbitAccount:
    """The EPR pairs lowering will use, including bursts split for lack of
    communication qubits (for planners that want the exact figure)."""
    program = lower(
        problem, allocation, cost=cost, comm_qubits=comm_qubits, routes=routes, hoist=hoist
    )
    return EbitAccount(
        ebits=program.ebits,
        plan_ebits=program.plan_ebits,
        split_ebits=program.split_ebits,
        comm_splits=program.comm_splits,
    )
