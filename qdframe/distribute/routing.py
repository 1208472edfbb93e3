"""Routes for EPR pairs: which chain of links joins two nodes.

A pair shared between nodes ``a`` and ``b`` that are ``h`` hops apart is made
of ``h`` raw pairs, one per link of a path, joined by ``h - 1`` entanglement
swaps at the intermediate nodes. :class:`RouteTable` answers "which path?"
for every pair of nodes the lowering asks about.

By default the path is a fewest-hops path (so the number of raw pairs equals
the cost model's ``h``), found by one breadth-first search per source node
(cached). Paths may be fixed per node pair with :meth:`RouteTable.set`, which
is what the ``route_choice`` optimizer does. A node whose communication
qubits cannot hold the two halves a swap needs is avoided as an intermediate.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import ConfigError, ResourceError

if TYPE_CHECKING:
    from qdframe.topology import Topology

__all__ = ["RouteTable", "link_ids", "link_index"]

IntArray = npt.NDArray[np.int64]

#: Communication qubits an intermediate node needs for one entanglement swap.
SWAP_COMM_QUBITS = 2


def link_index(topology: Topology) -> dict[tuple[int, int], int]:
    """Link id (row of ``topology.edges``) of every adjacent node pair, ``u < v``."""
    return {(int(u), int(v)): i for i, (u, v) in enumerate(topology.edges.tolist())}


def link_ids(topology: Topology, u: npt.ArrayLike, v: npt.ArrayLike) -> IntArray:
    """Link ids of adjacent node pairs ``(u[i], v[i])`` (vectorised; -1 where not a link)."""
    uu = np.asarray(u, dtype=np.int64)
    vv = np.asarray(v, dtype=np.int64)
    n = topology.num_nodes
    edges = topology.edges
    keys = edges[:, 0] * n + edges[:, 1]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = np.minimum(uu, vv) * n + np.maximum(uu, vv)
    at = np.searchsorted(sorted_keys, wanted)
    at = np.minimum(at, max(len(sorted_keys) - 1, 0))
    if not len(sorted_keys):
        return np.full(wanted.shape, -1, dtype=np.int64)
    found = sorted_keys[at] == wanted
    return np.where(found, order[at], -1).astype(np.int64)


class RouteTable:
    """Paths for EPR pairs between nodes of a topology.

    :param topology: the network.
    :param comm_qubits: communication qubits per node; nodes with fewer than
        two are never used as swap points. Defaults to ``topology.comm_qubits``.
    :param routes: fixed paths, keyed by node pair (either order; the path is
        reversed for the other direction).
    :raises ConfigError: a fixed path does not join its key's nodes by links.
    """

    def __init__(
        self,
        topology: Topology,
        *,
        comm_qubits: Sequence[int] | npt.ArrayLike | None = None,
        routes: Mapping[tuple[int, int], Sequence[int]] | None = None,
    ) -> None:
        self.topology = topology
        comm = topology.comm_qubits if comm_qubits is None else comm_qubits
        self.comm_qubits = np.asarray(comm, dtype=np.int64).reshape(-1)
        if self.comm_qubits.shape != (topology.num_nodes,):
            raise ConfigError(
                f"comm_qubits has {self.comm_qubits.size} entries for {topology.num_nodes} nodes"
            )
        self._links = link_index(topology)
        self._fixed: dict[tuple[int, int], tuple[int, ...]] = {}
        #: EPR pairs wanted per node pair (``a < b``), when known (see :meth:`for_plan`).
        self.demands: dict[tuple[int, int], int] = {}
        self._parents: dict[int, IntArray] = {}
        self._adjacency_matrix: Any = None
        self._swap_ok: npt.NDArray[np.bool_] = self.comm_qubits >= SWAP_COMM_QUBITS
        for (a, b), path in (routes or {}).items():
            self.set(a, b, path)

    # ------------------------------------------------------------------ public

    def path(self, a: int, b: int) -> tuple[int, ...]:
        """The node path from ``a`` to ``b`` (both ends included).

        :raises ResourceError: every fewest-hops path needs a swap at a node
            with fewer than two communication qubits.
        """
        if a == b:
            return (a,)
        fixed = self._fixed.get((a, b))
        if fixed is not None:
            return fixed
        back = self._fixed.get((b, a))
        if back is not None:
            return back[::-1]
        parents = self._parents.get(a)
        if parents is None:
            parents = self._bfs(a)
            self._parents[a] = parents
        hops = int(self.topology.hop_distance(a, b))
        walk = [b]
        while walk[-1] != a and walk[-1] >= 0 and len(walk) <= hops + 1:
            walk.append(int(parents[walk[-1]]))
        if walk[-1] != a or len(walk) != hops + 1:
            raise ResourceError(
                f"no {hops}-hop route from node {a} to node {b} whose intermediate nodes have "
                f"at least {SWAP_COMM_QUBITS} communication qubits (an entanglement swap holds "
                "two pair halves at once); raise comm_qubits_per_node or change the topology"
            )
        walk.reverse()
        return tuple(walk)

    def paths(self, a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """The routes of many node pairs at once, as CSR: route ``i`` is
        ``nodes[ptr[i]:ptr[i + 1]]`` (both ends included), the same path
        :meth:`path` gives. The walk back from ``b`` runs over all pairs at
        once, one numpy step per hop.

        :raises ResourceError: as :meth:`path`.
        """
        aa = np.asarray(a, dtype=np.int64).reshape(-1)
        bb = np.asarray(b, dtype=np.int64).reshape(-1)
        count = len(aa)
        hops = self.topology.hops(aa, bb).astype(np.int64) if count else np.zeros(0, np.int64)
        ptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(hops + 1, out=ptr[1:])
        nodes = np.empty(int(ptr[-1]), dtype=np.int64)
        if count:
            sources, row = np.unique(aa, return_inverse=True)
            parents = np.stack([self._parents_of(int(s)) for s in sources.tolist()])
            current = bb.copy()
            ends = ptr[1:] - 1
            for step in range(int(hops.max(initial=0)) + 1):
                live = np.flatnonzero(hops >= step)
                nodes[ends[live] - step] = current[live]
                current[live] = parents[row[live], np.maximum(current[live], 0)]
            # A chain that is cut (-1) or reaches the source early (its parent
            # is itself) is not a fewest-hops route through swap-capable nodes.
            bad = np.zeros(count, dtype=bool)
            bad |= nodes[ptr[:-1]] != aa
            invalid = nodes < 0
            invalid[1:] |= nodes[1:] == nodes[:-1]
            invalid[ptr[:-1]] = nodes[ptr[:-1]] < 0
            owner = np.repeat(np.arange(count), hops + 1)
            bad[owner[invalid]] = True
            broken = np.flatnonzero(bad)
            if len(broken):
                i = int(broken[0])
                self.path(int(aa[i]), int(bb[i]))  # raises the detailed error
            if self._fixed:
                n = self.topology.num_nodes
                fixed: dict[int, tuple[int, ...]] = {}
                for (u, v), route in self._fixed.items():
                    fixed[u * n + v] = route
                    fixed[v * n + u] = route[::-1]
                keys = aa * n + bb
                hit = np.flatnonzero(np.isin(keys, np.fromiter(fixed, dtype=np.int64)))
                for i in hit.tolist():
                    route = fixed[int(keys[i])]
                    if len(route) != int(ptr[i + 1] - ptr[i]):
                        return self._paths_slow(aa, bb)
                    nodes[ptr[i] : ptr[i + 1]] = route
        return ptr, nodes

    def _paths_slow(self, aa: IntArray, bb: IntArray) -> tuple[IntArray, IntArray]:
        routes = [self.path(int(x), int(y)) for x, y in zip(aa.tolist(), bb.tolist(), strict=True)]
        ptr = np.zeros(len(routes) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in routes], out=ptr[1:])
        flat = [node for route in routes for node in route]
        return ptr, np.asarray(flat, dtype=np.int64)

    def _parents_of(self, source: int) -> IntArray:
        parents = self._parents.get(source)
        if parents is None:
            parents = self._bfs(source)
            self._parents[source] = parents
        return parents

    def hops(self, a: int, b: int) -> int:
        """Links on the route from ``a`` to ``b``."""
        return len(self.path(a, b)) - 1

    def links(self, path: Sequence[int]) -> list[int]:
        """Link ids along a node path."""
        return [self._links[(min(u, v), max(u, v))] for u, v in itertools.pairwise(path)]

    def set(self, a: int, b: int, path: Sequence[int]) -> None:
        """Fix the route between ``a`` and ``b`` (used in both directions).

        :raises ConfigError: the path does not start at ``a``, end at ``b`` and
            follow links.
        """
        nodes = tuple(int(x) for x in path)
        if not nodes or nodes[0] != a or nodes[-1] != b:
            raise ConfigError(f"route {list(nodes)} must run from node {a} to node {b}")
        for u, v in itertools.pairwise(nodes):
            if (min(u, v), max(u, v)) not in self._links:
                raise ConfigError(f"route {list(nodes)} uses {u}-{v}, which is not a link")
        if len(set(nodes)) != len(nodes):
            raise ConfigError(f"route {list(nodes)} visits a node twice")
        self._fixed[(a, b)] = nodes
        self._fixed.pop((b, a), None)

    def fixed(self) -> Iterator[tuple[tuple[int, int], tuple[int, ...]]]:
        """The routes fixed with :meth:`set`."""
        return iter(self._fixed.items())

    def copy(self) -> RouteTable:
        """An independent table with the same fixed routes and demands."""
        table = RouteTable(self.topology, comm_qubits=self.comm_qubits, routes=self._fixed)
        table.demands = dict(self.demands)
        return table

    @classmethod
    def for_plan(cls, plan: Any, *, comm_qubits: npt.ArrayLike | None = None) -> RouteTable:
        """A table whose :attr:`demands` count the plan's bursts and teleportations
        per node pair (what a route optimizer should care about)."""
        from qdframe.distribute.plan import plan_cost

        table = cls(plan.problem.topology, comm_qubits=comm_qubits)
        cost = plan_cost(plan)
        pairs: list[tuple[int, int]] = []
        if cost.bursts is not None:
            pairs += list(zip(cost.bursts.home.tolist(), cost.bursts.remote.tolist(), strict=True))
        moves = plan.allocation.migrations()
        pairs += list(zip(moves.source.tolist(), moves.target.tolist(), strict=True))
        for a, b in pairs:
            key = (min(a, b), max(a, b))
            table.demands[key] = table.demands.get(key, 0) + 1
        return table

    def all_shortest_paths(self, a: int, b: int, *, limit: int = 64) -> list[tuple[int, ...]]:
        """Up to ``limit`` fewest-hops paths from ``a`` to ``b`` whose swap nodes qualify."""
        if a == b:
            return [(a,)]
        dist_a = self._bfs_distances(a)
        dist_b = self._bfs_distances(b)
        total = int(dist_a[b])
        found: list[tuple[int, ...]] = []

        def extend(prefix: list[int]) -> None:
            if len(found) >= limit:
                return
            node = prefix[-1]
            if node == b:
                found.append(tuple(prefix))
                return
            for nxt in self.topology.neighbours(node):
                on_path = dist_a[nxt] == len(prefix) and dist_b[nxt] == total - len(prefix)
                if not on_path:
                    continue
                if nxt != b and self.comm_qubits[nxt] < SWAP_COMM_QUBITS:
                    continue
                extend([*prefix, nxt])

        extend([a])
        return found

    # ----------------------------------------------------------------- helpers

    def _bfs(self, source: int) -> IntArray:
        """Breadth-first parents from ``source``; swap-incapable nodes are leaves."""
        allow = self._swap_ok
        if bool(np.all(allow)) and self.topology.num_nodes > _PYTHON_BFS_MAX_NODES:
            _, parents = _csgraph().breadth_first_order(self._adjacency, source, directed=True)
            result = np.asarray(parents, dtype=np.int64)
            result[result < 0] = -1
            result[source] = source
            return result
        return self._bfs_restricted(source, allow)

    @property
    def _adjacency(self) -> Any:
        if self._adjacency_matrix is None:
            self._adjacency_matrix = _adjacency(self.topology)
        return self._adjacency_matrix

    def _bfs_restricted(self, source: int, allow: npt.NDArray[np.bool_]) -> IntArray:
        n = self.topology.num_nodes
        parents = np.full(n, -1, dtype=np.int64)
        parents[source] = source
        frontier = [source]
        while frontier:
            following: list[int] = []
            for u in frontier:
                if u != source and not allow[u]:
                    continue  # reached, but cannot pass a pair on
                for v in self.topology.neighbours(u):
                    if parents[v] < 0:
                        parents[v] = u
                        following.append(v)
            frontier = following
        return parents

    def _bfs_distances(self, source: int) -> IntArray:
        dist = _csgraph().shortest_path(self._adjacency, unweighted=True, indices=source)
        return np.asarray(np.where(np.isinf(dist), -1, dist), dtype=np.int64)


#: Up to this many nodes, breadth-first searches run in Python (the same
#: parents as scipy's, which small networks need not import).
_PYTHON_BFS_MAX_NODES = 256


def _adjacency(topology: Topology) -> Any:
    """The topology as a symmetric scipy CSR matrix (for C-speed searches)."""
    n = topology.num_nodes
    edges = topology.edges
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    sparse = importlib.import_module("scipy.sparse")
    return sparse.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))


def _csgraph() -> Any:
    # Imported by name: scipy ships without type information.
    return importlib.import_module("scipy.sparse.csgraph")
