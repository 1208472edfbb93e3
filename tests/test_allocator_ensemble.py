"""The ensemble allocator: members, aggregation, diversity; and the auto policy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from qdframe_allocators import AutoAllocator, EnsembleAllocator, choose, diversity
from qdframe_topologies import build_all_to_all, build_ring, build_torus

from qdframe.allocation import AllocationProblem, GateArray
from qdframe.config import DistributionEnsembleConfig
from qdframe.cost import ebit_count, evaluate
from qdframe.errors import ConfigError
from qdframe.families import cp_fraction


class CountingExecutor:
    """A serial executor that records how many jobs it ran."""

    def __init__(self) -> None:
        self.jobs = 0

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        self.jobs += len(jobs)
        return [fn(job) for job in jobs]


def _problem() -> AllocationProblem:
    circuit = cp_fraction(10, 10, 0.5, seed=1)
    return AllocationProblem.from_circuit(
        circuit, build_all_to_all(2, qubits_per_node=5), time_budget_s=2
    )


def _tiny() -> AllocationProblem:
    # Edges (0,1) weight 2 and (2,3) weight 1.
    rows = [(0, 1), (0, 1), (2, 3)]
    return AllocationProblem(
        GateArray(4, np.array(rows), np.arange(3)), build_all_to_all(2, qubits_per_node=2)
    )


def test_diversity_measures_by_hand() -> None:
    problem = _tiny()
    p = np.array([0, 0, 1, 1])
    q = np.array([1, 1, 0, 0])  # the same partition, nodes relabelled
    r = np.array([0, 1, 0, 1])  # both pairs split
    assert diversity(problem, [p, q], "partition_distance") == 0.0
    assert diversity(problem, [p, q], "variation_of_information") == pytest.approx(0.0)
    assert diversity(problem, [p, q], "quantum") == 0.0
    # p vs r: both interacting pairs change from local to remote -> all 3 of 3.
    assert diversity(problem, [p, r], "quantum") == 1.0
    # Best relabelling of r keeps 2 of 4 qubits in place: half must move.
    assert diversity(problem, [p, r], "partition_distance") == 0.5
    # Independent halves: H(P|R) = H(R|P) = 1 bit.
    assert diversity(problem, [p, r], "variation_of_information") == pytest.approx(2.0)
    # Mean over the three pairs (p,q)=0, (p,r)=1, (q,r)=1.
    assert diversity(problem, [p, q, r], "quantum") == pytest.approx(2 / 3)
    with pytest.raises(ConfigError, match="unknown diversity measure"):
        diversity(problem, [p, q], "entropy")


def test_best_aggregation_returns_the_cheapest_member_and_uses_the_executor() -> None:
    problem = _problem()
    executor = CountingExecutor()
    allocator = EnsembleAllocator(
        num_distributors=4,
        members=["round_robin", "fm"],
        aggregation_method="best",
        executor=executor,
    )
    allocation = allocator.allocate(problem, seed=3)
    assert executor.jobs == 4
    members = allocation.notes["members"]
    assert [m["allocator"] for m in members] == ["round_robin", "fm", "round_robin", "fm"]
    assert [m["seed"] for m in members] == [3, 4, 5, 6]
    cheapest = min(m["ebits"] for m in members)
    assert ebit_count(problem, allocation) == cheapest == allocation.notes["ebits"]
    assert "quantum" in allocation.notes["diversity"]


def test_weighted_aggregation_is_never_worse_than_the_best_member() -> None:
    problem = _problem()
    allocation = EnsembleAllocator(
        num_distributors=3, members=["greedy", "fm", "round_robin"]
    ).allocate(problem, seed=0)
    best = min(m["ebits"] for m in allocation.notes["members"])
    assert ebit_count(problem, allocation) <= best
    assert allocation.notes["aggregation"] == "weighted"


def test_settings_come_from_the_ensemble_config_block() -> None:
    config = DistributionEnsembleConfig(
        num_distributors=2, aggregation_method="best", diversity_measure="partition_distance"
    )
    allocation = EnsembleAllocator(config=config, members=["greedy"]).allocate(_problem())
    assert len(allocation.notes["members"]) == 2
    assert allocation.notes["aggregation"] == "best"
    assert "partition_distance" in allocation.notes["diversity"]


def test_bad_ensemble_settings_are_rejected() -> None:
    with pytest.raises(ConfigError, match="ensemble"):
        EnsembleAllocator(aggregation_method="median")
    with pytest.raises(ConfigError, match="unknown option"):
        EnsembleAllocator(voters=3)


def test_auto_policy_by_size_and_topology() -> None:
    small = _problem()
    assert choose(small)[0] == "temporal"
    no_moves = AllocationProblem(small.gates, small.topology, allow_migration=False)
    assert choose(no_moves)[0] == "fm"
    ring = AllocationProblem(small.gates, build_ring(4, qubits_per_node=3))
    name, options, reason = choose(ring)
    assert name == "topology_aware" and options == {"base": "temporal"}
    assert "sparse ring" in reason
    n = 5000
    pairs = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1)
    big = AllocationProblem(
        GateArray.from_pairs(n, np.repeat(pairs, 50, axis=0)),
        build_all_to_all(math.ceil(n / 64), qubits_per_node=64),
    )
    name, _, reason = choose(big)
    assert name == "greedy" and "linear" in reason
    empty = AllocationProblem(GateArray.from_pairs(3, np.zeros((0, 2))), small.topology)
    assert choose(empty)[0] == "sequential"


def test_auto_searches_a_compact_region_of_a_large_network() -> None:
    circuit = cp_fraction(10, 10, 0.5, seed=4)
    topology = build_torus(100, qubits_per_node=4)  # 10 x 10, more nodes than searched
    problem = AllocationProblem.from_circuit(circuit, topology, time_budget_s=2)
    allocation = AutoAllocator().allocate(problem, seed=0)
    allocation.check(problem)
    region = allocation.notes["region"]
    # 10 qubits need 3 nodes of 4; the search ran on twice that many.
    assert len(region) == 6 and region[0] == 0
    assert set(allocation.assignment.ravel().tolist()) <= set(region)
    assert "6 nearest" in allocation.notes["reason"]
    # The region is connected around node 0, so no burst travels far.
    assert evaluate(problem, allocation).max_hops <= 2
