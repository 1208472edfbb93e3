"""Topology builders: shapes, closed-form distances, bad sizes and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from qdframe_topologies import (
    build_all_to_all,
    build_custom,
    build_grid,
    build_hypercube,
    build_line,
    build_ring,
    build_small_world,
    build_star,
    build_torus,
    build_tree,
)

from qdframe.config import config_from_mapping
from qdframe.errors import ConfigError
from qdframe.plugins import load_plugins
from qdframe.topology import LinkSpec, Topology, build_topology

BUILDERS = {
    "torus": lambda n: build_torus(n, qubits_per_node=2),
    "grid": lambda n: build_grid(n, qubits_per_node=2),
    "ring": lambda n: build_ring(n, qubits_per_node=2),
    "line": lambda n: build_line(n, qubits_per_node=2),
    "star": lambda n: build_star(n, qubits_per_node=2),
    "all_to_all": lambda n: build_all_to_all(n, qubits_per_node=2),
    "tree": lambda n: build_tree(n, qubits_per_node=2, arity=3),
    "hypercube": lambda n: build_hypercube(n, qubits_per_node=2),
    "small_world": lambda n: build_small_world(n, qubits_per_node=2, seed=3),
}


def _bfs_distances(topology: Topology) -> np.ndarray:
    graph = topology.to_networkx()
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    n = topology.num_nodes
    return np.array([[lengths[a][b] for b in range(n)] for a in range(n)])


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_closed_form_distances_agree_with_breadth_first_search(kind: str) -> None:
    topology = BUILDERS[kind](16)
    assert topology.num_nodes == 16
    np.testing.assert_array_equal(topology.distances(), _bfs_distances(topology))
    # The same graph given as a plain edge list (BFS path) agrees too.
    plain = build_custom(16, qubits_per_node=2, edges=topology.edges.tolist())
    np.testing.assert_array_equal(plain.distances(), topology.distances())


def test_torus_of_1024_nodes_is_32_by_32_with_diameter_32() -> None:
    torus = build_torus(1024, qubits_per_node=64)
    assert torus.params["dims"] == [32, 32]
    assert torus.num_links == 2048  # every node has 4 distinct neighbours
    assert all(torus.degree(v) == 4 for v in (0, 31, 511, 1023))
    distances = torus.distances()
    assert distances.dtype == np.int16 and distances.shape == (1024, 1024)
    # Opposite corners of a 32x32 torus are 16 + 16 hops apart.
    assert torus.hop_distance(0, 16 * 32 + 16) == 32
    assert torus.diameter == 32
    assert torus.total_data_qubits == 65536


def test_torus_3d_dims_and_wraparound() -> None:
    torus = build_torus(27, qubits_per_node=1, dims=[3, 3, 3])
    assert all(torus.degree(v) == 6 for v in range(27))
    # Node 0 and node 2 are neighbours through the wrap-around link.
    assert torus.hop_distance(0, 2) == 1
    assert torus.diameter == 3


def test_grid_has_no_wraparound() -> None:
    grid = build_grid(12, qubits_per_node=1, dims=[3, 4])
    assert grid.hop_distance(0, 3) == 3
    assert grid.hop_distance(0, 11) == 5
    assert grid.num_links == 3 * 3 + 2 * 4


def test_ring_line_star_tree_hypercube_shapes() -> None:
    assert build_ring(10, qubits_per_node=1).hop_distance(0, 7) == 3
    assert build_line(10, qubits_per_node=1).hop_distance(0, 7) == 7
    star = build_star(10, qubits_per_node=1)
    assert star.degree(0) == 9 and star.hop_distance(3, 8) == 2
    tree = build_tree(7, qubits_per_node=1)  # a perfect binary tree of depth 2
    assert tree.neighbours(0) == [1, 2] and tree.hop_distance(3, 6) == 4
    cube = build_hypercube(8, qubits_per_node=1)
    assert cube.hop_distance(0b000, 0b111) == 3 and cube.degree(5) == 3


def test_small_world_is_reproducible_from_its_seed() -> None:
    a = build_small_world(40, qubits_per_node=1, seed=7)
    b = build_small_world(40, qubits_per_node=1, seed=7)
    c = build_small_world(40, qubits_per_node=1, seed=8)
    assert a.edges.tolist() == b.edges.tolist()
    assert a.edges.tolist() != c.edges.tolist()


@pytest.mark.parametrize("n", [2, 7, 13])
def test_torus_of_unfactorable_size_names_sizes_that_fit(n: int) -> None:
    with pytest.raises(ConfigError, match="sizes that fit nearby") as info:
        build_torus(n, qubits_per_node=1)
    message = str(info.value)
    listed = [int(x) for x in message.split("nearby: ")[1].split(";")[0].split(", ")]
    for size in listed:
        build_torus(size, qubits_per_node=1)  # every suggestion really fits


def test_torus_dims_that_do_not_multiply_out_list_dims_that_do() -> None:
    with pytest.raises(ConfigError, match=r"hold 16 nodes, not 12.*\[3, 4\]"):
        build_torus(12, qubits_per_node=1, dims=[4, 4])


def test_hypercube_of_wrong_size_names_powers_of_two() -> None:
    with pytest.raises(ConfigError, match="sizes that fit: 8 or 16"):
        build_hypercube(12, qubits_per_node=1)


def test_small_world_needs_more_nodes_than_neighbours() -> None:
    with pytest.raises(ConfigError, match="sizes that fit: 5 or more"):
        build_small_world(4, qubits_per_node=1, neighbours=4)


def test_custom_with_isolated_nodes_names_them() -> None:
    with pytest.raises(ConfigError, match=r"node\(s\) 3, 4 have no links"):
        build_custom(5, qubits_per_node=1, edges=[[0, 1], [1, 2]])


def test_custom_with_two_components_names_unreachable_nodes() -> None:
    with pytest.raises(ConfigError, match=r"disconnected: node\(s\) 2, 3 cannot be reached"):
        build_custom(4, qubits_per_node=1, edges=[[0, 1], [2, 3]])


def test_custom_rejects_bad_edges() -> None:
    with pytest.raises(ConfigError, match=r"outside 0 \.\. 2"):
        build_custom(3, qubits_per_node=1, edges=[[0, 1], [1, 5]])
    with pytest.raises(ConfigError, match="joins a node to itself"):
        build_custom(2, qubits_per_node=1, edges=[[0, 1], [1, 1]])
    with pytest.raises(ConfigError, match="exactly one of"):
        build_custom(2, qubits_per_node=1)


def test_custom_edges_file_formats_and_per_link_fields(tmp_path: Path) -> None:
    text = tmp_path / "net.txt"
    text.write_text("# a triangle\n0 1 latency_us=5\n1 2\n2 0 epr_fidelity=0.9\n")
    topo = build_custom(3, qubits_per_node=2, edges_file=str(text))
    assert topo.link(0, 1).latency_us == 5.0
    assert topo.link(2, 0).epr_fidelity == 0.9
    assert topo.link(1, 2) == topo.default_link
    data = tmp_path / "net.json"
    data.write_text(json.dumps({"edges": [[0, 1], {"u": 1, "v": 2, "latency_us": 9}]}))
    assert build_custom(3, qubits_per_node=2, edges_file=str(data)).link(1, 2).latency_us == 9
    with pytest.raises(ConfigError, match="cannot read edges file"):
        build_custom(3, qubits_per_node=2, edges_file=str(tmp_path / "missing.txt"))


def test_heterogeneous_capacities_and_link_defaults() -> None:
    topo = build_ring(
        3,
        qubits_per_node=4,
        node_qubits=[2, 4, 6],
        node_comm_qubits=[1, 2, 3],
        link={"latency_us": 7},
    )
    assert topo.data_qubits.tolist() == [2, 4, 6]
    assert topo.comm_qubits.tolist() == [1, 2, 3]
    assert topo.total_data_qubits == 12 and not topo.is_homogeneous
    assert topo.link(0, 1).latency_us == 7.0
    with pytest.raises(ConfigError, match="exactly 3 values"):
        build_ring(3, qubits_per_node=4, node_qubits=[1, 2])


def test_unknown_parameter_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter.*dimz.*allowed: dims"):
        build_torus(16, qubits_per_node=1, dimz=[4, 4])


def test_build_topology_takes_links_from_the_communication_block() -> None:
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": 6,
                "qubits_per_node": 3,
                "network_topology": "torus",
                "topology_params": {"dims": [2, 3], "link": {"epr_rate_hz": 50.0}},
            },
            "communication": {"latency_us": 12.5, "epr_fidelity": 0.95},
        }
    )
    topo = build_topology(config, plugins=load_plugins())
    spec = topo.default_link
    assert (spec.latency_us, spec.epr_fidelity, spec.epr_rate_hz) == (12.5, 0.95, 50.0)
    assert topo.params["dims"] == [2, 3]


def test_plugin_registers_every_topology() -> None:
    names = load_plugins().registries.topologies.names()
    for kind in (*BUILDERS, "custom"):
        assert kind in names


def test_link_spec_validation() -> None:
    with pytest.raises(ConfigError, match="epr_fidelity"):
        LinkSpec(epr_fidelity=0.2)
    with pytest.raises(ConfigError, match="unknown link field"):
        LinkSpec().with_overrides({"colour": 1})
