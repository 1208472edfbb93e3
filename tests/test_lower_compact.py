"""The compact program form: one row per EPR delivery, routes found in bulk."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation, AllocationProblem
from qdframe.cost import evaluate
from qdframe.distribute import OpKind, RouteTable, count_epr_pairs, lower, plan_from_allocation
from qdframe.errors import ResourceError
from qdframe.families import random_pairs
from qdframe.topology import Topology
from qdframe.verification import verify


def torus(side: int, data: int = 2, comm: int | list[int] = 2) -> Topology:
    edges = set()
    for r in range(side):
        for c in range(side):
            u = r * side + c
            for v in (r * side + (c + 1) % side, ((r + 1) % side) * side + c):
                edges.add((min(u, v), max(u, v)))
    return Topology("torus", side * side, sorted(edges), data_qubits=data, comm_qubits=comm)


def test_bulk_routes_are_the_single_routes() -> None:
    topology = torus(5)
    table = RouteTable(topology)
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 25, size=200), rng.integers(0, 25, size=200)
    ptr, nodes = table.paths(a, b)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        assert tuple(nodes[ptr[i] : ptr[i + 1]].tolist()) == table.path(x, y)


def test_bulk_routes_refuse_swaps_at_nodes_without_two_comm_qubits() -> None:
    line = Topology("line", 3, [(0, 1), (1, 2)], data_qubits=1, comm_qubits=[2, 1, 2])
    with pytest.raises(ResourceError, match="at least 2 communication qubits"):
        RouteTable(line).paths([0], [2])


def test_a_delivery_is_one_row_and_expands_to_raw_pairs_and_swaps() -> None:
    topology = torus(3, data=4)
    gates = random_pairs(36, 60, seed=1)
    problem = AllocationProblem(gates, topology)
    allocation = Allocation.static([q % 9 for q in range(36)])
    # Pairwise bursts go straight from home, over several hops where needed.
    program = lower(problem, allocation, cost=evaluate(problem, allocation, cover="pairwise"))
    counts = program.kind_counts
    assert counts["epr"] == len(program.protocol_kind)  # one row per protocol
    assert program.ebits == int(program.protocol_hops.sum()) > counts["epr"]
    expanded = program.expanded()
    assert expanded.kind_counts["epr"] == program.ebits == expanded.ebits
    assert expanded.num_operations == program.num_operations + 8 * program.swaps + int(
        (program.protocol_hops - 1).sum()
    )
    assert expanded.classical_bits == program.classical_bits
    assert len(expanded.messages()) == program.num_messages_sent


def test_swaps_on_busy_nodes_record_their_slots_and_still_verify() -> None:
    # Node 1 holds a burst copy in slot 0 while a pair from 0 to 2 is swapped
    # through it: the swap takes slots 1 and 2, and the program says so.
    topology = Topology("line", 3, [(0, 1), (1, 2)], data_qubits=[2, 1, 1], comm_qubits=[2, 3, 2])
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.h(q)
    circuit.cp(0.4, 0, 2)  # burst of qubit 0 into node 1, kept open
    circuit.h(2)  # the next gate of the burst cannot move up to the first
    circuit.cp(0.7, 1, 3)  # burst of qubit 1 from node 0 to node 2, through node 1
    circuit.cp(0.9, 0, 2)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 0, 1, 2]), normalize=False)
    program = lower(plan.problem, plan.allocation, cost=plan.cost, circuit=plan.circuit)
    assert len(program.swap_slots) == 1
    row, node, left, right = program.swap_slots[0].tolist()
    assert program.kind[row] == OpKind.EPR and node == 1
    base = int(program.layout.node_offset[1] + program.layout.node_data[1])
    assert (left, right) == (base + 1, base + 2)
    assert program.ebits == count_epr_pairs(program.to_circuit())
    assert verify(circuit, program).verified
