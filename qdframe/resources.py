"""Resource management: which nodes and links are up, and what the run may use.

The seed's resource types map to: quantum processors (nodes, with data and
communication qubits, up or down), classical processors (executor slots),
memory (a byte budget from ``[memory]`` and the host) and network resources
(an EPR-pair budget per link, from the link's generation rate). When a node or
link fails, :meth:`ResourceManager.available_topology` gives the network
without it, so the allocator re-plans on what is left.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.errors import ResourceError

if TYPE_CHECKING:
    from qdframe.config import SystemConfig
    from qdframe.topology import Topology

__all__ = ["ResourceManager", "SubTopology", "check_node_limit", "limit_nodes", "whole", "without"]


@dataclass(frozen=True)
class SubTopology:
    """A topology with some nodes or links removed.

    ``original[i]`` is the node id, in the full topology, of node ``i`` here.
    """

    topology: Topology
    original: tuple[int, ...]

    def to_original(self, node: int) -> int:
        return self.original[node]


def without(
    topology: Topology,
    nodes: frozenset[int] | set[int] = frozenset(),
    links: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> SubTopology:
    """``topology`` without ``nodes`` (and their links) and without ``links``.

    Remaining nodes are renumbered ``0..k-1`` in their original order.

    :raises ResourceError: nothing is left, or what is left is disconnected
        (the message names the nodes cut off).
    """
    from qdframe.errors import ConfigError
    from qdframe.topology import Topology

    if not nodes and not links:
        return SubTopology(topology, tuple(range(topology.num_nodes)))
    keep = [n for n in range(topology.num_nodes) if n not in nodes]
    if not keep:
        raise ResourceError("every node is down; nothing is left to run on")
    index = {old: new for new, old in enumerate(keep)}
    down_links = {(min(a, b), max(a, b)) for a, b in links}
    edges = []
    overrides = {}
    for (u, v), spec in zip(topology.edges.tolist(), topology.links, strict=True):
        if u in index and v in index and (u, v) not in down_links:
            edges.append((index[u], index[v]))
            if spec != topology.default_link:
                overrides[(index[u], index[v])] = spec
    cut_off = _unreachable(len(keep), edges)
    if cut_off:
        raise ResourceError(
            f"the network is split once nodes {sorted(nodes)} and links {sorted(down_links)} "
            f"are down: node(s) {', '.join(str(keep[i]) for i in cut_off)} can no longer be "
            f"reached from node {keep[0]}"
        )
    try:
        sub = Topology(
            topology.name,
            len(keep),
            edges,
            data_qubits=[int(topology.data_qubits[n]) for n in keep],
            comm_qubits=[int(topology.comm_qubits[n]) for n in keep],
            link=topology.default_link,
            link_overrides=overrides,
            params={**topology.params, "excluded_nodes": sorted(nodes)},
        )
    except ConfigError as exc:
        raise ResourceError(
            f"the network is split once nodes {sorted(nodes)} and links "
            f"{sorted(down_links)} are removed: {exc}"
        ) from None
    return SubTopology(sub, tuple(keep))


def whole(topology: Topology) -> SubTopology:
    """All of ``topology``, as a :class:`SubTopology` with nothing removed."""
    return SubTopology(topology, tuple(range(topology.num_nodes)))


def limit_nodes(sub: SubTopology, max_nodes: int) -> SubTopology:
    """At most ``max_nodes`` connected nodes of ``sub`` (``[resources] max_nodes``).

    The set grows from the node with the most links: each step adds the
    neighbour of the set with the most links into it, then the most links
    overall, then the lowest id, so the same network always gives the same
    nodes. ``original`` still maps to the full network's node ids.

    :raises ConfigError: ``max_nodes`` is below 1.
    """
    from qdframe.errors import ConfigError

    if max_nodes < 1:
        raise ConfigError(
            f"max_nodes must be at least 1, got {max_nodes}",
            key_path="resources.max_nodes",
            allowed="an integer >= 1",
        )
    topology = sub.topology
    count = topology.num_nodes
    if count <= max_nodes:
        return sub
    adjacency: list[list[int]] = [[] for _ in range(count)]
    for u, v in topology.edges.tolist():
        adjacency[u].append(v)
        adjacency[v].append(u)
    degree = [len(links) for links in adjacency]
    # Links from each node into the chosen set; a heap of (-links in, -degree,
    # id) entries, stale ones skipped, so each link is looked at twice at most.
    inward = [0] * count
    start = max(range(count), key=lambda n: (degree[n], -n))
    chosen = {start}
    heap: list[tuple[int, int, int]] = []

    def add(node: int) -> None:
        for other in adjacency[node]:
            if other not in chosen:
                inward[other] += 1
                heapq.heappush(heap, (-inward[other], -degree[other], other))

    add(start)
    while len(chosen) < max_nodes and heap:
        links, _, node = heapq.heappop(heap)
        if node in chosen or -links != inward[node]:
            continue
        chosen.add(node)
        add(node)
    kept = without(topology, frozenset(set(range(count)) - chosen))
    return SubTopology(kept.topology, tuple(sub.original[n] for n in kept.original))


def check_node_limit(num_qubits: int, topology: Topology, max_nodes: int) -> None:
    """Refuse a circuit that the nodes a plan may use cannot hold.

    :raises CapacityError: naming the qubits, the nodes, the data qubits
        they hold and the key to change.
    """
    from qdframe.errors import CapacityError

    have = int(topology.data_qubits.sum())
    if num_qubits <= have:
        return
    raise CapacityError(
        f"the circuit needs {num_qubits} qubits but the {topology.num_nodes} node(s) a plan "
        f"may use ([resources] max_nodes = {max_nodes}) hold only {have} data qubits; raise "
        "resources.max_nodes or unset it to use the whole network"
    )


def _unreachable(n: int, edges: list[tuple[int, int]]) -> list[int]:
    adjacency: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        adjacency[u].append(v)
        adjacency[v].append(u)
    seen = {0}
    stack = [0]
    while stack:
        for nxt in adjacency[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return [i for i in range(n) if i not in seen]


@dataclass
class ResourceManager:
    """Tracks the resources of one :class:`qdframe.DistributedSystem`.

    :param topology: the full network.
    :param executor_slots: classical workers available for jobs.
    :param memory_budget_bytes: the smaller of ``[memory] max_memory_bytes``
        and what the host has.
    :param max_nodes: most nodes a plan may use (``[resources] max_nodes``);
        ``None`` for every node that is up.
    """

    topology: Topology
    executor_slots: int
    memory_budget_bytes: int
    max_nodes: int | None = None
    down_nodes: set[int] = field(default_factory=set)
    down_links: set[tuple[int, int]] = field(default_factory=set)
    used_ebits: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        config: SystemConfig,
        topology: Topology,
        *,
        host_memory_bytes: int | None = None,
        executor_slots: int = 1,
    ) -> ResourceManager:
        budget = config.memory.max_memory_bytes
        if host_memory_bytes:
            budget = min(budget, host_memory_bytes)
        return cls(topology, executor_slots, budget, max_nodes=config.resources.max_nodes)

    def mark_node_down(self, node: int) -> None:
        if not 0 <= node < self.topology.num_nodes:
            raise ResourceError(
                f"node {node} does not exist (nodes are 0..{self.topology.num_nodes - 1})"
            )
        self.down_nodes.add(node)

    def mark_link_down(self, a: int, b: int) -> None:
        self.topology.link(a, b)  # raises ConfigError when a and b are not adjacent
        self.down_links.add((min(a, b), max(a, b)))

    def available_topology(self) -> SubTopology:
        """The network without what is down (see :func:`without`), cut to
        :attr:`max_nodes` connected nodes (see :func:`limit_nodes`)."""
        up = without(self.topology, frozenset(self.down_nodes), frozenset(self.down_links))
        return up if self.max_nodes is None else limit_nodes(up, self.max_nodes)

    def record_link_usage(self, usage: dict[tuple[int, int], int]) -> None:
        """Add EPR pairs consumed per link (in full-topology node ids)."""
        for link, pairs in usage.items():
            key = (min(link), max(link))
            self.used_ebits[key] = self.used_ebits.get(key, 0) + int(pairs)

    def epr_budget_per_s(self) -> dict[tuple[int, int], float]:
        """Raw EPR pairs each up link can generate per second."""
        return {
            (u, v): spec.epr_rate_hz
            for (u, v), spec in zip(self.topology.edges.tolist(), self.topology.links, strict=True)
            if (u, v) not in self.down_links
            and u not in self.down_nodes
            and v not in self.down_nodes
        }

    def usage(self) -> dict[str, Any]:
        """Resource usage for the run's metrics."""
        data = self.topology.data_qubits
        up = np.ones(self.topology.num_nodes, dtype=bool)
        up[list(self.down_nodes)] = False
        return {
            "quantum_processors": {
                "nodes": self.topology.num_nodes,
                "up": int(up.sum()),
                "down": sorted(self.down_nodes),
                "data_qubits_up": int(data[up].sum()),
                "comm_qubits_up": int(self.topology.comm_qubits[up].sum()),
            },
            "classical_processors": {"executor_slots": self.executor_slots},
            "memory": {"budget_bytes": self.memory_budget_bytes},
            "network": {
                "links": self.topology.num_links,
                "down": [list(link) for link in sorted(self.down_links)],
                "ebits_used": {f"{a}-{b}": n for (a, b), n in sorted(self.used_ebits.items())},
            },
        }
