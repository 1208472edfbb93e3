"""Simulated annealing of an allocation, counted in steps (proposed exchanges).

Moves exchange the nodes of two qubits — for the whole circuit when the
allocation is static, or over a random run of slices (often the whole
future) when it is time-sliced — and the gates around them are re-placed; a
worse state is accepted with probability ``exp(-delta / temperature)`` while
the temperature falls linearly to zero over the steps. The schedule is a
function of the step count only, never of the clock, so a seed always gives
the same result. The best state seen is checked with the exact cost model
and returned only if it beats the start.
"""

from __future__ import annotations

import math

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem, ebit_count
from qdframe_allocators._base import Budget
from qdframe_allocators._model import default_sides, distance_lists, exact_sides, pair_segments
from qdframe_allocators._temporal import TemporalSearch

__all__ = ["anneal", "default_steps"]


def default_steps(problem: AllocationProblem) -> int:
    """Annealing steps when none are configured: 40 per two-qubit gate,
    between 2,000 and 200,000."""
    return min(200_000, max(2_000, 40 * problem.gates.num_two_qubit))


def anneal(
    problem: AllocationProblem,
    start: Allocation,
    seed: int,
    budget: Budget,
    *,
    steps: int,
    temperature: float = 1.0,
    patience: int | None = None,
) -> Allocation:
    """Refine ``start`` by up to ``steps`` annealing steps; never returns anything worse.

    Each step spends one unit of ``budget`` (the search also ends when the
    budget does). With ``patience``, the search ends after that many steps
    in a row without a new best state (converged).

    :raises ValueError: ``steps`` is below 1.
    """
    if steps < 1:
        raise ValueError(f"annealing needs at least 1 step, got {steps}")
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
    done = accepted = since_best = 0
    while done < steps and not budget.expired():
        if patience is not None and since_best >= patience:
            break
        done += 1
        since_best += 1
        budget.spend()
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
        temp = temperature * (steps - done) / steps
        if delta <= 0 or (temp > 0 and rng.random() < math.exp(-delta / temp)):
            state.commit()
            accepted += 1
            current += delta
            if current < best:
                best = current
                best_table = search.assignment()
                since_best = 0
        else:
            state.rollback_to(mark)
    refined = Allocation.sliced(best_table, start.slice_starts)
    ebits = ebit_count(problem, refined)
    stats = {"annealing_steps": done, "annealing_accepted": accepted}
    if ebits < start_ebits:
        return refined.with_notes(ebits=ebits, start_ebits=start_ebits, **stats)
    return start.with_notes(ebits=start_ebits, start_ebits=start_ebits, **stats)
