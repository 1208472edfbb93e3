"""Pieces shared by the built-in allocators."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from qdframe.plugin import Allocation, AllocationProblem, ConfigError, Topology

__all__ = ["BaseAllocator", "Budget", "fill_in_order", "node_order", "resolve_seed"]

IntArray = npt.NDArray[np.int64]


class _Cap:
    """The safety cap shared by a budget and its sub-budgets.

    It counts CPU seconds of the searching thread, not wall-clock seconds,
    so other work on a busy machine does not eat into it (a search runs in
    one thread; ensemble members each have their own).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.end = time.thread_time() + self.seconds
        self.hit = False

    def reached(self) -> bool:
        if not self.hit and time.thread_time() >= self.end:
            self.hit = True
        return self.hit


class Budget:
    """A search budget in units of work, with a CPU-time safety cap.

    One unit is one evaluated move (an FM move, an annealing exchange, a
    scored teleportation exchange, a refinement pass of ``locality``), so
    the same seed does the same search, and returns the same allocation,
    however busy the machine is. The cap only guards against runaway
    searches; when it ends a search, :attr:`cap_hit` says so and the result
    may then depend on the machine's speed.

    :param work: units allowed (``None``: no limit beyond convergence and the cap).
    :param cap_s: the safety cap in CPU seconds of the searching thread.
    """

    def __init__(self, work: int | None, cap_s: float) -> None:
        self._limit = None if work is None else max(0, int(work))
        self.used = 0
        self._cap = _Cap(cap_s)
        self._parent: Budget | None = None

    @property
    def limit(self) -> int | None:
        return self._limit

    @property
    def cap_hit(self) -> bool:
        """Whether the safety cap stopped (part of) the search."""
        return self._cap.hit

    def spend(self, units: int = 1) -> None:
        budget: Budget | None = self
        while budget is not None:
            budget.used += units
            budget = budget._parent

    def left(self) -> int | None:
        """Units left (``None`` when unlimited), never more than any parent allows."""
        own = None if self._limit is None else max(0, self._limit - self.used)
        above = None if self._parent is None else self._parent.left()
        if own is None:
            return above
        return own if above is None else min(own, above)

    def expired(self) -> bool:
        left = self.left()
        return (left is not None and left <= 0) or self._cap.reached()

    def share(self, fraction: float) -> Budget:
        """A sub-budget of ``fraction`` of the units left (same cap)."""
        left = self.left()
        return self.sub(None if left is None else max(1, int(left * fraction)))

    def sub(self, work: int | None) -> Budget:
        """A sub-budget of at most ``work`` units; spending it spends this one too."""
        child = Budget.__new__(Budget)
        child._limit = None if work is None else max(0, int(work))
        child.used = 0
        child._cap = self._cap
        child._parent = self
        return child

    def notes(self) -> dict[str, Any]:
        """What the search used, for the allocation's notes."""
        return {"work": self.used, "work_budget": self._limit, "time_cap_hit": self._cap.hit}


def resolve_seed(seed: int | None) -> int:
    return 0 if seed is None else int(seed)


class BaseAllocator:
    """Option checking and timing around :meth:`_allocate`.

    Subclasses list their options in ``OPTIONS`` (name → default) and read
    them from ``self.options``.
    """

    name: ClassVar[str] = "base"
    OPTIONS: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            allowed = ", ".join(sorted(self.OPTIONS)) or "none"
            raise ConfigError(
                f"allocator {self.name!r}: unknown option(s) {', '.join(unknown)}",
                allowed=allowed,
            )
        self.options: dict[str, Any] = {**self.OPTIONS, **options}

    def allocate(self, problem: AllocationProblem, *, seed: int | None = None) -> Allocation:
        """Allocate ``problem``'s qubits; the result records the time taken."""
        started = time.perf_counter()
        allocation = self._allocate(problem, resolve_seed(seed))
        allocation.check(problem)
        notes = {"time_s": round(time.perf_counter() - started, 4), **allocation.notes}
        return Allocation(allocation.assignment, allocation.slice_starts, self.name, notes)

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        raise NotImplementedError

    def _budget(self, problem: AllocationProblem, default_work: int | None) -> Budget:
        """This run's budget: the ``work`` option (else ``default_work``) in
        units, capped at ``time_share`` of the problem's ``time_budget_s``."""
        work = self.options.get("work")
        if work is not None and (isinstance(work, bool) or not isinstance(work, int) or work < 1):
            raise ConfigError(
                f"allocator {self.name!r}: work must be a positive integer number of "
                f"evaluated moves, got {work!r}",
                allowed="an integer >= 1, or leave it unset for the default",
            )
        share = float(self.options.get("time_share", 1.0))
        return Budget(default_work if work is None else int(work), problem.time_budget_s * share)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


def node_order(topology: Topology) -> list[int]:
    """Nodes in breadth-first order from node 0, so neighbours fill in turn."""
    if topology.is_complete:
        return list(range(topology.num_nodes))
    seen = [False] * topology.num_nodes
    order: list[int] = []
    for start in range(topology.num_nodes):
        if seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        while queue:
            u = queue.popleft()
            order.append(u)
            for v in topology.neighbours(u):
                if not seen[v]:
                    seen[v] = True
                    queue.append(v)
    return order


def fill_in_order(num_qubits: int, capacities: IntArray, order: list[int]) -> IntArray:
    """Qubits ``0, 1, ...`` fill the nodes of ``order`` one after another."""
    nodes = np.repeat(np.asarray(order, dtype=np.int64), capacities[order])
    return nodes[:num_qubits].copy()
