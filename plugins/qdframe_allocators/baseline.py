"""Baseline allocators: ``round_robin`` and ``sequential``.

Neither looks at the gates; they are the reference the other allocators are
measured against, and instant at any size.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem
from qdframe_allocators._base import BaseAllocator, fill_in_order, node_order

__all__ = ["RoundRobinAllocator", "SequentialAllocator"]


class RoundRobinAllocator(BaseAllocator):
    """Qubit ``q`` goes to the ``q``-th node in turn, skipping full nodes."""

    name: ClassVar[str] = "round_robin"

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        caps = problem.capacities
        order = node_order(problem.topology)
        k = len(order)
        # Turn r visits every node that still has room after r rounds.
        rounds = np.concatenate([np.arange(c, dtype=np.int64) for c in caps[order]])
        nodes = np.repeat(np.asarray(order, dtype=np.int64), caps[order])
        position = np.repeat(np.arange(k, dtype=np.int64), caps[order])
        sequence = np.lexsort((position, rounds))
        return Allocation.static(nodes[sequence][: problem.num_qubits])


class SequentialAllocator(BaseAllocator):
    """Qubits fill the nodes one after another, in breadth-first node order."""

    name: ClassVar[str] = "sequential"

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        order = node_order(problem.topology)
        return Allocation.static(fill_in_order(problem.num_qubits, problem.capacities, order))
