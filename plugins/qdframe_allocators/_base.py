"""Pieces shared by the built-in allocators."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from qdframe.plugin import Allocation, AllocationProblem, ConfigError, Topology

__all__ = ["BaseAllocator", "Deadline", "fill_in_order", "node_order", "resolve_seed"]

IntArray = npt.NDArray[np.int64]


class Deadline:
    """A wall-clock budget: ``left()`` seconds remain until ``expired()``."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.end = self.start + max(0.0, seconds)

    def left(self) -> float:
        return self.end - time.perf_counter()

    def expired(self) -> bool:
        return time.perf_counter() >= self.end

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def fraction(self, share: float) -> Deadline:
        """A sub-budget of ``share`` of the time left."""
        return Deadline(max(0.0, self.left()) * share)


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
