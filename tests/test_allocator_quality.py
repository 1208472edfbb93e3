"""Allocators find what they should on instances with a known answer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from qdframe_allocators import (
    AnnealingAllocator,
    FMAllocator,
    GreedyAllocator,
    HypergraphAllocator,
    RoundRobinAllocator,
    SequentialAllocator,
    TemporalAllocator,
    TopologyAwareAllocator,
    kahypar_available,
)
from qdframe_allocators._base import Budget
from qdframe_allocators.annealing import anneal
from qdframe_topologies import build_all_to_all, build_line

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import ebit_count
from qdframe.families import cp_fraction, quantum_volume


def _pairs_problem(n: int, rows: list[tuple[int, int]], topology) -> AllocationProblem:  # type: ignore[no-untyped-def]
    return AllocationProblem(GateArray(n, np.array(rows), np.arange(len(rows))), topology)


def _two_cliques() -> AllocationProblem:
    # Qubits 0-3 and 4-7 interact within their group (H gates between CPs
    # make every remote CP its own burst); one CP joins the groups.
    rows: list[tuple[int, int]] = []
    for group in ((0, 1, 2, 3), (4, 5, 6, 7)):
        for a, b in itertools.combinations(group, 2):
            rows += [(a, b), (a, -1), (b, -1)]
    rows.append((3, 4))
    return _pairs_problem(8, rows, build_all_to_all(2, qubits_per_node=4))


def test_baselines_lay_qubits_out_as_documented() -> None:
    problem = _pairs_problem(5, [(0, 1)], build_all_to_all(3, qubits_per_node=2))
    assert SequentialAllocator().allocate(problem).nodes(0).tolist() == [0, 0, 1, 1, 2]
    assert RoundRobinAllocator().allocate(problem).nodes(0).tolist() == [0, 1, 2, 0, 1]


@pytest.mark.parametrize(
    "allocator",
    [GreedyAllocator(), FMAllocator(), TemporalAllocator(), AnnealingAllocator(work=500)],
    ids=lambda a: a.name,
)
def test_two_groups_are_separated(allocator) -> None:  # type: ignore[no-untyped-def]
    problem = _two_cliques()
    allocation = allocator.allocate(problem, seed=1)
    # Only the single CP between the groups is remote: 1 ebit.
    assert ebit_count(problem, allocation) == 1


@pytest.mark.skipif(not kahypar_available(), reason="kahypar is not installed")
def test_hypergraph_separates_the_groups() -> None:
    problem = _two_cliques()
    allocation = HypergraphAllocator().allocate(problem, seed=0)
    assert ebit_count(problem, allocation) == 1
    assert allocation.notes["km1"] >= 1


def test_fm_matches_exhaustive_search_on_a_small_random_circuit() -> None:
    circuit = cp_fraction(8, 8, 0.5, seed=3)
    problem = AllocationProblem.from_circuit(circuit, build_all_to_all(2, qubits_per_node=4))
    optimum = min(
        ebit_count(problem, Allocation.static([0 if q in group else 1 for q in range(8)]))
        for group in itertools.combinations(range(8), 4)
    )
    assert ebit_count(problem, FMAllocator().allocate(problem, seed=0)) == optimum


def test_temporal_teleports_when_partners_change() -> None:
    # Phase 1: pairs (0,1) and (2,3) interact 10 times each, with H gates in
    # between so that every remote CP costs 1. Phase 2: pairs (0,2) and (1,3)
    # do the same. Any static placement on 2 nodes of 2 splits one phase's
    # pairs (>= 20 ebits); swapping two qubits between the phases costs 2.
    rows: list[tuple[int, int]] = []
    for pairs in (((0, 1), (2, 3)), ((0, 2), (1, 3))):
        for _ in range(10):
            for a, b in pairs:
                rows += [(a, b), (a, -1), (b, -1)]
    problem = _pairs_problem(4, rows, build_all_to_all(2, qubits_per_node=2))
    static = FMAllocator().allocate(problem, seed=0)
    assert ebit_count(problem, static) >= 20
    temporal = TemporalAllocator().allocate(problem, seed=0)
    assert not temporal.is_static
    assert ebit_count(problem, temporal) == 2


def test_temporal_beats_static_fm_on_quantum_volume() -> None:
    problem = AllocationProblem.from_circuit(
        quantum_volume(8, 8, seed=2), build_all_to_all(2, qubits_per_node=4), time_budget_s=5
    )
    static = ebit_count(problem, FMAllocator().allocate(problem, seed=0))
    temporal = ebit_count(problem, TemporalAllocator().allocate(problem, seed=0))
    assert temporal < 0.8 * static


def test_annealing_never_returns_worse_than_its_start() -> None:
    problem = _two_cliques()
    start = Allocation.static([0, 1, 0, 1, 0, 1, 0, 1])
    refined = anneal(problem, start, seed=0, budget=Budget(None, 30), steps=2000)
    assert ebit_count(problem, refined) < ebit_count(problem, start)
    assert refined.notes["start_ebits"] == ebit_count(problem, start)


def test_topology_aware_places_talkative_groups_next_to_each_other() -> None:
    # Three groups of two on a line of three nodes: groups A and C talk a
    # lot, B talks to nobody. A hop-blind placement can put A and C at the
    # two ends (2 hops); the refinement moves them next to each other.
    rows: list[tuple[int, int]] = []
    for _ in range(6):
        rows += [(0, 4), (0, -1), (4, -1)]
    rows += [(0, 1), (2, 3), (4, 5)]
    problem = _pairs_problem(6, rows, build_line(3, qubits_per_node=2))
    ends = Allocation.static([0, 0, 1, 1, 2, 2])
    assert ebit_count(problem, ends) == 12  # six 2-hop bursts
    refined = TopologyAwareAllocator(base="sequential").allocate(problem, seed=0)
    assert ebit_count(problem, refined) < ebit_count(problem, ends)
