"""Network topologies: nodes with qubit capacities joined by quantum links.

A :class:`Topology` is an undirected, connected graph. Node ``i`` holds
``data_qubits[i]`` data qubits and ``comm_qubits[i]`` communication qubits
(capacities may differ per node); every link carries a :class:`LinkSpec`
(latency, bandwidth, EPR generation rate and raw pair fidelity) that defaults
to the ``[communication]`` block of the configuration.

Queries cover what planning needs: neighbours, hop distances (one pair, or the
whole ``int16`` matrix, computed once by breadth-first search or by a closed
form the builder supplies), shortest paths by hops or latency, and the cost of
sharing one EPR pair between two nodes by entanglement swapping
(:meth:`Topology.pair_cost`).

Topologies are built by plugins (``registry.add("ring", build_ring)``);
:func:`build_topology` looks the builder up from a configuration.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import ConfigError

if TYPE_CHECKING:
    import networkx as nx

    from qdframe.config import CommunicationConfig, SystemConfig
    from qdframe.plugins import LoadedPlugins

__all__ = [
    "HopFunction",
    "LinkSpec",
    "PairCost",
    "Topology",
    "build_topology",
    "werner_fidelity",
]

IntArray = npt.NDArray[np.int64]

#: Vectorised closed-form hop distance: ``hops(a, b)`` for equal-shaped node arrays.
HopFunction = Callable[[IntArray, IntArray], IntArray]

# Above this many nodes the all-pairs matrix is not built implicitly: pairwise
# queries then use the closed form or one breadth-first search per source.
_MATRIX_LIMIT = 16384


@dataclass(frozen=True)
class LinkSpec:
    """Properties of one quantum link (and its classical side channel).

    :param latency_us: one-way classical latency in microseconds.
    :param bandwidth_bps: classical bandwidth in bits per second.
    :param epr_rate_hz: raw EPR pairs generated per second.
    :param epr_fidelity: fidelity of a raw EPR pair with a Bell state (0.25, 1].
    """

    latency_us: float = 100.0
    bandwidth_bps: float = float(100 * 1024**3)
    epr_rate_hz: float = 1000.0
    epr_fidelity: float = 0.99

    def __post_init__(self) -> None:
        problems = []
        if not self.latency_us >= 0:
            problems.append(f"latency_us={self.latency_us} (allowed: >= 0)")
        if not self.bandwidth_bps > 0:
            problems.append(f"bandwidth_bps={self.bandwidth_bps} (allowed: > 0)")
        if not self.epr_rate_hz > 0:
            problems.append(f"epr_rate_hz={self.epr_rate_hz} (allowed: > 0)")
        if not 0.25 < self.epr_fidelity <= 1.0:
            problems.append(f"epr_fidelity={self.epr_fidelity} (allowed: > 0.25 and <= 1)")
        if problems:
            raise ConfigError("invalid link: " + ", ".join(problems))

    @classmethod
    def from_config(cls, communication: CommunicationConfig) -> LinkSpec:
        """The default link of a ``[communication]`` block."""
        return cls(
            latency_us=float(communication.latency_us),
            bandwidth_bps=float(communication.bandwidth_bps),
            epr_rate_hz=float(communication.epr_rate_hz),
            epr_fidelity=float(communication.epr_fidelity),
        )

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> LinkSpec:
        """A copy with some fields replaced; unknown keys raise :class:`ConfigError`."""
        if not overrides:
            return self
        allowed = [f.name for f in fields(self)]
        unknown = sorted(set(overrides) - set(allowed))
        if unknown:
            raise ConfigError(
                f"unknown link field(s) {', '.join(unknown)}", allowed=", ".join(allowed)
            )
        values = asdict(self)
        for key, value in overrides.items():
            try:
                values[key] = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"link field {key}={value!r} is not a number") from None
        return LinkSpec(**values)


def werner_fidelity(fidelities: Iterable[float]) -> float:
    """Fidelity of the pair left after swapping a chain of Werner pairs.

    A Werner pair of fidelity ``F`` has parameter ``w = (4F - 1) / 3``; a
    Bell-state measurement joining two Werner pairs multiplies their
    parameters, so the end-to-end fidelity is ``(3 * prod(w) + 1) / 4``.
    An empty chain (both ends on one node) has fidelity 1.
    """
    w = 1.0
    for fidelity in fidelities:
        w *= (4.0 * fidelity - 1.0) / 3.0
    return (3.0 * w + 1.0) / 4.0


@dataclass(frozen=True)
class PairCost:
    """What sharing one EPR pair between two nodes costs.

    A path of ``hops`` links consumes ``raw_pairs == hops`` raw pairs (one per
    link, generated in parallel) and ``swaps == hops - 1`` entanglement swaps.
    ``latency_us`` is the slowest link's generation time plus the classical
    latency of the path that carries the swap outcomes to the end node.
    """

    source: int
    target: int
    path: tuple[int, ...]
    hops: int
    raw_pairs: int
    swaps: int
    fidelity: float
    latency_us: float
    classical_bits: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Topology:
    """An undirected connected network of quantum processors.

    :param name: the topology's kind, e.g. ``"torus"``.
    :param num_nodes: number of nodes, labelled ``0 .. num_nodes - 1``.
    :param edges: node pairs joined by a link (order and duplicates ignored).
    :param data_qubits: data qubits per node (one number for all, or one per node).
    :param comm_qubits: communication qubits per node (same forms).
    :param link: the default :class:`LinkSpec` of every link.
    :param link_overrides: a :class:`LinkSpec` for particular links, keyed by
        node pair (either order).
    :param hop_function: a vectorised closed form for hop distances; without it
        distances come from breadth-first search.
    :param params: the shape parameters used to build it (reported, not used).
    :raises ConfigError: a node index is out of range, a link joins a node to
        itself, a capacity is negative, or the graph is disconnected (the
        message names the nodes that cannot be reached from node 0).
    """

    def __init__(
        self,
        name: str,
        num_nodes: int,
        edges: Iterable[tuple[int, int]],
        *,
        data_qubits: int | Sequence[int],
        comm_qubits: int | Sequence[int] = 2,
        link: LinkSpec | None = None,
        link_overrides: Mapping[tuple[int, int], LinkSpec] | None = None,
        hop_function: HopFunction | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if num_nodes < 1:
            raise ConfigError(f"a topology needs at least 1 node, got {num_nodes}")
        self.name = name
        self.num_nodes = int(num_nodes)
        self.params: dict[str, Any] = dict(params or {})
        self.data_qubits = _capacity_array("data qubits", data_qubits, self.num_nodes)
        self.comm_qubits = _capacity_array("communication qubits", comm_qubits, self.num_nodes)
        self.default_link = link if link is not None else LinkSpec()
        self._edges = _normalise_edges(edges, self.num_nodes)
        self._links = [self.default_link] * len(self._edges)
        index = {(int(u), int(v)): i for i, (u, v) in enumerate(self._edges.tolist())}
        self._edge_index = index
        for (u, v), spec in (link_overrides or {}).items():
            key = (min(u, v), max(u, v))
            if key not in index:
                raise ConfigError(f"link override for {u}-{v}, but the topology has no such link")
            self._links[index[key]] = spec
        self._indptr, self._indices, self._edge_of = _csr(self.num_nodes, self._edges)
        self._hop_function = hop_function
        self._distances: npt.NDArray[np.int16] | None = None
        unreachable = self._unreachable_from_zero()
        if unreachable:
            shown = ", ".join(str(n) for n in unreachable[:20])
            more = f" and {len(unreachable) - 20} more" if len(unreachable) > 20 else ""
            raise ConfigError(
                f"{name} topology is disconnected: node(s) {shown}{more} cannot be reached "
                "from node 0; every node needs a path to every other"
            )

    # ------------------------------------------------------------------ basics

    @property
    def num_links(self) -> int:
        return len(self._edges)

    @property
    def edges(self) -> npt.NDArray[np.int64]:
        """The links as an ``(num_links, 2)`` array with ``u < v`` (read-only)."""
        view = self._edges.view()
        view.flags.writeable = False
        return view

    @property
    def links(self) -> tuple[LinkSpec, ...]:
        """One :class:`LinkSpec` per row of :attr:`edges`."""
        return tuple(self._links)

    @property
    def total_data_qubits(self) -> int:
        return int(self.data_qubits.sum())

    @property
    def is_complete(self) -> bool:
        """Every pair of nodes is joined by a link (no swapping ever needed)."""
        n = self.num_nodes
        return self.num_links == n * (n - 1) // 2

    @property
    def is_homogeneous(self) -> bool:
        """Every node has the same capacities."""
        return bool(
            (self.data_qubits == self.data_qubits[0]).all()
            and (self.comm_qubits == self.comm_qubits[0]).all()
        )

    def link(self, u: int, v: int) -> LinkSpec:
        """The link between adjacent nodes ``u`` and ``v``.

        :raises ConfigError: ``u`` and ``v`` are not adjacent.
        """
        key = (min(u, v), max(u, v))
        try:
            return self._links[self._edge_index[key]]
        except KeyError:
            raise ConfigError(f"nodes {u} and {v} are not joined by a link") from None

    def neighbours(self, node: int) -> list[int]:
        """The nodes adjacent to ``node``, ascending."""
        self._check_node(node)
        return [int(x) for x in self._indices[self._indptr[node] : self._indptr[node + 1]]]

    def degree(self, node: int) -> int:
        self._check_node(node)
        return int(self._indptr[node + 1] - self._indptr[node])

    # --------------------------------------------------------------- distances

    def hops(self, a: int | npt.ArrayLike, b: int | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Hop distances between ``a[i]`` and ``b[i]`` (vectorised)."""
        aa = np.asarray(a, dtype=np.int64)
        bb = np.asarray(b, dtype=np.int64)
        if self._hop_function is not None:
            return np.asarray(self._hop_function(aa, bb), dtype=np.int64)
        if self.num_nodes <= _MATRIX_LIMIT:
            return self.distances()[aa, bb].astype(np.int64)
        flat_a, flat_b = np.broadcast_arrays(aa, bb)
        out = np.empty(flat_a.shape, dtype=np.int64)
        for source in np.unique(flat_a):
            mask = flat_a == source
            out[mask] = self._bfs(int(source))[flat_b[mask]]
        return out

    def hop_distance(self, a: int, b: int) -> int:
        """Number of links on a shortest path between nodes ``a`` and ``b``."""
        self._check_node(a)
        self._check_node(b)
        return int(self.hops(a, b))

    def distances(self) -> npt.NDArray[np.int16]:
        """All-pairs hop distances as an ``int16`` matrix (computed once, read-only).

        Uses the builder's closed form when there is one, otherwise a
        breadth-first search from every node, vectorised over sources.
        """
        if self._distances is None:
            n = self.num_nodes
            _check_distance_memory(n)
            if self._hop_function is not None:
                matrix = np.empty((n, n), dtype=np.int16)
                cols = np.arange(n, dtype=np.int64)
                step = max(1, (1 << 22) // n)
                for start in range(0, n, step):
                    rows = np.arange(start, min(n, start + step), dtype=np.int64)
                    matrix[start : start + len(rows)] = self._hop_function(
                        rows[:, None], cols[None, :]
                    )
            else:
                matrix = _all_pairs_bfs(n, self._indptr, self._indices)
            matrix.flags.writeable = False
            self._distances = matrix
        return self._distances

    @property
    def diameter(self) -> int:
        """The largest hop distance between two nodes."""
        if self.num_nodes == 1:
            return 0
        if self.num_nodes <= _MATRIX_LIMIT:
            return int(self.distances().max())
        return int(self._bfs(int(self._bfs(0).argmax())).max())

    def _bfs(self, source: int) -> IntArray:
        dist = np.full(self.num_nodes, -1, dtype=np.int64)
        dist[source] = 0
        queue = deque([source])
        indptr, indices = self._indptr, self._indices
        while queue:
            u = queue.popleft()
            du = dist[u] + 1
            for v in indices[indptr[u] : indptr[u + 1]]:
                if dist[v] < 0:
                    dist[v] = du
                    queue.append(int(v))
        return dist

    # ------------------------------------------------------------------- paths

    def shortest_path(self, a: int, b: int, *, weight: str = "hops") -> list[int]:
        """A shortest path from ``a`` to ``b`` as a node list (both ends included).

        :param weight: ``"hops"`` (fewest links) or ``"latency"`` (smallest sum
            of link latencies; ties broken by fewer hops).
        :raises ConfigError: unknown ``weight`` or node.
        """
        self._check_node(a)
        self._check_node(b)
        if weight not in ("hops", "latency"):
            raise ConfigError(f"unknown path weight {weight!r}", allowed="hops, latency")
        if a == b:
            return [a]
        parent = self._bfs_parents(a, b) if weight == "hops" else self._dijkstra_parents(a, b)
        path = [b]
        while path[-1] != a:
            path.append(parent[path[-1]])
        path.reverse()
        return path

    def _bfs_parents(self, a: int, b: int) -> dict[int, int]:
        parent = {a: a}
        queue = deque([a])
        indptr, indices = self._indptr, self._indices
        while queue:
            u = queue.popleft()
            for v in indices[indptr[u] : indptr[u + 1]].tolist():
                if v not in parent:
                    parent[v] = u
                    if v == b:
                        return parent
                    queue.append(v)
        return parent

    def _dijkstra_parents(self, a: int, b: int) -> dict[int, int]:
        latency = [spec.latency_us for spec in self._links]
        best: dict[int, tuple[float, int]] = {a: (0.0, 0)}
        parent = {a: a}
        heap: list[tuple[float, int, int]] = [(0.0, 0, a)]
        done: set[int] = set()
        indptr, indices, edge_of = self._indptr, self._indices, self._edge_of
        while heap:
            d, h, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            if u == b:
                break
            for pos in range(int(indptr[u]), int(indptr[u + 1])):
                v = int(indices[pos])
                candidate = (d + latency[int(edge_of[pos])], h + 1)
                if v not in best or candidate < best[v]:
                    best[v] = candidate
                    parent[v] = u
                    heapq.heappush(heap, (candidate[0], candidate[1], v))
        return parent

    def pair_cost(self, a: int, b: int, *, weight: str = "hops") -> PairCost:
        """The cost of one EPR pair shared between nodes ``a`` and ``b``.

        Along a shortest path of ``h`` links: ``h`` raw pairs, ``h - 1`` swaps,
        two classical bits per swap, the Werner-composed fidelity of the raw
        pairs and the latency described in :class:`PairCost`.
        """
        path = self.shortest_path(a, b, weight=weight)
        specs = [self.link(u, v) for u, v in itertools.pairwise(path)]
        hops = len(specs)
        generation_us = max((1e6 / s.epr_rate_hz for s in specs), default=0.0)
        return PairCost(
            source=a,
            target=b,
            path=tuple(path),
            hops=hops,
            raw_pairs=hops,
            swaps=max(hops - 1, 0),
            fidelity=werner_fidelity(s.epr_fidelity for s in specs),
            latency_us=generation_us + sum(s.latency_us for s in specs),
            classical_bits=2 * max(hops - 1, 0),
        )

    # ------------------------------------------------------------------ export

    def to_networkx(self) -> nx.Graph:
        """The topology as a :class:`networkx.Graph` with node and link attributes."""
        import networkx as nx

        graph = nx.Graph(name=self.name)
        for node in range(self.num_nodes):
            graph.add_node(
                node,
                data_qubits=int(self.data_qubits[node]),
                comm_qubits=int(self.comm_qubits[node]),
            )
        for (u, v), spec in zip(self._edges.tolist(), self._links, strict=True):
            graph.add_edge(u, v, **asdict(spec))
        return graph

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-link detail)."""
        summary: dict[str, Any] = {
            "name": self.name,
            "num_nodes": self.num_nodes,
            "num_links": self.num_links,
            "total_data_qubits": self.total_data_qubits,
            "params": {k: v for k, v in self.params.items() if _jsonable(v)},
            "link": asdict(self.default_link),
        }
        if self.is_homogeneous:
            summary["data_qubits_per_node"] = int(self.data_qubits[0])
            summary["comm_qubits_per_node"] = int(self.comm_qubits[0])
        else:
            summary["data_qubits"] = self.data_qubits.tolist()
            summary["comm_qubits"] = self.comm_qubits.tolist()
        if self.num_nodes <= _MATRIX_LIMIT:
            summary["diameter"] = self.diameter
        return summary

    def __repr__(self) -> str:
        return (
            f"Topology({self.name!r}, nodes={self.num_nodes}, links={self.num_links}, "
            f"data_qubits={self.total_data_qubits})"
        )

    # ----------------------------------------------------------------- helpers

    def _check_node(self, node: int) -> None:
        if not 0 <= node < self.num_nodes:
            raise ConfigError(f"node {node} does not exist", allowed=f"0 .. {self.num_nodes - 1}")

    def _unreachable_from_zero(self) -> list[int]:
        if self.num_nodes == 1:
            return []
        seen = np.zeros(self.num_nodes, dtype=bool)
        seen[0] = True
        frontier = np.array([0], dtype=np.int64)
        indptr, indices = self._indptr, self._indices
        while frontier.size:
            starts, ends = indptr[frontier], indptr[frontier + 1]
            reach = indices[_ranges(starts, ends)]
            reach = np.unique(reach[~seen[reach]])
            seen[reach] = True
            frontier = reach
        return [int(x) for x in np.flatnonzero(~seen)]


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | tuple | dict) or value is None


def _capacity_array(what: str, value: int | Sequence[int], n: int) -> IntArray:
    if isinstance(value, int | np.integer):
        array = np.full(n, int(value), dtype=np.int64)
    else:
        array = np.asarray(list(value), dtype=np.int64)
        if array.shape != (n,):
            raise ConfigError(
                f"{what}: got {array.size} per-node values for {n} nodes; give one number "
                f"or exactly {n} values"
            )
    if (array < 0).any():
        bad = [int(i) for i in np.flatnonzero(array < 0)]
        raise ConfigError(f"{what} must be >= 0; negative at node(s) {bad}")
    array.flags.writeable = False
    return array


def _normalise_edges(edges: Iterable[tuple[int, int]], n: int) -> IntArray:
    raw = np.asarray([tuple(e) for e in edges], dtype=np.int64).reshape(-1, 2)
    if raw.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    bad = (raw < 0) | (raw >= n)
    if bad.any():
        row = raw[np.flatnonzero(bad.any(axis=1))[0]]
        raise ConfigError(
            f"link {int(row[0])}-{int(row[1])} names a node that does not exist",
            allowed=f"nodes 0 .. {n - 1}",
        )
    loops = raw[:, 0] == raw[:, 1]
    if loops.any():
        node = int(raw[np.flatnonzero(loops)[0], 0])
        raise ConfigError(f"link {node}-{node} joins a node to itself")
    ordered = np.sort(raw, axis=1)
    return np.unique(ordered, axis=0)


def _csr(n: int, edges: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Adjacency in CSR form, plus the edge id behind each adjacency entry."""
    ids = np.arange(len(edges), dtype=np.int64)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    eid = np.concatenate([ids, ids])
    order = np.lexsort((dst, src))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order], eid[order]


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """Concatenation of ``arange(s, e)`` for each pair, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return np.asarray(np.arange(total, dtype=np.int64) + offsets, dtype=np.int64)


def _all_pairs_bfs(n: int, indptr: IntArray, indices: IntArray) -> npt.NDArray[np.int16]:
    """Hop distances from every node, one frontier expansion per level.

    Sources are processed in blocks so the boolean work array stays near
    16 million entries whatever the density of the graph.
    """
    dist = np.full((n, n), -1, dtype=np.int16)
    degree = np.diff(indptr)
    has_neighbours = degree > 0
    starts = indptr[:-1][has_neighbours]
    block = max(1, (1 << 24) // max(1, len(indices)))
    for s0 in range(0, n, block):
        sources = np.arange(s0, min(n, s0 + block))
        m = len(sources)
        visited = np.zeros((m, n), dtype=bool)
        visited[np.arange(m), sources] = True
        frontier = visited.copy()
        rows = dist[s0 : s0 + m]
        rows[np.arange(m), sources] = 0
        level = 0
        while True:
            level += 1
            reached = np.zeros((m, n), dtype=bool)
            if len(indices):
                gathered = frontier[:, indices]
                reached[:, has_neighbours] = np.logical_or.reduceat(gathered, starts, axis=1)
            reached &= ~visited
            if not reached.any():
                break
            rows[reached] = level
            visited |= reached
            frontier = reached
    return dist


def _check_distance_memory(num_nodes: int) -> None:
    """Refuse, before allocating, an all-pairs distance matrix the host cannot hold."""
    from qdframe.backend import check_memory, memory_budget

    check_memory(
        2 * num_nodes * num_nodes,
        memory_budget(None),
        what=f"the hop distances of a {num_nodes}-node network",
        backend="planner",
        advice="Plan on fewer nodes",
    )


def build_topology(config: SystemConfig, *, plugins: LoadedPlugins) -> Topology:
    """Build the topology a configuration describes, through the topology registry.

    ``[distributed] topology_params`` are passed to the builder; a ``link``
    table in them overrides fields of the ``[communication]`` defaults.

    :raises RegistryError: the topology name is not registered.
    :raises ConfigError: the builder rejects the size or a parameter.
    """
    dist = config.distributed
    builder = plugins.registries.topologies.get(dist.network_topology)
    params = dict(dist.topology_params)
    link = LinkSpec.from_config(config.communication).with_overrides(params.pop("link", None))
    topology = builder(
        dist.num_nodes,
        qubits_per_node=dist.qubits_per_node,
        comm_qubits_per_node=dist.comm_qubits_per_node,
        link=link,
        **params,
    )
    if not isinstance(topology, Topology):
        raise ConfigError(
            f"topology builder {dist.network_topology!r} returned "
            f"{type(topology).__name__}, expected qdframe.topology.Topology"
        )
    return topology
