"""Ebit counting on circuits small enough to count by hand.

Rules being checked (pytket-dqc's Distribution.cost() on all-to-all
networks): one ebit per burst, a burst being a cat-entanglement of one qubit
into one remote node serving every CP with that node until a gate acts
non-diagonally on the qubit; one ebit per teleported qubit; h hops -> h ebits.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdframe_topologies import build_all_to_all, build_line
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation, AllocationProblem, GateArray, normalize_circuit
from qdframe.cost import ebit_count, evaluate
from qdframe.errors import CircuitError, ResourceError


def _problem(circuit: QuantumCircuit, nodes: int, capacity: int) -> AllocationProblem:
    topology = build_all_to_all(nodes, qubits_per_node=capacity)
    return AllocationProblem(GateArray.from_circuit(circuit), topology)


def _ebits(circuit: QuantumCircuit, placement: list[int], nodes: int = 2) -> int:
    problem = _problem(circuit, nodes, max(placement.count(x) for x in set(placement)))
    return evaluate(problem, Allocation.static(placement)).ebits


def test_local_gates_cost_nothing() -> None:
    qc = QuantumCircuit(2)
    qc.cp(0.3, 0, 1)
    assert _ebits(qc, [0, 0], nodes=1) == 0


def test_consecutive_cps_on_one_pair_share_one_burst() -> None:
    # q0 on A, q1 on B. Three CPs in a row: one cat-entanglement of q0 into B
    # (or of q1 into A) serves all three.
    qc = QuantumCircuit(2)
    for angle in (0.1, 0.2, 0.3):
        qc.cp(angle, 0, 1)
    assert _ebits(qc, [0, 1]) == 1


def test_a_non_diagonal_gate_on_one_side_leaves_the_other_burst_open() -> None:
    # CP, H on q0, CP. q0's burst would end at the H, but q1 has no gate in
    # between: a single burst of q1 into A serves both CPs.
    qc = QuantumCircuit(2)
    qc.cp(0.1, 0, 1)
    qc.h(0)
    qc.cp(0.2, 0, 1)
    assert _ebits(qc, [0, 1]) == 1


def test_non_diagonal_gates_on_both_sides_force_a_second_burst() -> None:
    # CP, H on both qubits, CP: every burst ends in between -> 2 ebits.
    qc = QuantumCircuit(2)
    qc.cp(0.1, 0, 1)
    qc.h(0)
    qc.h(1)
    qc.cp(0.2, 0, 1)
    assert _ebits(qc, [0, 1]) == 2


def test_diagonal_single_qubit_gates_do_not_end_a_burst() -> None:
    # u(theta=0, ...) and rz are diagonal: still one burst for both CPs.
    qc = QuantumCircuit(2)
    qc.cp(0.1, 0, 1)
    qc.u(0.0, 0.4, 0.7, 0)
    qc.rz(0.5, 1)
    qc.u(0.0, 1.0, 0.2, 1)
    qc.cp(0.2, 0, 1)
    assert _ebits(qc, [0, 1]) == 1


def test_a_burst_serves_every_partner_on_the_same_node() -> None:
    # q0 on A does CPs with q1, q2, q3 on B; the partners get H gates in
    # between (gates on other qubits never end q0's burst): 1 ebit.
    qc = QuantumCircuit(4)
    for partner in (1, 2, 3):
        qc.cp(0.5, 0, partner)
        qc.h(partner)
    assert _ebits(qc, [0, 1, 1, 1]) == 1


def test_one_burst_per_remote_node() -> None:
    # q0 on node 0 talks to q1 (node 1) and q2 (node 2): two bursts. With
    # H gates on q1 and q2 in between, q0 must be the one linked.
    qc = QuantumCircuit(3)
    qc.cp(0.5, 0, 1)
    qc.h(1)
    qc.cp(0.5, 0, 2)
    qc.h(2)
    qc.cp(0.5, 0, 1)
    assert _ebits(qc, [0, 1, 2], nodes=3) == 2


def test_the_cheaper_side_is_chosen() -> None:
    # q0 (A) does CPs with q1 and q2 (B), then an H, then CPs with q1 and
    # q2 again. Linking q0 costs 2 (one per segment); linking q1 and q2
    # (which have no other gates) also costs 2; a mix cannot do better:
    # minimum 2.
    qc = QuantumCircuit(3)
    qc.cp(0.1, 0, 1)
    qc.cp(0.1, 0, 2)
    qc.h(0)
    qc.cp(0.1, 0, 1)
    qc.cp(0.1, 0, 2)
    assert _ebits(qc, [0, 1, 1]) == 2
    # Add H gates on q1 between its CPs: q1 can no longer serve both of its
    # CPs with one burst, but linking q0 twice still costs 2.
    qc2 = QuantumCircuit(3)
    qc2.cp(0.1, 0, 1)
    qc2.h(1)
    qc2.cp(0.1, 0, 2)
    qc2.h(0)
    qc2.cp(0.1, 0, 1)
    qc2.cp(0.1, 0, 2)
    assert _ebits(qc2, [0, 1, 1]) == 2


def test_cx_normalises_to_hadamards_around_a_cp() -> None:
    # CX = H(t) CP(pi) H(t): one remote CP, one ebit; two CXs with the same
    # target are separated by H gates on the target but share the control's
    # burst.
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    qc.cx(0, 1)
    basic = normalize_circuit(qc)
    assert set(basic.count_ops()) <= {"u", "cp"}
    problem = AllocationProblem(
        GateArray.from_circuit(basic), build_all_to_all(2, qubits_per_node=1)
    )
    assert ebit_count(problem, Allocation.static([0, 1])) == 1


def test_teleportation_costs_one_ebit_per_moved_qubit() -> None:
    # Slice 0: CP(q0,q1) then H on both; slice 1: CP(q0,q1) again.
    # q1 moves from node 1 to node 0 before slice 1 (capacity 2 per node):
    # 1 ebit for the remote CP of slice 0, 1 for the teleportation, and the
    # slice-1 CP is local -> 2 in total.
    qc = QuantumCircuit(2)
    qc.cp(0.1, 0, 1)
    qc.h(0)
    qc.h(1)
    qc.cp(0.2, 0, 1)
    problem = _problem(qc, 2, 2)
    allocation = Allocation([[0, 1], [0, 0]], slice_starts=[0, 3])
    report = evaluate(problem, allocation)
    assert (report.ebits, report.cat_ebits, report.teleport_ebits) == (2, 1, 1)
    assert report.num_teleportations == 1
    moves = report.teleportations
    assert moves is not None
    assert moves.moves.qubit.tolist() == [1] and moves.moves.before_gate.tolist() == [3]


def test_teleportation_ends_the_moving_qubits_burst() -> None:
    # Three CPs q0-q1 with nothing between them, one qubit per node; after
    # the first CP, q0 (node 0) and q2 (node 2) trade places: 2 teleports.
    # CP1 needs a burst into the other's node (1). CP2 and CP3 share one
    # burst (q0 now on node 2, q1 on node 1), but it cannot be the same as
    # CP1's: q0's segment ends at its teleport, and q1's burst into node 0 is
    # useless once q0 has left. Total 1 + 2 + 1 = 4.
    qc = QuantumCircuit(3)
    for angle in (0.1, 0.2, 0.3):
        qc.cp(angle, 0, 1)
    problem = _problem(qc, 3, 1)
    allocation = Allocation([[0, 1, 2], [2, 1, 0]], slice_starts=[0, 1])
    report = evaluate(problem, allocation)
    assert (report.ebits, report.num_bursts, report.num_teleportations) == (4, 2, 2)


def test_hops_multiply_ebits_and_add_swaps() -> None:
    # Line 0 - 1 - 2; q0 on node 0, q1 on node 2: one burst over 2 hops
    # costs 2 ebits and 1 swap; classical bits = 2 (burst) + 2 (swap).
    qc = QuantumCircuit(2)
    qc.cp(0.1, 0, 1)
    topology = build_line(3, qubits_per_node=1)
    problem = AllocationProblem(GateArray.from_circuit(qc), topology)
    report = evaluate(problem, Allocation.static([0, 2]))
    assert (report.ebits, report.swaps, report.max_hops, report.classical_bits) == (2, 1, 2, 4)


def test_burst_records_list_qubit_nodes_and_gates() -> None:
    qc = QuantumCircuit(3)
    qc.cp(0.5, 0, 1)  # instruction 0
    qc.h(1)  # instruction 1
    qc.cp(0.5, 0, 2)  # instruction 2
    qc.h(2)  # instruction 3
    qc.cp(0.5, 0, 1)  # instruction 4
    problem = _problem(qc, 2, 2)
    report = evaluate(problem, Allocation.static([0, 1, 1]))
    assert report.bursts is not None and len(report.bursts) == 1
    burst = report.bursts[0]
    assert (burst.qubit, burst.home, burst.remote, burst.hops) == (0, 0, 1, 1)
    assert burst.instructions == (0, 2, 4)
    assert report.gate_side is not None and report.gate_side.tolist() == [0, 0, 0]


def test_capacity_is_checked() -> None:
    qc = QuantumCircuit(3)
    qc.cp(0.5, 0, 1)
    problem = _problem(qc, 2, 2)
    with pytest.raises(ResourceError, match="node 0 holds 3 qubits in slice 0"):
        evaluate(problem, Allocation.static([0, 0, 0]))


def test_three_qubit_gates_must_be_normalised_first() -> None:
    qc = QuantumCircuit(3)
    qc.ccx(0, 1, 2)
    with pytest.raises(CircuitError, match="normalise the circuit"):
        GateArray.from_circuit(qc)


# --------------------------------------------------------------------------
# The optimal choice of sides against exhaustive search.
# --------------------------------------------------------------------------


def _brute_force(problem: AllocationProblem, allocation: Allocation) -> int:
    """Minimum over every choice of which qubit of each remote gate is linked."""
    gates = problem.gates
    table, starts = allocation.assignment, allocation.slice_starts
    segment = [0] * gates.num_qubits
    moves: dict[int, list[int]] = {}
    for t in range(1, allocation.num_slices):
        for q in np.flatnonzero(table[t] != table[t - 1]):
            moves.setdefault(int(starts[t]), []).append(int(q))
    teleport = int(np.abs(table[1:] != table[:-1]).sum())
    options = []
    for row, (a, b) in enumerate(gates.qubits.tolist()):
        for q in moves.get(row, []):
            segment[q] += 1
        if b < 0:
            segment[a] += 1
            continue
        t = int(np.searchsorted(starts, row, side="right") - 1)
        na, nb = int(table[t][a]), int(table[t][b])
        if na != nb:
            options.append(((a, segment[a], nb), (b, segment[b], na)))
    best = min(
        (
            len({options[i][c] for i, c in enumerate(choice)})
            for choice in itertools.product((0, 1), repeat=len(options))
        ),
        default=0,
    )
    return best + teleport


@st.composite
def _cases(draw: st.DrawFn) -> tuple[AllocationProblem, Allocation]:
    n = draw(st.integers(2, 6))
    k = draw(st.integers(2, 3))
    capacity = math.ceil(n / k)
    rows = []
    for _ in range(draw(st.integers(1, 11))):
        a = draw(st.integers(0, n - 1))
        if draw(st.booleans()) and draw(st.booleans()):
            rows.append((a, -1))
        else:
            b = draw(st.integers(0, n - 2))
            rows.append((a, b + (b >= a)))
    gates = GateArray(n, np.array(rows), np.arange(len(rows)))
    problem = AllocationProblem(gates, build_all_to_all(k, qubits_per_node=capacity))
    slots = [node for node in range(k) for _ in range(capacity)]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(rows) - 1)), max_size=2)))
    cuts = [c for c in cuts if c < len(rows)]
    table = [draw(st.permutations(slots))[:n] for _ in range(len(cuts) + 1)]
    return problem, Allocation(np.array(table), [0, *cuts])


@settings(max_examples=120, deadline=None)
@given(_cases())
def test_ebits_equal_the_exhaustive_minimum(case: tuple[AllocationProblem, Allocation]) -> None:
    problem, allocation = case
    report = evaluate(problem, allocation, cover="pairwise")
    assert report.ebits == _brute_force(problem, allocation)
    # Every remote gate is served by exactly one burst.
    assert report.bursts is not None
    served = sorted(g for burst in report.bursts for g in burst.gates)
    assert len(served) == len(set(served)) == report.remote_gates
