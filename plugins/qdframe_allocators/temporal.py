"""``temporal``: time-sliced allocation with state teleportation.

Starts from the best static partition (multilevel FM), cuts the circuit into
slices of about ``slice_pairs`` two-qubit gates (whole layers), and sweeps
forward through time exchanging the futures of two qubits whenever the
look-ahead window says the teleportations pay for themselves. Burst sides are
then re-optimised by the exact cost model and the sweep repeats, and the
schedule is polished by annealing for up to twice as long as the sweeps took. The
exact ebit count decides: when no schedule of teleportations beats the
static partition, the remaining time goes to finding a better static one.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._base import BaseAllocator, Deadline
from qdframe_allocators._model import default_sides, distance_lists, exact_sides, pair_segments
from qdframe_allocators._temporal import TemporalSearch, choose_slices
from qdframe_allocators.annealing import anneal
from qdframe_allocators.fm import static_fm

__all__ = ["TemporalAllocator"]


class TemporalAllocator(BaseAllocator):
    """Time-sliced partitioning: static FM start, then teleportation sweeps.

    Options: ``window`` (look-ahead in slices), ``slice_pairs`` (two-qubit
    gates per slice; default a quarter of the qubit count), ``rounds`` (sweeps
    with re-optimised sides), ``static_share`` (share of the time budget spent
    on the static start), ``candidates`` (exchange partners tried per gate
    side), ``patience`` (static runs without improvement before the search
    for a better static partition stops), ``anneal_share`` (annealing time
    relative to the sweeps' time), ``lookahead``, ``time_share``.
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
        "anneal_share": 2.0,
        "time_share": 1.0,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        deadline = Deadline(problem.time_budget_s * float(self.options["time_share"]))
        static_part, static_ebits, stats = static_fm(
            problem, seed, deadline.fraction(float(self.options["static_share"]))
        )
        best = Allocation.static(static_part)
        best_ebits = static_ebits
        sweeps = 0
        slices = 1
        annealed = 0
        if problem.allow_migration and problem.gates.num_two_qubit and not deadline.expired():
            started = time.perf_counter()
            sliced, ebits, sweeps, slices = self._schedule(problem, static_part, deadline)
            spent = time.perf_counter() - started
            if ebits < best_ebits:
                best, best_ebits = sliced, ebits
            if not best.is_static and not deadline.expired():
                # Polish the schedule (by default for twice as long as the sweeps took).
                share = float(self.options["anneal_share"]) * max(1.0, spent)
                polish = Deadline(min(deadline.left(), share))
                polished = anneal(problem, best, seed, polish)
                annealed = int(polished.notes.get("annealing_steps", 0))
                if polished.notes["ebits"] < best_ebits:
                    best, best_ebits = polished, int(polished.notes["ebits"])
        if best_ebits > 0.9 * static_ebits and not deadline.expired():
            # Teleporting did not pay much: look for a better static partition.
            more_part, more_ebits, more = static_fm(
                problem,
                seed + 1,
                deadline,
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
        )

    def _schedule(
        self, problem: AllocationProblem, static_part: np.ndarray, deadline: Deadline
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
                deadline,
                per_side=int(self.options["candidates"]),
                lookahead=int(self.options["lookahead"]),
            )
            sweeps += 1
            table = search.assignment()
            sides, ebits = exact_sides(problem, Allocation(table, slice_starts), fallback)
            if ebits < best_ebits:
                best_ebits = ebits
                best = Allocation.sliced(table, slice_starts)
            if moved == 0 or deadline.expired():
                break
        return best, best_ebits, sweeps, T
