"""Conformance kit for topology builders: shape, capacities, distances, routes.

Capabilities a builder declares:

``sizes`` (default ``(4, 8, 16)``)
    node counts the builder must build (a torus or hypercube declares the
    sizes its shape allows).
``params`` (default ``{}``)
    ``[distributed] topology_params`` to build with, for builders that need
    some (a ``custom`` topology's edges).
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any, ClassVar

import numpy as np

from qdframe.errors import ConfigError
from qdframe.protocols import TopologyBuilder
from qdframe.testing._kit import Kit
from qdframe.topology import LinkSpec, Topology

__all__ = ["TopologyKit"]

_DATA = 3
_COMM = 2


def _bfs_hops(num_nodes: int, edges: list[tuple[int, int]], source: int) -> list[int]:
    neighbours: list[list[int]] = [[] for _ in range(num_nodes)]
    for u, v in edges:
        neighbours[u].append(v)
        neighbours[v].append(u)
    hops = [-1] * num_nodes
    hops[source] = 0
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for other in neighbours[node]:
            if hops[other] < 0:
                hops[other] = hops[node] + 1
                queue.append(other)
    return hops


class TopologyKit(Kit):
    """Checks a topology builder (``registry.add("name", build_fn)``)."""

    category: ClassVar[str] = "topologies"
    capability_defaults: ClassVar[dict[str, Any]] = {"sizes": (4, 8, 16), "params": {}}

    def _build(self, num_nodes: int, **extra: Any) -> Topology:
        options = {
            "qubits_per_node": _DATA,
            "comm_qubits_per_node": _COMM,
            **self.capabilities["params"],
            **extra,
        }
        topology = self.subject(num_nodes, **options)
        assert isinstance(topology, Topology), (
            f"the builder returned {type(topology).__name__}, expected qdframe.topology.Topology"
        )
        return topology

    def _each(self) -> list[tuple[int, Topology]]:
        sizes = tuple(self.capabilities["sizes"])
        assert sizes, "declare at least one size the builder builds"
        return [(n, self._build(n)) for n in sizes]

    # ------------------------------------------------------------------ checks

    def check_is_a_topology_builder(self) -> None:
        """The builder is callable as TopologyBuilder and returns a Topology."""
        assert isinstance(self.subject, TopologyBuilder), "the builder must be callable"
        self._each()

    def check_node_count_and_capacities_as_declared(self) -> None:
        """num_nodes, data qubits and communication qubits per node are the ones asked for."""
        for n, topology in self._each():
            assert topology.num_nodes == n, f"asked for {n} nodes, got {topology.num_nodes}"
            assert np.array_equal(topology.data_qubits, np.full(n, _DATA)), (
                f"{n} nodes: data qubits {topology.data_qubits.tolist()}, asked for {_DATA} each"
            )
            assert np.array_equal(topology.comm_qubits, np.full(n, _COMM)), (
                f"{n} nodes: comm qubits {topology.comm_qubits.tolist()}, asked for {_COMM} each"
            )

    def check_links_are_simple_and_symmetric(self) -> None:
        """Links join distinct existing nodes once; neighbours and hops read both ways."""
        for n, topology in self._each():
            edges = [(int(u), int(v)) for u, v in topology.edges.tolist()]
            assert all(0 <= u < v < n for u, v in edges), f"{n} nodes: bad links {edges}"
            assert len(set(edges)) == len(edges), f"{n} nodes: a link is listed twice"
            linked = set(edges)
            for u in range(n):
                for v in topology.neighbours(u):
                    assert (min(u, v), max(u, v)) in linked, f"{u} lists {v} but no link joins them"
                    assert u in topology.neighbours(v), f"{u}-{v} is a neighbour one way only"

    def check_connected(self) -> None:
        """Every node reaches every other."""
        for n, topology in self._each():
            edges = [(int(u), int(v)) for u, v in topology.edges.tolist()]
            hops = _bfs_hops(n, edges, 0)
            unreachable = [i for i, h in enumerate(hops) if h < 0]
            assert not unreachable, f"{n} nodes: {unreachable} cannot be reached from node 0"

    def check_hop_distances_match_the_links(self) -> None:
        """hop_distance and distances() equal breadth-first search over the links."""
        for n, topology in self._each():
            edges = [(int(u), int(v)) for u, v in topology.edges.tolist()]
            table = np.asarray(topology.distances())
            assert table.shape == (n, n), f"distances() has shape {table.shape}"
            assert np.array_equal(table, table.T), f"{n} nodes: distances are not symmetric"
            for a in range(n):
                expected = _bfs_hops(n, edges, a)
                assert table[a].tolist() == expected, (
                    f"{n} nodes: hops from {a} are {table[a].tolist()}, the links give {expected}"
                )
                for b in range(n):
                    assert (
                        topology.hop_distance(a, b) == expected[b] == topology.hop_distance(b, a)
                    ), f"{n} nodes: hop_distance({a}, {b}) disagrees with the links"

    def check_routes_follow_links(self) -> None:
        """shortest_path(a, b) runs from a to b over links in hop_distance hops."""
        for n, topology in self._each():
            linked = {(int(u), int(v)) for u, v in topology.edges.tolist()}
            for a, b in itertools.combinations(range(n), 2):
                path = [int(x) for x in topology.shortest_path(a, b)]
                assert path[0] == a and path[-1] == b, f"route {path} does not join {a} and {b}"
                for u, v in itertools.pairwise(path):
                    assert (min(u, v), max(u, v)) in linked, f"route {path} uses {u}-{v}, no link"
                assert len(path) - 1 == topology.hop_distance(a, b), (
                    f"route {path} is longer than hop_distance({a}, {b})"
                )

    def check_default_link_is_used(self) -> None:
        """The link from [communication] is the link of every pair."""
        link = LinkSpec(latency_us=7.0, bandwidth_bps=1e6, epr_rate_hz=50.0, epr_fidelity=0.9)
        n = next(iter(self.capabilities["sizes"]))
        topology = self._build(n, link=link)
        assert topology.default_link == link, (
            f"default_link is {topology.default_link}, the builder was given {link}"
        )
        assert all(spec == link for spec in topology.links), "some link ignores the given link"

    def check_same_input_same_topology(self) -> None:
        """Two builds with the same arguments give the same links."""
        n = tuple(self.capabilities["sizes"])[-1]
        first, second = self._build(n), self._build(n)
        assert np.array_equal(first.edges, second.edges), "two builds gave different links"

    def check_unknown_parameter_is_rejected(self) -> None:
        """An unknown topology_params key raises ConfigError naming it."""
        n = next(iter(self.capabilities["sizes"]))
        try:
            self._build(n, no_such_parameter_xyz=1)
        except ConfigError as error:
            assert "no_such_parameter_xyz" in str(error), (
                f"the ConfigError does not name the unknown parameter: {error}"
            )
        except TypeError as error:
            raise AssertionError(
                f"an unknown parameter raised TypeError ({error}); raise ConfigError naming it"
            ) from None
        else:
            raise AssertionError("an unknown parameter was accepted silently")

    def check_impossible_size_is_a_config_error(self) -> None:
        """Zero nodes raises ConfigError, not another exception."""
        try:
            self._build(0)
        except ConfigError:
            return
        except Exception as error:
            raise AssertionError(
                f"0 nodes raised {type(error).__name__}: {error}; raise ConfigError"
            ) from None
        raise AssertionError("a topology of 0 nodes was built")
