"""Every allocator returns an allocation that fits the capacities, on any input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdframe_allocators import (
    AnnealingAllocator,
    EnsembleAllocator,
    FMAllocator,
    GreedyAllocator,
    HypergraphAllocator,
    LocalityAllocator,
    RoundRobinAllocator,
    SequentialAllocator,
    TemporalAllocator,
    TopologyAwareAllocator,
    kahypar_available,
)
from qdframe_topologies import build_all_to_all, build_grid, build_line, build_ring, build_star

from qdframe.allocation import AllocationProblem, GateArray
from qdframe.cost import evaluate
from qdframe.plugins import load_plugins

FACTORIES = {
    "round_robin": RoundRobinAllocator,
    "sequential": SequentialAllocator,
    "greedy": GreedyAllocator,
    "fm": lambda: FMAllocator(restarts=1),
    "locality": LocalityAllocator,
    "temporal": lambda: TemporalAllocator(rounds=1),
    "annealing": lambda: AnnealingAllocator(work=200, start="greedy"),
    "topology_aware": lambda: TopologyAwareAllocator(base="greedy"),
    "ensemble": lambda: EnsembleAllocator(
        num_distributors=3, members=["greedy", "fm"], aggregation_method="weighted"
    ),
}
if kahypar_available():
    FACTORIES["hypergraph"] = HypergraphAllocator


@st.composite
def problems(draw: st.DrawFn) -> AllocationProblem:
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 4))
    builder = draw(
        st.sampled_from([build_all_to_all, build_line, build_ring, build_star, build_grid])
    )
    if draw(st.booleans()):
        caps = [draw(st.integers(0, 5)) for _ in range(k)]
        shortfall = n - sum(caps)
        if shortfall > 0:
            caps[0] += shortfall
        topology = builder(k, qubits_per_node=0, node_qubits=caps)
    else:
        topology = builder(k, qubits_per_node=math.ceil(n / k) + draw(st.integers(0, 1)))
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        a = draw(st.integers(0, n - 1))
        if n == 1 or draw(st.integers(0, 3)) == 0:
            rows.append((a, -1))
        else:
            b = draw(st.integers(0, n - 2))
            rows.append((a, b + (b >= a)))
    gates = GateArray(n, np.array(rows, dtype=np.int32).reshape(-1, 2), np.arange(len(rows)))
    return AllocationProblem(gates, topology, time_budget_s=0.5)


@pytest.mark.parametrize("name", sorted(FACTORIES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), seed=st.integers(0, 3))
def test_allocations_respect_capacity_in_every_slice(
    name: str, problem: AllocationProblem, seed: int
) -> None:
    allocation = FACTORIES[name]().allocate(problem, seed=seed)
    allocation.check(problem)  # raises on any over-full node or unknown node
    loads = allocation.loads(problem.num_nodes)
    assert (loads <= problem.capacities[None, :]).all()
    assert (loads.sum(axis=1) == problem.num_qubits).all()
    report = evaluate(problem, allocation)
    if "ebits" in allocation.notes:
        # Allocators search the pairwise count; the plan's cover is never worse.
        pairwise = evaluate(problem, allocation, cover="pairwise")
        assert report.ebits <= allocation.notes["ebits"] == pairwise.ebits


def test_every_allocator_is_registered() -> None:
    names = load_plugins().registries.allocators.names()
    for name in (*FACTORIES, "auto"):
        assert name in names
