"""Tree bursts and detached gates: the exact cover, its lowering and its verification."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation, AllocationProblem, GateArray, normalize_circuit
from qdframe.cost import evaluate
from qdframe.distribute import lower
from qdframe.errors import ConfigError
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology
from qdframe.verification import verify


def _network(kind: str, k: int, data: int, comm: int = 2) -> Topology:
    if kind == "all":
        edges = list(itertools.combinations(range(k), 2))
    else:
        edges = [(i, (i + 1) % k) for i in range(k)]
    return Topology(kind, k, edges, data_qubits=data, comm_qubits=comm)


def _qft(n: int, k: int, kind: str, comm: int = 2) -> tuple[AllocationProblem, Allocation]:
    circuit = normalize_circuit(qft_no_swaps(n))
    cap = math.ceil(n / k)
    problem = AllocationProblem(GateArray.from_circuit(circuit), _network(kind, k, cap, comm))
    return problem, Allocation.static(np.repeat(np.arange(k), cap)[:n])


def _tree_minimum(problem: AllocationProblem, allocation: Allocation) -> int:
    """Fewest copies over every set of (segment, node) copies that serves each
    remote gate on one of its ends or detached, each copy hanging off one a
    hop closer to home: by enumeration, smallest sets first."""
    table = allocation.assignment[0]
    dist = problem.topology.distances()
    segment = [0] * problem.gates.num_qubits
    gates = []
    for a, b in problem.gates.qubits.tolist():
        if b < 0:
            segment[a] += 1
            continue
        if table[a] != table[b]:
            gates.append(((a, segment[a]), int(table[a]), (b, segment[b]), int(table[b])))
    home = {s: n for sa, na, sb, nb in gates for s, n in ((sa, na), (sb, nb))}
    k = problem.topology.num_nodes
    candidates = sorted((s, n) for s in home for n in range(k) if n != home[s])

    def valid(chosen: set[tuple[tuple[int, int], int]]) -> bool:
        for sa, na, sb, nb in gates:
            if (sb, na) in chosen or (sa, nb) in chosen:
                continue
            if not any((sa, x) in chosen and (sb, x) in chosen for x in range(k)):
                return False
        for s, n in chosen:
            h = home[s]
            if dist[h, n] >= 2 and not any(
                (s, m) in chosen and dist[h, m] == dist[h, n] - 1
                for m in problem.topology.neighbours(n)
            ):
                return False
        return True

    for size in range(len(candidates) + 1):
        for chosen in itertools.combinations(candidates, size):
            if valid(set(chosen)):
                return size
    raise AssertionError("no cover")  # pragma: no cover


@st.composite
def _cases(
    draw: st.DrawFn,
    nodes: tuple[int, int] = (3, 4),
    qubits: tuple[int, int] = (3, 5),
    max_gates: int = 7,
) -> tuple[AllocationProblem, Allocation]:
    n = draw(st.integers(*qubits))
    k = draw(st.integers(*nodes))
    kind = draw(st.sampled_from(["all", "ring"]))
    rows = []
    for _ in range(draw(st.integers(1, max_gates))):
        a = draw(st.integers(0, n - 1))
        if draw(st.integers(0, 3)) == 0:
            rows.append((a, -1))
        else:
            b = draw(st.integers(0, n - 2))
            rows.append((a, b + (b >= a)))
    gates = GateArray(n, np.array(rows), np.arange(len(rows)))
    capacity = math.ceil(n / k)
    problem = AllocationProblem(gates, _network(kind, k, capacity, comm=4))
    slots = [node for node in range(k) for _ in range(capacity)]
    return problem, Allocation.static(np.array(draw(st.permutations(slots))[:n]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_tree_cover_equals_the_exhaustive_minimum(
    case: tuple[AllocationProblem, Allocation],
) -> None:
    problem, allocation = case
    report = evaluate(problem, allocation, cover="tree")
    pairwise = evaluate(problem, allocation, cover="pairwise")
    minimum = _tree_minimum(problem, allocation)
    assert report.cat_ebits == minimum <= pairwise.cat_ebits
    assert report.cover_status == ("optimal" if report.remote_gates else "koenig")
    assert report.bursts is not None
    # Every remote gate is served once; a detached gate names its second copy.
    served = sorted(g for burst in report.bursts for g in burst.gates)
    assert len(served) == len(set(served)) == report.remote_gates
    assert int(report.bursts.hops.sum()) == report.cat_ebits


@pytest.mark.parametrize(("kind", "pairwise", "tree"), [("all", 24, 16), ("ring", 32, 16)])
def test_qft16_on_four_nodes_costs_sixteen_with_tree_bursts(
    kind: str, pairwise: int, tree: int
) -> None:
    problem, allocation = _qft(16, 4, kind)
    report = evaluate(problem, allocation, cover="tree")
    alone = evaluate(problem, allocation, cover="pairwise")
    assert report.pairwise_ebits == pairwise == alone.ebits
    assert report.ebits == tree
    assert report.cover == "tree" and report.cover_status == "optimal"
    assert report.cover_bound == tree
    assert report.detached_gates > 0
    assert report.bursts is not None and report.bursts.is_tree


def test_the_cover_is_deterministic() -> None:
    problem, allocation = _qft(12, 3, "all")
    first = evaluate(problem, allocation, cover="tree")
    again = evaluate(problem, allocation, cover="tree")
    assert first.bursts is not None and again.bursts is not None
    assert list(first.bursts) == list(again.bursts)


def test_auto_keeps_the_pairwise_cover_when_communication_qubits_are_short() -> None:
    problem, allocation = _qft(16, 4, "all", comm=2)
    short = evaluate(problem, allocation)
    assert short.cover == "pairwise" and short.ebits == 24 and short.tree_ebits == 16
    assert lower(problem, allocation, cost=short).ebits == 24
    problem, allocation = _qft(16, 4, "all", comm=16)
    plenty = evaluate(problem, allocation)
    assert plenty.cover == "tree" and plenty.ebits == 16
    program = lower(problem, allocation, cost=plenty)
    assert program.ebits < 24


def test_an_unknown_cover_is_refused() -> None:
    problem, allocation = _qft(4, 2, "all")
    with pytest.raises(ConfigError, match="cover must be one of auto, pairwise, tree"):
        evaluate(problem, allocation, cover="steiner")


@pytest.mark.parametrize(("kind", "comm"), [("all", 6), ("ring", 6), ("all", 2), ("ring", 2)])
def test_tree_programs_verify_and_use_the_planned_pairs(kind: str, comm: int) -> None:
    n, k = 6, 4
    problem, allocation = _qft(n, k, kind, comm)
    circuit = normalize_circuit(qft_no_swaps(n))
    report = evaluate(problem, allocation, cover="tree")
    assert report.bursts is not None and report.bursts.is_tree
    program = lower(problem, allocation, cost=report, circuit=circuit)
    assert program.plan_ebits == report.ebits
    assert program.ebits == report.ebits + program.split_ebits
    if comm == 6:
        assert program.split_ebits == 0
    assert int(program.kind_counts["epr"]) == int(program.delivery_hops.size)
    assert verify(qft_no_swaps(n), program).verified


def _copies_from_copies(report_bursts: object) -> list[int]:
    bursts = report_bursts
    return [i for i, p in enumerate(bursts.parents.tolist()) if p >= 0]  # type: ignore[attr-defined]


def test_a_detached_gate_on_the_wrong_copy_is_rejected() -> None:
    n, k = 6, 4
    problem, allocation = _qft(n, k, "all", comm=6)
    circuit = normalize_circuit(qft_no_swaps(n))
    report = evaluate(problem, allocation, cover="tree")
    bursts = report.bursts
    assert bursts is not None
    seconds = bursts.seconds.copy()
    j = int(np.flatnonzero(seconds >= 0)[0])
    right = int(seconds[j])
    # Another copy on the same node, of another qubit: the gate lands on it.
    wrong = next(
        i
        for i in range(len(bursts))
        if bursts.remote[i] == bursts.remote[right]
        and bursts.qubit[i] != bursts.qubit[right]
        and i != int(np.searchsorted(bursts.gate_ptr, j, side="right") - 1)
    )
    seconds[j] = wrong
    broken = replace(report, bursts=replace(bursts, gate_second=seconds))
    program = lower(problem, allocation, cost=broken, circuit=circuit)
    assert not verify(qft_no_swaps(n), program).verified
    good = lower(problem, allocation, cost=report, circuit=circuit)
    assert verify(qft_no_swaps(n), good).verified


@pytest.mark.slow
def test_a_copy_made_from_the_wrong_parent_is_rejected() -> None:
    n, k = 8, 4
    problem, allocation = _qft(n, k, "ring", comm=4)
    circuit = normalize_circuit(qft_no_swaps(n))
    # Node 2 is two hops from node 0: its copies of qubits on node 0 hang off node 1 or 3.
    report = evaluate(problem, allocation, cover="tree")
    bursts = report.bursts
    assert bursts is not None
    children = _copies_from_copies(bursts)
    assert children, "a ring of four needs copies made from copies"
    parents = bursts.parents.copy()
    child = children[0]
    right = int(parents[child])
    wrong = next(
        i
        for i in range(len(bursts))
        if bursts.remote[i] == bursts.remote[right] and bursts.qubit[i] != bursts.qubit[right]
    )
    parents[child] = wrong
    broken = replace(report, bursts=replace(bursts, parent=parents))
    program = lower(problem, allocation, cost=broken, circuit=circuit)
    assert not verify(qft_no_swaps(n), program).verified
    good = lower(problem, allocation, cost=report, circuit=circuit)
    assert good.ebits == report.ebits + good.split_ebits
    assert verify(qft_no_swaps(n), good).verified


def test_auto_searches_covers_that_fit_the_communication_qubits() -> None:
    # On a ring of four the unrestricted tree cover re-opens many bursts with
    # two communication qubits; auto takes a restricted one that still beats
    # the pairwise cover once lowered.
    problem, allocation = _qft(16, 4, "ring", comm=2)
    pairwise = evaluate(problem, allocation, cover="pairwise")
    tree = evaluate(problem, allocation, cover="tree")
    auto = evaluate(problem, allocation)
    pairs = {
        name: lower(problem, allocation, cost=report).ebits
        for name, report in (("pairwise", pairwise), ("tree", tree), ("auto", auto))
    }
    assert pairs["tree"] > pairs["pairwise"]
    assert auto.cover == "tree" and auto.cover_status == "comm_limited"
    assert pairs["auto"] < pairs["pairwise"]
    assert auto.tree_ebits == tree.ebits <= auto.ebits < pairwise.ebits


def test_capacity_rows_bound_the_copies_a_node_holds_at_once() -> None:
    from qdframe.cover import tree_cover

    problem, allocation = _qft(8, 4, "all")
    report = evaluate(problem, allocation, cover="pairwise")
    rows = problem.gates.pair_rows
    qubits = problem.gates.qubits[rows].astype(np.int64)
    nodes = allocation.assignment[0][qubits].astype(np.int64)
    remote = np.flatnonzero(nodes[:, 0] != nodes[:, 1])
    from qdframe.cost import _segments

    seg_a, seg_b = _segments(
        problem, allocation.migrations(), rows[remote], qubits[remote, 0], qubits[remote, 1]
    )
    args = (problem.topology, seg_a, seg_b, nodes[remote, 0], nodes[remote, 1])
    args += (qubits[remote, 0], qubits[remote, 1])
    free = tree_cover(*args)
    assert free is not None and free.ebits < report.ebits
    # No cover holds one copy per node at a time; two at a time costs more.
    assert tree_cover(*args, positions=rows[remote], capacity=np.ones(4, dtype=np.int64)) is None
    held = tree_cover(*args, positions=rows[remote], capacity=np.full(4, 2, dtype=np.int64))
    assert held is not None and held.ebits > free.ebits
    for node in range(4):
        starts, ends = [], []
        for s in held.copy_segment[held.copy_node == node].tolist():
            mine = rows[remote][(seg_a == s) | (seg_b == s)]
            starts.append(int(mine.min()))
            ends.append(int(mine.max()))
        for t in starts:
            assert sum(lo <= t <= hi for lo, hi in zip(starts, ends, strict=True)) <= 2


@st.composite
def _sliced(draw: st.DrawFn) -> tuple[QuantumCircuit, AllocationProblem, Allocation]:
    n = draw(st.integers(3, 5))
    k = draw(st.integers(3, 4))
    kind = draw(st.sampled_from(["all", "ring"]))
    circuit = QuantumCircuit(n)
    for _ in range(draw(st.integers(3, 12))):
        a = draw(st.integers(0, n - 1))
        if draw(st.integers(0, 3)) == 0:
            circuit.u(0.3 + a, 0.2, 0.1, a)
        else:
            b = draw(st.integers(0, n - 2))
            circuit.cp(0.4 + 0.1 * a, a, b + (b >= a))
    normalised = normalize_circuit(circuit)
    gates = GateArray.from_circuit(normalised)
    capacity = math.ceil(n / k) + 1
    comm = draw(st.integers(2, 3))
    problem = AllocationProblem(gates, _network(kind, k, capacity, comm))
    slots = [node for node in range(k) for _ in range(capacity)]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, gates.num_gates - 1)), max_size=2)))
    cuts = [c for c in cuts if c < gates.num_gates]
    table = [draw(st.permutations(slots))[:n] for _ in range(len(cuts) + 1)]
    return circuit, problem, Allocation(np.array(table), [0, *cuts])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sliced())
def test_tree_programs_with_teleportations_verify(
    case: tuple[QuantumCircuit, AllocationProblem, Allocation],
) -> None:
    circuit, problem, allocation = case
    report = evaluate(problem, allocation, cover="tree")
    program = lower(problem, allocation, cost=report, circuit=normalize_circuit(circuit))
    assert program.plan_ebits == report.ebits
    assert program.ebits == report.ebits + program.split_ebits
    assert verify(circuit, program).verified


def test_segments_that_meet_one_partner_each_need_no_search() -> None:
    # Pairs of qubits meet in blocks of phases between non-diagonal gates,
    # as in Quantum Volume: every block needs a copy of its own.
    rows = []
    for layer in range(3):
        for a in range(0, 4):
            b = (a + 4 + layer) % 8
            rows += [(a, b), (a, b), (a, -1), (b, -1)]
    gates = GateArray(8, np.array(rows), np.arange(len(rows)))
    problem = AllocationProblem(gates, _network("all", 4, 2))
    allocation = Allocation.static([0, 0, 1, 1, 2, 2, 3, 3])
    report = evaluate(problem, allocation, cover="tree")
    assert report.cover == "pairwise" and report.cover_status == "optimal"
    assert report.ebits == report.pairwise_ebits == report.tree_ebits
    # One copy per pair of segments on different nodes (all-to-all: one hop).
    table = allocation.assignment[0]
    remote = sum(
        1 for layer in range(3) for a in range(4) if table[a] != table[(a + 4 + layer) % 8]
    )
    assert report.ebits == remote > 0
    # The smallest such instance, by enumeration of every cover.
    first = GateArray(8, np.array(rows[:16]), np.arange(16))
    small = AllocationProblem(first, _network("all", 4, 2))
    assert evaluate(small, allocation, cover="tree").ebits == _tree_minimum(small, allocation)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(nodes=(2, 2), qubits=(3, 6), max_gates=9))
def test_on_two_nodes_the_pairwise_cover_is_the_minimum_without_a_search(
    case: tuple[AllocationProblem, Allocation],
) -> None:
    # No gate can be detached and every copy goes to the one other node:
    # König's cover is a minimum tree cover, so no integer program runs.
    problem, allocation = case
    report = evaluate(problem, allocation, cover="tree")
    assert report.cat_ebits == _tree_minimum(problem, allocation)
    if report.remote_gates:
        assert report.cover == "pairwise" and report.cover_status == "optimal"
