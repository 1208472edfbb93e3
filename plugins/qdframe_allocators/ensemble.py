"""``ensemble``: several allocators or seeds, aggregated (DistributionEnsembleConfig).

``num_distributors`` members run — through an executor (any object with
``map(fn, jobs)``) when one is given, one after another otherwise — each a
(member allocator, seed) pair cycling through ``members``. Aggregation:

* ``best``: the member with the fewest ebits;
* ``weighted``: members vote for each qubit's node with weight
  ``exp(-(ebits - best) / scale)``, after relabelling every member's nodes to
  agree with the best one; the consensus is made to fit the capacities,
  refined by FM, and returned unless a member is still better (the notes say
  which won).

The notes also give the mean pairwise *diversity* of the members' partitions
(``quantum``, ``partition_distance`` or ``variation_of_information``; see
:func:`diversity`).
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from qdframe.plugin import (
    AggregationMethod,
    Allocation,
    AllocationProblem,
    ConfigError,
    DistributionEnsembleConfig,
    DiversityMeasure,
    ebit_count,
)
from qdframe_allocators._base import BaseAllocator, Budget
from qdframe_allocators._catalog import AllocatorFactory, leaf_allocators, make_allocator
from qdframe_allocators.annealing import AnnealingAllocator
from qdframe_allocators.fm import static_fm
from qdframe_allocators.hypergraph import kahypar_available
from qdframe_allocators.topology_aware import TopologyAwareAllocator

if TYPE_CHECKING:
    from qdframe.plugin import LoadedPlugins

__all__ = [
    "DEFAULT_MEMBERS",
    "EnsembleAllocator",
    "MemberJob",
    "MemberResult",
    "diversity",
    "dominant_nodes",
    "member_catalog",
    "run_member",
]

IntArray = npt.NDArray[np.int64]

#: Member allocators cycled through when none are configured.
DEFAULT_MEMBERS: tuple[str, ...] = ("temporal", "fm", "annealing", "greedy", "hypergraph")


class _MapExecutor(Protocol):
    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]: ...


@dataclass(frozen=True)
class MemberJob:
    """One member run: allocator name and options, the problem, the seed."""

    allocator: str
    options: dict[str, Any]
    problem: AllocationProblem
    seed: int
    plugins: LoadedPlugins | None = None


@dataclass(frozen=True)
class MemberResult:
    allocator: str
    seed: int
    allocation: Allocation
    ebits: int
    time_s: float


def member_catalog() -> dict[str, AllocatorFactory]:
    """The built-in allocators a member may name when no plugin set is given."""
    return {
        **leaf_allocators(),
        "annealing": AnnealingAllocator,
        "topology_aware": TopologyAwareAllocator,
    }


def run_member(job: MemberJob) -> MemberResult:
    """Run one member (a module-level function, so process pools can pickle it).

    The member's name is looked up in the job's plugin set, or in
    :func:`member_catalog` when the job has none.
    """
    started = time.perf_counter()
    allocator = make_allocator(
        job.allocator, plugins=job.plugins, builtins=member_catalog(), **job.options
    )
    allocation = allocator.allocate(job.problem, seed=job.seed)
    return MemberResult(
        job.allocator,
        job.seed,
        allocation,
        ebit_count(job.problem, allocation),
        round(time.perf_counter() - started, 4),
    )


def dominant_nodes(problem: AllocationProblem, allocation: Allocation) -> IntArray:
    """Each qubit's node: where it spends most of its two-qubit gates."""
    if allocation.is_static:
        return allocation.nodes(0)
    gates = problem.gates
    rows = gates.pair_rows
    slices = allocation.slice_of_gate(rows)
    qubits = np.concatenate([gates.qubits[rows, 0], gates.qubits[rows, 1]]).astype(np.int64)
    nodes = allocation.assignment[np.concatenate([slices, slices]), qubits].astype(np.int64)
    k = problem.num_nodes
    votes = np.bincount(qubits * k + nodes, minlength=problem.num_qubits * k).reshape(-1, k)
    fallback = allocation.assignment[0].astype(np.int64)
    return np.asarray(
        np.where(votes.sum(axis=1) > 0, votes.argmax(axis=1), fallback), dtype=np.int64
    )


def _contingency(p: IntArray, q: IntArray, k: int) -> IntArray:
    return np.asarray(np.bincount(p * k + q, minlength=k * k).reshape(k, k), dtype=np.int64)


def _align(reference: IntArray, part: IntArray, k: int) -> IntArray:
    """Relabel ``part``'s nodes to overlap ``reference`` as much as possible."""
    linear_sum_assignment = importlib.import_module("scipy.optimize").linear_sum_assignment
    overlap = _contingency(part, reference, k)
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[part]


def _entropy(counts: npt.NDArray[Any]) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def diversity(problem: AllocationProblem, parts: Sequence[IntArray], measure: str) -> float:
    """Mean pairwise difference between partitions (0 when all agree).

    ``quantum``: share of two-qubit gate weight that is local in one partition
    and remote in the other; ``partition_distance``: share of qubits that must
    move to turn one into the other, under the best node relabelling;
    ``variation_of_information``: ``H(P|Q) + H(Q|P)`` in bits.
    """
    if len(parts) < 2:
        return 0.0
    k = problem.num_nodes
    n = problem.num_qubits
    edges, weights = problem.gates.interaction_graph()
    total = 0.0
    count = 0
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            p, q = parts[i], parts[j]
            if measure == DiversityMeasure.QUANTUM.value:
                if not len(edges):
                    value = 0.0
                else:
                    local_p = p[edges[:, 0]] == p[edges[:, 1]]
                    local_q = q[edges[:, 0]] == q[edges[:, 1]]
                    value = float(weights[local_p != local_q].sum() / weights.sum())
            elif measure == DiversityMeasure.PARTITION_DISTANCE.value:
                aligned = _align(p, q, k)
                value = float((aligned != p).sum() / n)
            elif measure == DiversityMeasure.VARIATION_OF_INFORMATION.value:
                joint = _contingency(p, q, k).astype(np.float64)
                value = (
                    2 * _entropy(joint.ravel())
                    - _entropy(joint.sum(axis=1))
                    - _entropy(joint.sum(axis=0))
                )
            else:
                raise ConfigError(
                    f"unknown diversity measure {measure!r}",
                    allowed=", ".join(m.value for m in DiversityMeasure),
                )
            total += value
            count += 1
    return total / count


def _fit(votes: npt.NDArray[np.float64], caps: IntArray) -> IntArray:
    """Each qubit to its most-voted node with room, most confident qubits first."""
    n, k = votes.shape
    ranked = np.sort(votes, axis=1)
    margin = ranked[:, -1] - (ranked[:, -2] if k > 1 else 0.0)
    room = caps.astype(np.int64).copy()
    part = np.full(n, -1, dtype=np.int64)
    for q in np.argsort(-margin, kind="stable"):
        for node in np.argsort(-votes[q], kind="stable"):
            if room[node] > 0:
                part[q] = node
                room[node] -= 1
                break
    return part


class EnsembleAllocator(BaseAllocator):
    """Several allocators/seeds aggregated by ``best`` or ``weighted`` score.

    Options: ``num_distributors``, ``aggregation_method``,
    ``diversity_measure`` (defaults from ``config``, a
    :class:`~qdframe.config.DistributionEnsembleConfig`, when given),
    ``members`` (allocator names to cycle through), ``member_options``
    (name → options), ``executor`` (an object with ``map(fn, jobs)``),
    ``plugins`` (the run's plugin set, where member names are looked up;
    without it, members come from :func:`member_catalog`).
    """

    name: ClassVar[str] = "ensemble"
    #: The configuration block planning passes as ``config``.
    CONFIG_SECTION: ClassVar[str] = "ensemble"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "num_distributors": None,
        "aggregation_method": None,
        "diversity_measure": None,
        "members": None,
        "member_options": None,
        "executor": None,
        "config": None,
        "plugins": None,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        config = self.options["config"] or DistributionEnsembleConfig.model_validate({})
        if not isinstance(config, DistributionEnsembleConfig):
            config = DistributionEnsembleConfig.model_validate(config)
        count = self.options["num_distributors"] or config.num_distributors
        if int(count) < 1:
            raise ConfigError(f"num_distributors must be >= 1, got {count}")
        self.count = int(count)
        try:
            self.aggregation = AggregationMethod(
                self.options["aggregation_method"] or config.aggregation_method
            )
            self.measure = DiversityMeasure(
                self.options["diversity_measure"] or config.diversity_measure
            )
        except ValueError as exc:
            raise ConfigError(f"ensemble: {exc}") from None
        members = self.options["members"]
        if members is None:
            members = [m for m in DEFAULT_MEMBERS if m != "hypergraph" or kahypar_available()]
        if not members:
            raise ConfigError("ensemble needs at least one member allocator")
        self.members = [str(m) for m in members]

    def _jobs(self, problem: AllocationProblem, seed: int, parallel: bool) -> list[MemberJob]:
        budget = problem.time_budget_s if parallel else problem.time_budget_s / self.count
        member_problem = AllocationProblem(
            problem.gates,
            problem.topology,
            time_budget_s=max(1e-3, budget),
            allow_migration=problem.allow_migration,
            label=problem.label,
        )
        options = self.options["member_options"] or {}
        return [
            MemberJob(
                self.members[i % len(self.members)],
                dict(options.get(self.members[i % len(self.members)], {})),
                member_problem,
                seed + i,
                self.options["plugins"],
            )
            for i in range(self.count)
        ]

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        executor: _MapExecutor | None = self.options["executor"]
        jobs = self._jobs(problem, seed, parallel=executor is not None)
        if executor is not None:
            results: list[MemberResult] = list(executor.map(run_member, jobs))
        else:
            results = [run_member(job) for job in jobs]
        best = min(results, key=lambda r: (r.ebits, r.allocator))
        parts = [dominant_nodes(problem, r.allocation) for r in results]
        notes: dict[str, Any] = {
            "aggregation": self.aggregation.value,
            "members": [
                {"allocator": r.allocator, "seed": r.seed, "ebits": r.ebits, "time_s": r.time_s}
                for r in results
            ],
            "diversity": {self.measure.value: diversity(problem, parts, self.measure.value)},
        }
        if self.aggregation is AggregationMethod.BEST or len(results) == 1:
            return best.allocation.with_notes(
                **notes, ebits=best.ebits, winner=f"{best.allocator} (seed {best.seed})"
            )
        return self._weighted(problem, seed, results, parts, best, notes)

    def _weighted(
        self,
        problem: AllocationProblem,
        seed: int,
        results: list[MemberResult],
        parts: list[IntArray],
        best: MemberResult,
        notes: dict[str, Any],
    ) -> Allocation:
        k = problem.num_nodes
        reference = parts[results.index(best)]
        scale = max(1.0, 0.05 * best.ebits)
        votes = np.zeros((problem.num_qubits, k), dtype=np.float64)
        rows = np.arange(problem.num_qubits)
        for result, part in zip(results, parts, strict=True):
            weight = math.exp(-(result.ebits - best.ebits) / scale)
            votes[rows, _align(reference, part, k)] += weight
        consensus = _fit(votes, problem.capacities)
        budget = Budget(None, problem.time_budget_s * 0.2)
        refined, ebits, _ = static_fm(
            problem, seed, budget, restarts=0, initial=consensus, structured=False
        )
        if ebits <= best.ebits:
            return Allocation.static(refined).with_notes(
                **notes, ebits=ebits, winner="weighted consensus"
            )
        return best.allocation.with_notes(
            **notes,
            ebits=best.ebits,
            consensus_ebits=ebits,
            winner=f"{best.allocator} (seed {best.seed}); the consensus cost more",
        )
