"""Conformance kit for allocators: capacities, completeness, determinism, pricing.

Every problem is built from arrays on hand-made topologies, so the kit needs no
topology plugin and no transpiler. Capabilities an allocator may declare:

``optimizes`` (default ``True``)
    it looks for few ebits: on a circuit made of node-sized clusters it must
    find the allocation that needs none (baselines such as ``round_robin``
    declare ``False``).
``migrates`` (default ``False``)
    it may return time-sliced allocations when the problem allows migration.
``time_budget_s`` (default ``2.0``)
    the search time each problem allows; an allocator must give the same
    allocation for a seed whatever the machine's speed within it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import evaluate
from qdframe.protocols import Allocator
from qdframe.testing._kit import Kit
from qdframe.topology import Topology

__all__ = ["AllocatorKit"]

_BUDGET_S = 2.0


def _random_pairs(num_qubits: int, count: int, seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, num_qubits, count)
    shift = rng.integers(1, num_qubits, count)
    return np.stack([first, (first + shift) % num_qubits], axis=1)


def _problem(
    topology: Topology,
    num_qubits: int,
    pairs: Any,
    *,
    allow_migration: bool = True,
    budget_s: float = _BUDGET_S,
) -> AllocationProblem:
    gates = GateArray.from_pairs(num_qubits, pairs)
    return AllocationProblem(
        gates, topology, time_budget_s=budget_s, allow_migration=allow_migration
    )


def _ring(nodes: int, capacity: int | list[int]) -> Topology:
    edges = [(i, (i + 1) % nodes) for i in range(nodes)] if nodes > 2 else [(0, 1)]
    return Topology("ring", nodes, edges if nodes > 1 else [], data_qubits=capacity)


class AllocatorKit(Kit):
    """Checks an allocator factory (``registry.add("name", Factory)``)."""

    category: ClassVar[str] = "allocators"
    capability_defaults: ClassVar[dict[str, Any]] = {
        "optimizes": True,
        "migrates": False,
        "time_budget_s": _BUDGET_S,
    }

    def _make(
        self, topology: Topology, num_qubits: int, pairs: Any, **kw: Any
    ) -> AllocationProblem:
        return _problem(
            topology, num_qubits, pairs, budget_s=float(self.capabilities["time_budget_s"]), **kw
        )

    def _allocate(self, problem: AllocationProblem, seed: int | None = 7) -> Allocation:
        allocator = self.build()
        allocation = allocator.allocate(problem, seed=seed)
        assert isinstance(allocation, Allocation), (
            f"allocate() returned {type(allocation).__name__}, expected qdframe.allocation."
            "Allocation"
        )
        return allocation

    def _problems(self) -> dict[str, AllocationProblem]:
        line = Topology("line", 3, [(0, 1), (1, 2)], data_qubits=2)
        star = Topology("star", 4, [(0, 1), (0, 2), (0, 3)], data_qubits=[4, 1, 2, 1])
        return {
            "10 qubits on a ring of 4 x 3": self._make(_ring(4, 3), 10, _random_pairs(10, 40, 1)),
            "6 qubits filling a line of 3 x 2": self._make(line, 6, _random_pairs(6, 24, 2)),
            "7 qubits on a star of capacities 4,1,2,1": self._make(
                star, 7, _random_pairs(7, 30, 3)
            ),
        }

    # ------------------------------------------------------------------ checks

    def check_factory_builds_an_allocator(self) -> None:
        """The factory called with the options returns an Allocator with a name."""
        allocator = self.build()
        assert isinstance(allocator, Allocator), (
            f"{type(allocator).__name__} lacks name/allocate(problem, *, seed) of "
            "qdframe.protocols.Allocator"
        )
        assert isinstance(allocator.name, str) and allocator.name, "name must be a non-empty str"

    def check_assigns_every_qubit_within_capacity(self) -> None:
        """Every qubit lands on an existing node and no node holds more than its capacity."""
        for label, problem in self._problems().items():
            allocation = self._allocate(problem)
            assert allocation.num_qubits == problem.num_qubits, (
                f"{label}: {allocation.num_qubits} qubits placed, the circuit has "
                f"{problem.num_qubits}"
            )
            table = np.asarray(allocation.assignment)
            assert table.min() >= 0 and table.max() < problem.num_nodes, (
                f"{label}: node ids {sorted(set(table.ravel().tolist()))} outside "
                f"0..{problem.num_nodes - 1}"
            )
            loads = allocation.loads(problem.num_nodes)
            over = np.argwhere(loads > problem.capacities[None, :])
            assert not len(over), (
                f"{label}: node {int(over[0][1])} holds {int(loads[tuple(over[0])])} qubits "
                f"in slice {int(over[0][0])}, capacity {int(problem.capacities[over[0][1]])}"
            )

    def check_result_is_priced_by_the_cost_model(self) -> None:
        """qdframe.cost.evaluate accepts the allocation and counts at least the cut gates."""
        for label, problem in self._problems().items():
            allocation = self._allocate(problem)
            report = evaluate(problem, allocation)  # raises ResourceError when it does not fit
            assert report.ebits >= 0, f"{label}: negative ebits {report.ebits}"
            if allocation.is_static:
                rows = problem.gates.pair_rows
                nodes = allocation.assignment[0]
                pairs = problem.gates.qubits[rows]
                cut = int((nodes[pairs[:, 0]] != nodes[pairs[:, 1]]).sum())
                assert (report.ebits > 0) == (cut > 0), (
                    f"{label}: {cut} gates span nodes but the cost model counts "
                    f"{report.ebits} ebits"
                )

    def check_same_seed_same_allocation(self) -> None:
        """Two runs with the same seed give the same assignment and slices."""
        for label, problem in self._problems().items():
            first = self._allocate(problem, seed=11)
            second = self._allocate(problem, seed=11)
            assert np.array_equal(first.assignment, second.assignment) and np.array_equal(
                first.slice_starts, second.slice_starts
            ), f"{label}: seed 11 gave two different allocations"

    def check_static_when_migration_is_not_allowed(self) -> None:
        """With allow_migration=False the allocation has one slice."""
        problem = self._make(_ring(4, 3), 10, _random_pairs(10, 60, 4), allow_migration=False)
        allocation = self._allocate(problem)
        assert allocation.is_static, (
            f"allow_migration=False but {allocation.num_slices} time slices were returned"
        )

    def check_one_node_holds_everything(self) -> None:
        """On a single node every qubit is placed there and no ebit is spent."""
        problem = self._make(_ring(1, 6), 5, _random_pairs(5, 20, 5))
        allocation = self._allocate(problem)
        assert set(np.asarray(allocation.assignment).ravel().tolist()) == {0}
        assert evaluate(problem, allocation).ebits == 0

    def check_circuit_without_two_qubit_gates(self) -> None:
        """A circuit of single-qubit gates only is still placed completely."""
        gates = GateArray.from_pairs(4, [(q, 0) for q in range(4)], breaks=[True] * 4)
        budget = float(self.capabilities["time_budget_s"])
        problem = AllocationProblem(gates, _ring(2, 2), time_budget_s=budget)
        allocation = self._allocate(problem)
        allocation.check(problem)

    def check_finds_a_free_partition(self) -> None:
        """Two node-sized clusters of gates (capability ``optimizes``) need no ebit."""
        self.need("optimizes")
        cluster = [(a, b) for a in range(3) for b in range(a + 1, 3)] * 3
        # Interleaved labels: qubits 0,2,4 interact, and 1,3,5 do.
        pairs = [(2 * a, 2 * b) for a, b in cluster] + [(2 * a + 1, 2 * b + 1) for a, b in cluster]
        problem = self._make(_ring(2, 3), 6, pairs)
        report = evaluate(problem, self._allocate(problem))
        assert report.ebits == 0, (
            f"two independent 3-qubit clusters on 2 nodes of 3 cost {report.ebits} ebits; "
            "an optimizing allocator should find the free partition"
        )

    def check_time_slices_are_consistent(self) -> None:
        """A time-sliced allocation (capability ``migrates``) starts slices at gate rows."""
        self.need("migrates")
        pairs = [(0, 1)] * 10 + [(0, 2)] * 10 + [(0, 3)] * 10
        problem = self._make(_ring(2, 2), 4, pairs)
        allocation = self._allocate(problem)
        starts = np.asarray(allocation.slice_starts)
        assert starts[0] == 0 and (np.diff(starts) > 0).all()
        assert int(starts[-1]) < problem.gates.num_gates
        evaluate(problem, allocation)
