"""Property tests: random circuits, topologies and allocations lower correctly.

Every lowered program must (1) simulate exactly to the original state on the
data qubits, for every combination of protocol measurement outcomes, and
(2) contain exactly as many EPR pairs as the cost model's ebits plus the
ebits of bursts re-opened for lack of communication qubits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import evaluate
from qdframe.distribute import count_epr_pairs, lower
from qdframe.topology import Topology
from qdframe.verification import verify

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def circuits(draw: st.DrawFn, max_qubits: int = 5, max_ops: int = 14) -> QuantumCircuit:
    """Random circuits in the planning basis, with diagonal and non-diagonal gates."""
    n = draw(st.integers(2, max_qubits))
    circuit = QuantumCircuit(n)
    angle = st.floats(-math.pi, math.pi, allow_nan=False)
    for _ in range(draw(st.integers(1, max_ops))):
        kind = draw(st.sampled_from(["cp", "cp", "cp", "u", "u", "p", "x"]))
        a = draw(st.integers(0, n - 1))
        if kind == "cp":
            b = draw(st.integers(0, n - 1).filter(lambda x, a=a: x != a))
            circuit.cp(draw(angle), a, b)
        elif kind == "u":
            circuit.u(draw(angle), draw(angle), draw(angle), a)
        elif kind == "p":
            circuit.p(draw(angle), a)
        else:
            circuit.u(math.pi, 0.0, math.pi, a)
    return circuit


@st.composite
def topologies(draw: st.DrawFn, num_qubits: int) -> Topology:
    """Connected networks of 2-4 nodes holding at least ``num_qubits`` qubits."""
    k = draw(st.integers(2, 4))
    shape = draw(st.sampled_from(["line", "ring", "star", "complete"]))
    if shape == "line" or k == 2:
        edges = [(i, i + 1) for i in range(k - 1)]
    elif shape == "ring":
        edges = [(i, (i + 1) % k) for i in range(k)]
    elif shape == "star":
        edges = [(0, i) for i in range(1, k)]
    else:
        edges = [(i, j) for i in range(k) for j in range(i + 1, k)]
    per_node = max(1, -(-num_qubits // k))
    spare = draw(st.integers(0, 1))
    comm = draw(st.sampled_from([2, 2, 3]))
    return Topology(shape, k, edges, data_qubits=per_node + spare, comm_qubits=comm)


@st.composite
def assignments(draw: st.DrawFn, num_qubits: int, topology: Topology) -> list[int]:
    slots = [n for n in range(topology.num_nodes) for _ in range(int(topology.data_qubits[n]))]
    order = draw(st.permutations(slots))
    return list(order[:num_qubits])


@st.composite
def cases(draw: st.DrawFn, sliced: bool) -> tuple[QuantumCircuit, AllocationProblem, Allocation]:
    circuit = draw(circuits())
    topology = draw(topologies(circuit.num_qubits))
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology)
    first = draw(assignments(circuit.num_qubits, topology))
    rows = problem.gates.num_gates
    if not sliced or rows < 2:
        return circuit, problem, Allocation.static(first)
    starts = sorted(draw(st.sets(st.integers(1, rows - 1), min_size=1, max_size=2)))
    table = [first] + [draw(assignments(circuit.num_qubits, topology)) for _ in starts]
    return circuit, problem, Allocation.sliced(table, [0, *starts])


def _check(circuit: QuantumCircuit, problem: AllocationProblem, allocation: Allocation) -> None:
    cost = evaluate(problem, allocation)
    program = lower(problem, allocation, cost=cost, circuit=circuit)
    built = program.to_circuit()
    # EPR pairs in the circuit == the cost model's ebits + re-opened bursts.
    assert count_epr_pairs(built) == program.ebits == cost.ebits + program.split_ebits
    assert program.route_extra_ebits == 0
    if program.comm_splits == 0:
        assert program.classical_bits == cost.classical_bits
    assert program.num_teleportations == cost.num_teleportations
    # Never more communication qubits than a node has.
    assert (program.layout.node_comm <= problem.topology.comm_qubits).all()
    assert (program.layout.node_data <= problem.topology.data_qubits).all()
    result = verify(circuit, program)
    assert result.verified, result


@SETTINGS
@given(cases(sliced=False))
def test_static_allocations_lower_to_equivalent_circuits(
    case: tuple[QuantumCircuit, AllocationProblem, Allocation],
) -> None:
    _check(*case)


@SETTINGS
@given(cases(sliced=True))
def test_time_sliced_allocations_lower_to_equivalent_circuits(
    case: tuple[QuantumCircuit, AllocationProblem, Allocation],
) -> None:
    _check(*case)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(sliced=True))
def test_many_more_random_cases(case: tuple[QuantumCircuit, AllocationProblem, Allocation]) -> None:
    _check(*case)


@SETTINGS
@given(cases(sliced=True), st.sampled_from([1, 2]))
def test_scarce_comm_qubits_on_a_complete_network(
    case: tuple[QuantumCircuit, AllocationProblem, Allocation], comm: int
) -> None:
    """With one or two communication qubits per node bursts are split or refused, never wrong."""
    circuit, problem, allocation = case
    k = problem.topology.num_nodes
    complete = Topology(
        "complete", k, [(i, j) for i in range(k) for j in range(i + 1, k)],
        data_qubits=problem.topology.data_qubits.tolist(), comm_qubits=comm,
    )  # fmt: skip
    problem = AllocationProblem(problem.gates, complete)
    cost = evaluate(problem, allocation)
    try:
        program = lower(problem, allocation, cost=cost, circuit=circuit)
    except Exception as error:  # only migration cycles may need a second comm qubit
        assert comm == 1 and "cycle of migrations" in str(error)
        return
    assert program.ebits == cost.ebits + program.split_ebits
    assert verify(circuit, program).verified


def test_split_count_is_deterministic() -> None:
    rng = np.random.default_rng(5)
    circuit = QuantumCircuit(6)
    for _ in range(40):
        a, b = rng.choice(6, size=2, replace=False)
        circuit.cp(float(rng.uniform(0, 3)), int(a), int(b))
        circuit.u(float(rng.uniform(0, 3)), 0.0, 0.0, int(rng.integers(6)))
    topology = Topology("complete", 3, [(0, 1), (0, 2), (1, 2)], data_qubits=2, comm_qubits=1)
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology)
    allocation = Allocation.static([0, 1, 2, 0, 1, 2])
    first = lower(problem, allocation, circuit=circuit)
    second = lower(problem, allocation, circuit=circuit)
    assert first.comm_splits == second.comm_splits
    assert np.array_equal(first.kind, second.kind)
    assert verify(circuit, first).verified
