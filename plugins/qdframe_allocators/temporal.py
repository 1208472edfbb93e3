"""``temporal``: time-sliced allocation with state teleportation.

Starts from the best static partition (multilevel FM), cuts the circuit into
slices of about ``slice_pairs`` two-qubit gates (whole layers), and sweeps
forward through time exchanging the futures of two qubits whenever the
look-ahead window says the teleportations pay for themselves. Burst sides are
then re-optimised by the exact cost model and the sweep repeats until a sweep
moves nothing (or ``rounds`` sweeps), and the schedule is polished by
annealing. The exact ebit count decides: when no schedule of teleportations
beats the static partition, the search goes on for a better static one until
``patience`` runs in a row bring nothing.

Every phase is counted in work (FM moves, scored exchanges, annealing
steps), never in seconds, so a seed gives the same allocation on an idle
and on a busy machine; the problem's ``time_budget_s`` is only a safety cap,
and the notes say whether it was hit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._anneal import anneal
from qdframe_allocators._base import BaseAllocator, Budget
from qdframe_allocators._model import default_sides, distance_lists, exact_sides, pair_segments
from qdframe_allocators._temporal import TemporalSearch, choose_slices
from qdframe_allocators.fm import static_fm

__all__ = ["TemporalAllocator"]


class TemporalAllocator(BaseAllocator):
    """Time-sliced partitioning: static FM start, then teleportation sweeps.

    Options: ``window`` (look-ahead in slices), ``slice_pairs`` (two-qubit
    gates per slice; default a quarter of the qubit count), ``rounds`` (most
    sweeps with re-optimised sides), ``static_share`` (share of ``work``
    for the static start, when ``work`` is set), ``candidates`` (exchange
    partners tried per gate side), ``patience`` (static runs without
    improvement before the search for a better static partition stops),
    ``anneal_steps`` (annealing steps per two-qubit gate for the polish),
    ``partitioner`` (KaHyPar's partition as one more static start, when
    ``kahypar`` is installed),
    ``lookahead``, ``work`` (most units of work in all, default no limit
    beyond convergence), ``time_share`` (share of the problem's
    ``time_budget_s`` used as the safety cap).
    """

    name: ClassVar[str] = "temporal"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "window": 4,
        "slice_pairs": None,
        "rounds": 3,
        "static_share": 0.3,
        "candidates": 3,
        "lookahead": 0,
        "patience": 24,
        "anneal_steps": 40,
        "partitioner": True,
        "work": None,
        "time_share": 1.0,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        budget = self._budget(problem, None)
        static_budget = (
            budget.sub(None)
            if budget.limit is None
            else budget.share(float(self.options["static_share"]))
        )
        static_part, static_ebits, stats = static_fm(
            problem, seed, static_budget, partitioner=bool(self.options["partitioner"])
        )
        best = Allocation.static(static_part)
        best_ebits = static_ebits
        sweeps = 0
        slices = 1
        annealed = 0
        if problem.allow_migration and problem.gates.num_two_qubit and not budget.expired():
            sliced, ebits, sweeps, slices = self._schedule(problem, static_part, budget)
            if ebits < best_ebits:
                best, best_ebits = sliced, ebits
            if not best.is_static and not budget.expired():
                steps = max(1, int(self.options["anneal_steps"]) * problem.gates.num_two_qubit)
                left = budget.left()
                polished = anneal(
                    problem,
                    best,
                    seed,
                    budget,
                    steps=steps if left is None else max(1, min(steps, left)),
                    patience=max(1, steps // 4),
                )
                annealed = int(polished.notes.get("annealing_steps", 0))
                if polished.notes["ebits"] < best_ebits:
                    best, best_ebits = polished, int(polished.notes["ebits"])
        if best_ebits > 0.9 * static_ebits and not budget.expired():
            # Teleporting did not pay much: look for a better static partition.
            more_part, more_ebits, more = static_fm(
                problem,
                seed + 1,
                budget,
                initial=static_part,
                structured=False,
                restarts=1000,
                patience=int(self.options["patience"]),
            )
            stats["fm_runs"] += more["fm_runs"]
            if more_ebits < static_ebits:
                static_ebits = more_ebits
                if more_ebits < best_ebits:
                    best, best_ebits = Allocation.static(more_part), more_ebits
        return Allocation(best.assignment, best.slice_starts).with_notes(
            ebits=best_ebits,
            static_ebits=static_ebits,
            slices=slices,
            sweeps=sweeps,
            annealing_steps=annealed,
            **stats,
            **budget.notes(),
        )

    def _schedule(
        self, problem: AllocationProblem, static_part: np.ndarray, budget: Budget
    ) -> tuple[Allocation, int, int, int]:
        """Teleportation sweeps from a static partition: (allocation, ebits, sweeps, slices)."""
        n = problem.num_qubits
        slice_pairs = self.options["slice_pairs"] or max(1, n // 4)
        slice_starts, gate_slice = choose_slices(problem, int(slice_pairs))
        T = len(slice_starts)
        start = Allocation.static(static_part)
        seg_a, seg_b = pair_segments(problem)
        fallback = default_sides(problem, seg_a, seg_b)
        sides, best_ebits = exact_sides(problem, start, fallback)
        if T < 2:
            return start, best_ebits, 0, 1
        dist = distance_lists(problem)
        table = np.repeat(static_part[None, :], T, axis=0)
        best = start
        sweeps = 0
        for _ in range(max(1, int(self.options["rounds"]))):
            search = TemporalSearch(problem, gate_slice, T, table, sides, seg_a, seg_b, dist)
            moved = search.sweep(
                int(self.options["window"]),
                budget,
                per_side=int(self.options["candidates"]),
                lookahead=int(self.options["lookahead"]),
            )
            sweeps += 1
            table = search.assignment()
            sides, ebits = exact_sides(problem, Allocation(table, slice_starts), fallback)
            if ebits < best_ebits:
                best_ebits = ebits
                best = Allocation.sliced(table, slice_starts)
            if moved == 0 or budget.expired():
                break
        return best, best_ebits, sweeps, T
