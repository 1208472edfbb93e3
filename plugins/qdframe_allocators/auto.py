"""``auto``: pick the allocator that wins the benchmark at the circuit's size.

The policy follows ``benchmarks/dqc`` (see ``docs/allocators.md``):

* no two-qubit gates → ``sequential`` (nothing to optimise);
* up to ``TEMPORAL_LIMITS`` → ``temporal``: teleportation schedules cut the
  quantum-volume ebits by more than half against any static partition, and it
  falls back to its static multilevel FM start whenever teleporting does not
  pay (QFT, CP-fraction);
* up to ``FM_LIMITS`` → ``fm``: static multilevel FM still converges in
  seconds;
* beyond, on a sparse network → ``locality``: qubits and network bisected
  together, so interacting qubits share a node or sit on near ones (on the
  32 x 32 torus: 14-17x fewer ebits than ``greedy`` on adders and 2D Ising
  Trotter steps, 0.74-0.86x on random gates, the same on the QFT);
* beyond, all-to-all → ``greedy`` graph growing, linear in the gate count
  (as good as ``locality`` there, where placement does not matter, and
  faster).

On a sparse network the choice runs inside ``topology_aware``, which then
places the groups so that chatty ones sit on neighbouring nodes. When the
circuit needs only a few of many nodes, the search runs on a compact region
(the nearest nodes, breadth-first from node 0, with room to spare) and the
result is mapped back. The returned allocation names the allocator that ran
and says why.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem, Allocator, Topology
from qdframe_allocators._base import BaseAllocator, node_order
from qdframe_allocators._catalog import AllocatorFactory, leaf_allocators, make_allocator
from qdframe_allocators.topology_aware import TopologyAwareAllocator

__all__ = ["FM_LIMITS", "TEMPORAL_LIMITS", "AutoAllocator", "choose"]

#: (qubits, two-qubit gates, nodes) up to which ``temporal`` is chosen.
TEMPORAL_LIMITS = (256, 20_000, 64)
#: (qubits, two-qubit gates, nodes) up to which ``fm`` is chosen.
FM_LIMITS = (4_096, 200_000, 256)


#: Allocators ``auto`` runs as they are, without ``topology_aware`` around them.
_SCALABLE = ("greedy", "locality")


def _within(limits: tuple[int, int, int], n: int, m: int, k: int) -> bool:
    return n <= limits[0] and m <= limits[1] and k <= limits[2]


def choose(problem: AllocationProblem) -> tuple[str, dict[str, Any], str]:
    """The allocator name, its options and the reason, for ``problem``."""
    n, m, k = problem.num_qubits, problem.gates.num_two_qubit, problem.num_nodes
    size = f"{n} qubits, {m} two-qubit gates, {k} nodes"
    if m == 0 or k == 1:
        return "sequential", {}, f"sequential: nothing to optimise ({size})"
    if _within(TEMPORAL_LIMITS, n, m, k) and problem.allow_migration:
        name = "temporal"
        why = (
            "temporal: best on the dqc quality benchmark at this size (teleportation "
            "halves quantum-volume ebits; falls back to static FM when teleporting does "
            f"not pay) and converges well within the {problem.time_budget_s:g} s CPU "
            f"safety cap ({size})"
        )
    elif _within(TEMPORAL_LIMITS, n, m, k) or _within(FM_LIMITS, n, m, k):
        name = "fm"
        why = (
            "fm: static multilevel FM is the best allocator that converges within the "
            f"{problem.time_budget_s:g} s CPU safety cap at this size"
            + ("" if problem.allow_migration else " with migration disabled")
            + f" ({size})"
        )
    elif not problem.topology.is_complete:
        name = "locality"
        why = (
            "locality: qubits and the network bisected together keep interacting "
            f"qubits on the same or nearby nodes of the sparse {problem.topology.name} "
            f"network; FM and temporal search would exceed the {problem.time_budget_s:g} s "
            f"CPU safety cap at {size}"
        )
    else:
        name = "greedy"
        why = (
            "greedy: graph growing is linear in the gate count; FM and temporal "
            f"search would exceed the {problem.time_budget_s:g} s CPU safety cap at {size}"
        )
    if not problem.topology.is_complete and k <= FM_LIMITS[2] and name not in _SCALABLE:
        return (
            "topology_aware",
            {"base": name},
            why + f"; on the sparse {problem.topology.name} network it runs inside "
            "topology_aware to place talkative groups on neighbouring nodes",
        )
    return name, {}, why


def compact_region(problem: AllocationProblem) -> tuple[AllocationProblem, list[int]] | None:
    """The problem restricted to the nearest nodes that hold the circuit, when
    the network is much larger than needed; ``None`` otherwise.

    The region is a breadth-first prefix from node 0 (connected), with twice
    the nodes strictly needed (at most ``TEMPORAL_LIMITS`` nodes).
    """
    topology = problem.topology
    k = topology.num_nodes
    if k <= TEMPORAL_LIMITS[2]:
        return None
    order = node_order(topology)
    caps = topology.data_qubits[order]
    needed = int(np.searchsorted(np.cumsum(caps), problem.num_qubits)) + 1
    size = min(k, max(needed + 1, 2 * needed))
    if size > TEMPORAL_LIMITS[2]:
        return None
    region = order[:size]
    index = {node: i for i, node in enumerate(region)}
    edges = []
    overrides = {}
    for (u, v), spec in zip(topology.edges.tolist(), topology.links, strict=True):
        if u in index and v in index:
            edges.append((index[u], index[v]))
            if spec != topology.default_link:
                overrides[(index[u], index[v])] = spec
    sub = Topology(
        f"{topology.name} region",
        size,
        edges,
        data_qubits=topology.data_qubits[region].tolist(),
        comm_qubits=topology.comm_qubits[region].tolist(),
        link=topology.default_link,
        link_overrides=overrides,
    )
    restricted = AllocationProblem(
        problem.gates,
        sub,
        time_budget_s=problem.time_budget_s,
        allow_migration=problem.allow_migration,
        label=problem.label,
    )
    return restricted, region


def _make(name: str, options: dict[str, Any], work: int | None) -> Allocator:
    # The policy chooses among built-ins only: the catalog is fixed here.
    catalog: dict[str, AllocatorFactory] = {
        **leaf_allocators(),
        "topology_aware": TopologyAwareAllocator,
    }
    factory = catalog.get(name)
    if work is not None and "work" in getattr(factory, "OPTIONS", {}):
        options = {**options, "work": work}
    return make_allocator(name, plugins=None, builtins=catalog, **options)


class AutoAllocator(BaseAllocator):
    """Chooses and runs an allocator by circuit size (see :func:`choose`).

    Options: ``work`` (passed on to the chosen allocator when it takes one).
    """

    name: ClassVar[str] = "auto"
    OPTIONS: ClassVar[dict[str, Any]] = {"work": None}

    def allocate(self, problem: AllocationProblem, *, seed: int | None = None) -> Allocation:
        work = self.options["work"]
        compact = compact_region(problem)
        if compact is None:
            chosen, options, reason = choose(problem)
            allocation = _make(chosen, options, work).allocate(problem, seed=seed)
            return allocation.with_notes(reason=reason, policy="auto")
        restricted, region = compact
        chosen, options, reason = choose(restricted)
        inner = _make(chosen, options, work).allocate(restricted, seed=seed)
        nodes = np.asarray(region, dtype=np.int64)
        reason += (
            f"; the circuit needs few of the {problem.num_nodes} nodes, so the search ran "
            f"on the {len(region)} nearest ones"
        )
        return Allocation(
            nodes[inner.assignment],
            inner.slice_starts,
            inner.allocator,
            {**inner.notes, "reason": reason, "policy": "auto", "region": region},
        )
