"""``annealing``: simulated annealing that refines any starting allocation.

The start comes from another allocator (``start``, default ``temporal``) or
is given to :func:`anneal` directly. Moves exchange the nodes of two qubits —
for the whole circuit when the allocation is static, or over a random run of
slices (often the whole future) when it is time-sliced — and the gates around
them are re-placed; a worse state is accepted with probability
``exp(-delta / temperature)`` while the temperature falls linearly to zero
over the time budget. The best state seen is checked with the exact cost
model and returned only if it beats the start.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem, ebit_count
from qdframe_allocators._base import BaseAllocator, Deadline
from qdframe_allocators._catalog import make_allocator
from qdframe_allocators._model import default_sides, distance_lists, exact_sides, pair_segments
from qdframe_allocators._temporal import TemporalSearch

__all__ = ["AnnealingAllocator", "anneal"]


def anneal(
    problem: AllocationProblem,
    start: Allocation,
    seed: int,
    deadline: Deadline,
    *,
    temperature: float = 1.0,
    max_steps: int | None = None,
) -> Allocation:
    """Refine ``start`` by simulated annealing; never returns anything worse."""
    start_ebits = ebit_count(problem, start)
    if problem.gates.num_two_qubit == 0 or problem.num_nodes < 2:
        return start.with_notes(ebits=start_ebits)
    seg_a, seg_b = pair_segments(problem)
    fallback = default_sides(problem, seg_a, seg_b)
    sides, _ = exact_sides(problem, start, fallback)
    gate_slice = start.slice_of_gate(problem.gates.pair_rows).astype(np.int64)
    T = start.num_slices
    search = TemporalSearch(
        problem,
        gate_slice,
        T,
        start.assignment.astype(np.int64),
        sides,
        seg_a,
        seg_b,
        distance_lists(problem),
    )
    state = search.state
    rng = np.random.default_rng(seed)
    n, N = search.n, search.N
    current = best = state.total
    best_table = search.assignment()
    steps = accepted = 0
    total_time = max(deadline.left(), 1e-6)
    while not deadline.expired() and (max_steps is None or steps < max_steps):
        steps += 1
        q1 = int(rng.integers(n))
        t0 = int(rng.integers(T)) if T > 1 else 0
        if T > 1 and rng.random() >= 0.3:
            t1 = min(T - 1, t0 + int(rng.geometric(0.1)) - 1)
        else:
            t1 = T - 1
        x1 = search.node(t0, q1)
        q2 = int(rng.integers(N))
        if q2 == q1 or search.node(t0, q2) == x1:
            continue
        mark = state.checkpoint()
        delta = search.exchange(q1, q2, t0, t1)
        temp = temperature * max(deadline.left(), 0.0) / total_time
        if delta <= 0 or (temp > 0 and rng.random() < math.exp(-delta / temp)):
            state.commit()
            accepted += 1
            current += delta
            if current < best:
                best = current
                best_table = search.assignment()
        else:
            state.rollback_to(mark)
    refined = Allocation.sliced(best_table, start.slice_starts)
    ebits = ebit_count(problem, refined)
    stats = {"annealing_steps": steps, "annealing_accepted": accepted}
    if ebits < start_ebits:
        return refined.with_notes(ebits=ebits, start_ebits=start_ebits, **stats)
    return start.with_notes(ebits=start_ebits, start_ebits=start_ebits, **stats)


class AnnealingAllocator(BaseAllocator):
    """Simulated annealing from another allocator's result.

    Options: ``start`` (allocator name, default ``temporal``), ``start_options``,
    ``start_share`` (share of the time budget for the start),
    ``temperature`` (initial temperature in ebits), ``time_share``.
    """

    name: ClassVar[str] = "annealing"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "start": "temporal",
        "start_options": None,
        "start_share": 0.5,
        "temperature": 1.0,
        "time_share": 1.0,
        "max_steps": None,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        deadline = Deadline(problem.time_budget_s * float(self.options["time_share"]))
        share = float(self.options["start_share"])
        starter = make_allocator(
            str(self.options["start"]), **(self.options["start_options"] or {})
        )
        sub = AllocationProblem(
            problem.gates,
            problem.topology,
            time_budget_s=max(1e-3, problem.time_budget_s * share),
            allow_migration=problem.allow_migration,
            label=problem.label,
        )
        start = starter.allocate(sub, seed=seed)
        steps = self.options["max_steps"]
        result = anneal(
            problem,
            start,
            seed,
            deadline,
            temperature=float(self.options["temperature"]),
            max_steps=None if steps is None else int(steps),
        )
        return result.with_notes(start=str(self.options["start"]))
