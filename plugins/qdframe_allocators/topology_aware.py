"""``topology_aware``: refinement for sparse networks, where a burst between
nodes ``h`` hops apart costs ``h`` ebits.

Runs a base allocator (``fm`` by default), then

1. *relabels nodes*: swaps the whole contents of two nodes whenever that
   lowers the hop-weighted ebit count (groups of qubits that talk a lot end
   up on neighbouring nodes), until no swap helps;
2. *refines moves*: FM passes whose gains are measured in hop-weighted ebits
   (static allocations) or annealing (time-sliced ones; as many steps as
   the ``annealing`` allocator's default).

Relabelling stops when no swap helps and refinement when it converges;
the problem's ``time_budget_s`` is only a safety cap.

On an all-to-all network every placement of the groups costs the same, so
the base result is returned unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem, ebit_count
from qdframe_allocators._anneal import anneal, default_steps
from qdframe_allocators._base import BaseAllocator, Budget
from qdframe_allocators._catalog import leaf_allocators, make_allocator
from qdframe_allocators.annealing import AnnealingAllocator
from qdframe_allocators.fm import static_fm

__all__ = ["TopologyAwareAllocator", "relabel_nodes"]

# Beyond this many nodes only swaps between nodes at most two hops apart are tried.
_ALL_PAIRS_LIMIT = 24


def _candidate_pairs(problem: AllocationProblem) -> list[tuple[int, int]]:
    k = problem.num_nodes
    caps = problem.capacities
    if k <= _ALL_PAIRS_LIMIT:
        pairs = [(u, v) for u in range(k) for v in range(u + 1, k)]
    else:
        dist = problem.topology.distances()
        us, vs = np.nonzero((dist > 0) & (dist <= 2))
        pairs = [(int(u), int(v)) for u, v in zip(us, vs, strict=True) if u < v]
    return [(u, v) for u, v in pairs if caps[u] == caps[v]]


def relabel_nodes(
    problem: AllocationProblem, allocation: Allocation, budget: Budget
) -> tuple[Allocation, int]:
    """Swap node contents while that lowers the exact hop-weighted cost
    (each priced swap spends one unit of ``budget``)."""
    best = allocation
    best_ebits = ebit_count(problem, best)
    pairs = _candidate_pairs(problem)
    improved = True
    while improved and not budget.expired():
        improved = False
        for u, v in pairs:
            table = best.assignment.copy()
            on_u, on_v = table == u, table == v
            if not (on_u.any() or on_v.any()):
                continue
            table[on_u], table[on_v] = v, u
            budget.spend()
            candidate = Allocation(table, best.slice_starts, best.allocator, best.notes)
            ebits = ebit_count(problem, candidate)
            if ebits < best_ebits:
                best, best_ebits, improved = candidate, ebits, True
            if budget.expired():
                break
    return best, best_ebits


def _catalog() -> dict[str, Any]:
    return {**leaf_allocators(), "annealing": AnnealingAllocator}


class TopologyAwareAllocator(BaseAllocator):
    """A base allocator followed by hop-aware node relabelling and refinement.

    Options: ``base`` (allocator name, default ``fm``), ``base_options``,
    ``base_share`` (share of the time cap for the base), ``work`` (most
    units for the relabelling and refinement), ``time_share`` (share of the
    problem's ``time_budget_s`` used as the safety cap), ``plugins`` (the
    run's plugin set, where a ``base`` that is not built in is found).
    """

    name: ClassVar[str] = "topology_aware"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "base": "fm",
        "base_options": None,
        "base_share": 0.5,
        "work": None,
        "time_share": 1.0,
        "plugins": None,
    }

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        budget = self._budget(problem, None)
        base_name = str(self.options["base"])
        base = make_allocator(
            base_name,
            plugins=self.options["plugins"],
            builtins=_catalog(),
            **(self.options["base_options"] or {}),
        )
        sub = AllocationProblem(
            problem.gates,
            problem.topology,
            time_budget_s=max(1e-3, problem.time_budget_s * float(self.options["base_share"])),
            allow_migration=problem.allow_migration,
            label=problem.label,
        )
        start = base.allocate(sub, seed=seed)
        start_ebits = ebit_count(problem, start)
        if problem.topology.is_complete or problem.num_nodes < 3:
            return start.with_notes(base=base_name, ebits=start_ebits, base_ebits=start_ebits)
        relabelled, ebits = relabel_nodes(problem, start, budget.sub(None))
        if relabelled.is_static:
            part, refined_ebits, _ = static_fm(
                problem,
                seed,
                budget,
                restarts=0,
                initial=relabelled.assignment[0],
                structured=False,
            )
            result = Allocation.static(part) if refined_ebits < ebits else relabelled
            ebits = min(ebits, refined_ebits)
        else:
            steps = default_steps(problem)
            left = budget.left()
            steps = steps if left is None else max(1, min(steps, left))
            patience = max(1, steps // 4)
            result = anneal(problem, relabelled, seed, budget, steps=steps, patience=patience)
            ebits = ebit_count(problem, result)
        return result.with_notes(
            base=base_name,
            ebits=ebits,
            base_ebits=start_ebits,
            base_time_cap_hit=bool(start.notes.get("time_cap_hit", False)),
            **budget.notes(),
        )
