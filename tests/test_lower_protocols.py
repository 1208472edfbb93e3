"""Lowering of single protocols, checked operation by operation and by exact simulation."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import evaluate
from qdframe.distribute import (
    DistributedProgram,
    OpKind,
    RouteTable,
    compile_distributed,
    count_epr_pairs,
    lower,
    plan_from_allocation,
)
from qdframe.errors import DistributionError, ResourceError
from qdframe.topology import Topology
from qdframe.verification import verify


def line(k: int, data: int = 2, comm: int | list[int] = 2) -> Topology:
    return Topology(
        "line", k, [(i, i + 1) for i in range(k - 1)], data_qubits=data, comm_qubits=comm
    )


def ring(k: int, data: int = 2, comm: int | list[int] = 2) -> Topology:
    return Topology(
        "ring", k, [(i, (i + 1) % k) for i in range(k)], data_qubits=data, comm_qubits=comm
    )


def lowered(circuit: QuantumCircuit, topology: Topology, nodes: list[int]) -> DistributedProgram:
    plan = plan_from_allocation(circuit, topology, Allocation.static(nodes), normalize=False)
    return lower(plan.problem, plan.allocation, cost=plan.cost, circuit=plan.circuit)


def kinds(program: DistributedProgram) -> list[str]:
    return [OpKind(int(k)).name for k in program.kind]


def test_one_remote_gate_between_neighbours_is_one_cat_entanglement() -> None:
    circuit = QuantumCircuit(2)
    circuit.u(0.3, 0.2, 0.1, 0)
    circuit.u(1.1, 0.0, 0.4, 1)
    circuit.cp(0.7, 0, 1)
    program = lowered(circuit, line(2, data=1), [0, 1])
    assert kinds(program) == [
        "GATE", "GATE",  # the two u gates, local
        "EPR", "CX", "MEASURE", "X_IF", "RESET",  # cat-entangler
        "GATE",  # the controlled phase, on the remote node
        "H", "MEASURE", "Z_IF", "RESET",  # cat-disentangler
    ]  # fmt: skip
    assert program.ebits == 1 == program.plan_ebits
    # The cat copy, not qubit 0, carries the remote gate on node 1.
    gate = program.operation(7)
    assert gate.node == 1 and gate.qubits == ("n1.c0", "n1.d0")
    assert [m.bits for m in program.messages()] == [1, 1]
    assert [(m.source, m.target) for m in program.messages()] == [(0, 1), (1, 0)]
    assert verify(circuit, program).verified


def test_two_hop_pair_is_swapped_at_the_middle_node() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.h(1)
    circuit.cp(1.3, 0, 1)
    circuit.h(0)
    plan = plan_from_allocation(circuit, line(3, data=1), Allocation.static([0, 2]))
    program = compile_distributed(circuit, plan)
    assert program.ebits == 2 == plan.cost.ebits
    assert program.swaps == 1
    epr = program.network_operations()
    assert [op.nodes for op in epr] == [(0, 1), (1, 2)]
    assert [op.link for op in epr] == [0, 1]
    # Two communication qubits are busy at the swap node at once.
    assert program.layout.node_comm.tolist() == [1, 2, 1]
    swap_messages = [m for m in program.messages() if m.source == 1]
    assert len(swap_messages) == 1 and swap_messages[0].bits == 2 and swap_messages[0].target == 2
    result = verify(circuit, program)
    assert result.verified and result.method == "exact-state"


def test_migration_is_a_teleportation_into_a_data_slot() -> None:
    circuit = QuantumCircuit(3)
    for q in range(3):
        circuit.u(0.4 + q, 0.3, 0.2 * q, q)
    circuit.cp(0.9, 0, 1)
    circuit.cp(0.5, 1, 2)
    topology = line(2, data=2)
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology)
    # Qubit 1 starts on node 0 with qubit 0 and moves to node 1 before the second cp.
    allocation = Allocation.sliced([[0, 0, 1], [0, 1, 1]], [0, 4])
    program = lower(problem, allocation, circuit=circuit)
    assert program.num_teleportations == 1 and program.num_bursts == 0
    assert program.ebits == evaluate(problem, allocation).ebits == 1
    assert program.layout.initial.tolist() == [0, 1, 3]
    assert program.layout.final[1] == 4  # node 1's second data slot
    assert verify(circuit, program).verified


def test_swapping_qubits_between_two_full_nodes_parks_one_in_a_comm_qubit() -> None:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.u(0.3 * (q + 1), 0.1, 0.2, q)
    circuit.cp(0.8, 0, 1)
    circuit.cp(0.6, 2, 3)
    circuit.cp(1.2, 0, 2)
    circuit.cp(0.4, 1, 3)
    topology = line(2, data=2)
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology)
    allocation = Allocation.sliced([[0, 0, 1, 1], [0, 1, 0, 1]], [0, 6])
    program = lower(problem, allocation, circuit=circuit)
    assert program.num_teleportations == 2
    assert program.ebits == evaluate(problem, allocation).ebits == 2
    assert verify(circuit, program).verified
    with pytest.raises(ResourceError, match="communication qubit"):
        lower(problem, allocation, circuit=circuit, comm_qubits=1)


def test_swap_nodes_need_two_comm_qubits_and_routes_avoid_those_without() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cp(0.9, 0, 1)
    # Ring of 4: nodes 0 and 2 are joined through 1 or through 3.
    topology = ring(4, data=1, comm=[2, 1, 2, 2])
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 2]), normalize=False)
    program = lower(plan.problem, plan.allocation, circuit=plan.circuit)
    assert program.route(0) == (0, 3, 2)
    assert verify(circuit, program).verified
    blocked = line(3, data=1, comm=[2, 1, 2])
    plan = plan_from_allocation(circuit, blocked, Allocation.static([0, 2]), normalize=False)
    with pytest.raises(ResourceError, match="at least 2 communication qubits"):
        lower(plan.problem, plan.allocation, circuit=plan.circuit)


def test_fixed_route_costs_extra_ebits_and_says_so() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cp(0.9, 0, 1)
    topology = ring(4, data=1)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 1]), normalize=False)
    routes = RouteTable(topology)
    routes.set(0, 1, [0, 3, 2, 1])
    program = lower(plan.problem, plan.allocation, circuit=plan.circuit, routes=routes)
    assert program.ebits == 3 == plan.cost.ebits + program.route_extra_ebits
    assert program.route_extra_ebits == 2
    assert verify(circuit, program).verified
    with pytest.raises(Exception, match="not a link"):
        routes.set(0, 2, [0, 2])


def _crowded_circuit() -> QuantumCircuit:
    """Three qubits of node 0 each keep a burst into node 1 open across the others'.

    Between the gates of each burst, the partner on node 1 gets a Hadamard,
    so the gates cannot be moved together; with two communication qubits on
    node 1 one burst has to be closed and re-opened.
    """
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.h(q)
    for round_ in range(2):
        for q in range(3):
            circuit.cp(0.3 + 0.2 * q + round_, q, 3)
            circuit.h(3)
    return circuit


def test_running_out_of_comm_qubits_splits_bursts_and_counts_the_ebits() -> None:
    circuit = _crowded_circuit()
    topology = line(2, data=3, comm=2)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 0, 0, 1]), normalize=False)
    # Qubit 3 cannot be the burst side (its Hadamards end its segments), so
    # each of qubits 0..2 opens one burst into node 1.
    assert plan.cost.ebits == 3
    program = lower(plan.problem, plan.allocation, cost=plan.cost, circuit=plan.circuit)
    assert program.comm_splits >= 1
    assert program.ebits == program.plan_ebits + program.split_ebits
    assert program.ebits == count_epr_pairs(program.to_circuit())
    assert program.layout.node_comm.tolist() == [1, 2]
    assert verify(circuit, program).verified
    roomy = lower(plan.problem, plan.allocation, circuit=plan.circuit, comm_qubits=[1, 3])
    assert roomy.comm_splits == 0 and roomy.ebits == plan.cost.ebits
    assert verify(circuit, roomy).verified


def test_runs_move_commuting_burst_gates_together() -> None:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cp(0.5, 0, 1)
    circuit.cp(0.7, 1, 2)  # diagonal on the partner: the next gate may move past it
    circuit.cp(0.9, 0, 2)
    topology = line(2, data=2)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 1, 1]), normalize=False)
    hoisted = lower(plan.problem, plan.allocation, circuit=plan.circuit)
    plain = lower(plan.problem, plan.allocation, circuit=plan.circuit, hoist=False)
    assert hoisted.notes["hoist_runs"] == 1 and plain.notes["hoist_runs"] == 2

    def burst_gates(program: DistributedProgram) -> list[int]:
        return [int(program.source[r]) for r in range(program.num_operations)
                if program.kind[r] == OpKind.GATE and program.node[r] == 1]  # fmt: skip

    assert burst_gates(plain) == [1, 2, 3]
    # The first remote gate waits for the second (nothing on qubit 1 stops it).
    assert burst_gates(hoisted) == [2, 1, 3]
    assert verify(circuit, hoisted).verified and verify(circuit, plain).verified


def test_source_measurements_and_conditions_run_locally() -> None:
    circuit = QuantumCircuit(3, 2)
    circuit.h(0)
    circuit.cp(1.1, 0, 2)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.cp(0.4, 1, 2)
    circuit.measure(2, 1)
    plan = plan_from_allocation(
        circuit, line(2, data=2), Allocation.static([0, 0, 1]), normalize=False
    )
    program = lower(plan.problem, plan.allocation, circuit=plan.circuit)
    built = program.to_circuit()
    assert [reg.name for reg in built.cregs][-1] == circuit.cregs[0].name
    result = verify(circuit, program)
    assert result.verified and result.method == "exact-distribution"


def test_gate_array_programs_have_no_circuit() -> None:
    gates = GateArray.from_pairs(4, [[0, 2], [1, 3], [0, 3], [0, 1]])
    problem = AllocationProblem(gates, ring(4, data=1))
    allocation = Allocation.static([0, 1, 2, 3])
    program = lower(problem, allocation)
    assert program.ebits == evaluate(problem, allocation).ebits
    assert all(op.name in ("cp", "epr", "cx", "h", "measure", "reset", "x_if", "z_if")
               for node in range(4) for op in program.node_operations(node))  # fmt: skip
    with pytest.raises(DistributionError, match="without a source circuit"):
        program.to_circuit()


def test_a_plan_for_another_circuit_is_refused() -> None:
    circuit = QuantumCircuit(2)
    circuit.cp(0.3, 0, 1)
    other = QuantumCircuit(2)
    other.cp(0.3, 0, 1)
    other.cp(0.2, 0, 1)
    plan = plan_from_allocation(other, line(2, data=1), Allocation.static([0, 1]), normalize=False)
    with pytest.raises(DistributionError, match="do not match"):
        compile_distributed(circuit, plan)


def test_too_few_comm_qubits_for_a_protocol_end_is_named() -> None:
    circuit = QuantumCircuit(2)
    circuit.cp(0.3, 0, 1)
    plan = plan_from_allocation(
        circuit, line(2, data=1), Allocation.static([0, 1]), normalize=False
    )
    with pytest.raises(
        ResourceError,
        match=r"^a burst of qubit 0 from node 0 to 1 needs 1 communication qubit\(s\) on node 1, "
        r"which has 0; raise comm_qubits_per_node$",
    ):
        lower(plan.problem, plan.allocation, circuit=plan.circuit, comm_qubits=[1, 0])


def test_program_views_agree_with_the_columns() -> None:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.h(q)
    circuit.cp(0.5, 0, 3)
    circuit.cp(0.6, 1, 2)
    program = lowered(circuit, ring(4, data=1), [0, 1, 2, 3])
    total = sum(len(program.node_operations(n)) for n in range(4))
    two_ended = int(np.count_nonzero(program.node2 >= 0))
    assert total == program.num_operations + two_ended
    assert sum(m.bits for m in program.messages()) == program.classical_bits
    summary = program.summary()
    assert summary["ebits"] == program.ebits and summary["operations"] == program.num_operations


def test_runs_spare_qft_the_comm_qubit_splits() -> None:
    from qdframe.families import qft_no_swaps

    topology = ring(4, data=4, comm=2)
    circuit = qft_no_swaps(16)
    plan = plan_from_allocation(circuit, topology, Allocation.static([q % 4 for q in range(16)]))
    args = (plan.problem, plan.allocation)
    plain = lower(*args, cost=plan.cost, circuit=plan.circuit, hoist=False)
    grouped = lower(*args, cost=plan.cost, circuit=plan.circuit)
    assert plain.comm_splits > 0
    assert grouped.comm_splits == 0 and grouped.ebits == plan.cost.ebits
