"""``annealing``: simulated annealing that refines any starting allocation.

The start comes from another allocator (``start``, default ``temporal``),
looked up in the run's plugin set when one is given (option ``plugins``),
else in the built-in catalog. The annealing itself (see
:func:`qdframe_allocators._anneal.anneal`) runs a fixed number of steps, its
work budget, with the temperature falling linearly over the steps, and stops
early after ``patience`` steps without a new best state. The best state seen
is checked with the exact cost model and returned only if it beats the start.
"""

from __future__ import annotations

from typing import Any, ClassVar

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._anneal import anneal, default_steps
from qdframe_allocators._base import BaseAllocator
from qdframe_allocators._catalog import make_allocator

__all__ = ["AnnealingAllocator", "anneal", "default_steps"]


class AnnealingAllocator(BaseAllocator):
    """Simulated annealing from another allocator's result.

    Options: ``start`` (allocator name, default ``temporal``), ``start_options``,
    ``start_share`` (share of the time cap for the start), ``temperature``
    (initial temperature in ebits), ``work`` (annealing steps; default
    :func:`default_steps`), ``patience`` (steps in a row without a new best
    before stopping; default a quarter of the steps), ``time_share`` (share
    of the problem's ``time_budget_s`` used as the safety cap), ``plugins``
    (the run's plugin set, where a ``start`` that is not built in is found).
    """

    name: ClassVar[str] = "annealing"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "start": "temporal",
        "start_options": None,
        "start_share": 0.5,
        "temperature": 1.0,
        "work": None,
        "patience": None,
        "time_share": 1.0,
        "plugins": None,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        steps = default_steps(problem)
        budget = self._budget(problem, steps)
        share = float(self.options["start_share"])
        starter = make_allocator(
            str(self.options["start"]),
            plugins=self.options["plugins"],
            **(self.options["start_options"] or {}),
        )
        sub = AllocationProblem(
            problem.gates,
            problem.topology,
            time_budget_s=max(1e-3, problem.time_budget_s * share),
            allow_migration=problem.allow_migration,
            label=problem.label,
        )
        start = starter.allocate(sub, seed=seed)
        if budget.limit is not None:
            steps = budget.limit
        patience = self.options["patience"]
        result = anneal(
            problem,
            start,
            seed,
            budget,
            steps=steps,
            temperature=float(self.options["temperature"]),
            patience=max(1, steps // 4) if patience is None else int(patience),
        )
        return result.with_notes(
            start=str(self.options["start"]),
            start_time_cap_hit=bool(start.notes.get("time_cap_hit", False)),
            **budget.notes(),
        )
