"""``fm``: multilevel coarsening + k-way Fiduccia-Mattheyses refinement.

The hypergraph has one vertex per qubit and one net per (serving qubit,
segment): the bursts of the cost model. Which qubit of a gate serves it (its
*side*) is first guessed, then taken from the exact cost model's optimal
choice for the current partition, and the partition is refined again; the
rounds stop when the exact ebit count no longer falls. Several independent
starts share the time budget; the best exact result wins.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._base import BaseAllocator, Budget, fill_in_order, node_order
from qdframe_allocators._fm import Level, multilevel_partition
from qdframe_allocators._model import (
    build_nets,
    default_sides,
    distance_lists,
    exact_sides,
    pair_segments,
)
from qdframe_allocators.greedy import grow_partition
from qdframe_allocators.hypergraph import kahypar_available, kahypar_partition

__all__ = ["FMAllocator", "static_fm"]


def static_fm(
    problem: AllocationProblem,
    seed: int,
    budget: Budget,
    *,
    starts: int = 4,
    restarts: int = 4,
    rounds: int = 4,
    initial: np.ndarray | None = None,
    structured: bool = True,
    perturb: float = 0.1,
    patience: int | None = None,
    partitioner: bool = False,
) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Best static partition found: (qubit → node, exact ebits, statistics).

    Starts from ``initial`` (when given), then — with ``structured`` — from
    contiguous blocks and from graph growing, then ``restarts`` more runs
    while the budget allows, alternating fresh multilevel partitions with
    the best partition so far after exchanging a ``perturb`` share of its
    qubits (iterated local search). With ``patience``, stops after that
    many runs in a row without a better result. With ``partitioner`` (and
    ``kahypar`` installed), KaHyPar's multilevel partition is one more
    structured start.
    """
    n = problem.num_qubits
    seg_a, seg_b = pair_segments(problem)
    fallback = default_sides(problem, seg_a, seg_b)
    dist = distance_lists(problem)
    caps = problem.capacities.tolist()
    # Structured starts first (the caller's, contiguous blocks, graph
    # growing), then random multilevel starts while time remains.
    seeded: list[np.ndarray] = [] if initial is None else [np.asarray(initial)]
    if structured or not seeded:
        seeded.append(fill_in_order(n, problem.capacities, node_order(problem.topology)))
        seeded.append(grow_partition(problem, seed))
    if partitioner and kahypar_available() and problem.gates.num_two_qubit:
        seeded.append(kahypar_partition(problem, seed)[0])
    best_part: np.ndarray | None = None
    best_ebits = -1
    runs = 0
    since_best = 0
    for restart in range(len(seeded) + max(0, restarts)):
        if restart and budget.expired():
            break
        if patience is not None and since_best >= patience:
            break
        since_best += 1
        rng = np.random.default_rng([seed, restart])
        sides = fallback
        part: list[int] | None = None
        start: np.ndarray | None = None
        if restart < len(seeded):
            start = seeded[restart]
        elif best_part is not None and restart % 2 == 1:
            # Iterated local search: shake the best partition and refine it.
            start = _perturb(best_part, perturb, rng)
        if start is not None:
            part = [int(x) for x in start]
            sides, _ = exact_sides(problem, Allocation.static(start), fallback)
        previous = None
        for _ in range(max(1, rounds)):
            model = build_nets(problem, sides, seg_a, seg_b)
            base = Level(model.roots, model.leaves, model.weights, [1] * n)
            part = multilevel_partition(
                base, dist, caps, rng, budget=budget, starts=starts, start_part=part
            )
            allocation = Allocation.static(part)
            sides, ebits = exact_sides(problem, allocation, fallback)
            runs += 1
            if best_part is None or ebits < best_ebits:
                best_part, best_ebits = np.asarray(part, dtype=np.int64), ebits
                since_best = 0
            if previous is not None and ebits >= previous:
                break
            previous = ebits
            if budget.expired():
                break
    assert best_part is not None
    return best_part, best_ebits, {"fm_runs": runs}


def _perturb(part: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Exchange the nodes of random qubit pairs (capacities stay met)."""
    shaken = part.copy()
    n = len(shaken)
    for _ in range(max(1, int(share * n / 2))):
        a, b = rng.integers(n, size=2)
        shaken[a], shaken[b] = shaken[b], shaken[a]
    return shaken


class FMAllocator(BaseAllocator):
    """Multilevel k-way FM on the burst hypergraph (static allocation).

    Options: ``starts`` (initial partitions tried at the coarsest level),
    ``restarts`` (further runs while the budget lasts), ``rounds`` (side
    re-optimisation rounds), ``perturb`` (share of qubits shaken between
    iterated runs), ``patience`` (runs in a row without improvement before
    stopping: the convergence test), ``partitioner`` (also start from
    KaHyPar's partition when ``kahypar`` is installed), ``work`` (most FM
    moves, default no
    limit beyond ``restarts`` and ``patience``), ``time_share`` (share of the
    problem's ``time_budget_s`` used as the safety cap).
    """

    name: ClassVar[str] = "fm"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "starts": 4,
        "restarts": 64,
        "rounds": 4,
        "perturb": 0.1,
        "patience": 24,
        "partitioner": True,
        "work": None,
        "time_share": 1.0,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        budget = self._budget(problem, None)
        part, ebits, stats = static_fm(
            problem,
            seed,
            budget,
            starts=int(self.options["starts"]),
            restarts=int(self.options["restarts"]),
            rounds=int(self.options["rounds"]),
            perturb=float(self.options["perturb"]),
            patience=int(self.options["patience"]),
            partitioner=bool(self.options["partitioner"]),
        )
        return Allocation.static(part, notes={"ebits": ebits, **stats, **budget.notes()})
