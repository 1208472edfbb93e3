"""Topology queries: neighbours, paths by hops and latency, entanglement swapping cost."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from qdframe_topologies import build_custom, build_line, build_torus

from qdframe.errors import ConfigError
from qdframe.topology import LinkSpec, Topology, werner_fidelity


def _diamond() -> Topology:
    # 0 - 1 - 3 is two slow links; 0 - 2 - 4 - 3 is three fast ones.
    slow = {"latency_us": 100}
    fast = {"latency_us": 10}
    return build_custom(
        5,
        qubits_per_node=1,
        edges=[[0, 1, slow], [1, 3, slow], [0, 2, fast], [2, 4, fast], [4, 3, fast]],
    )


def test_neighbours_are_sorted_and_checked() -> None:
    torus = build_torus(16, qubits_per_node=1)  # 4 x 4
    assert torus.neighbours(0) == [1, 3, 4, 12]
    with pytest.raises(ConfigError, match="node 16 does not exist"):
        torus.neighbours(16)


def test_shortest_path_by_hops_and_by_latency_differ() -> None:
    topo = _diamond()
    assert topo.shortest_path(0, 3) == [0, 1, 3]
    assert topo.shortest_path(0, 3, weight="latency") == [0, 2, 4, 3]
    assert topo.shortest_path(2, 2) == [2]
    with pytest.raises(ConfigError, match="allowed: hops, latency"):
        topo.shortest_path(0, 3, weight="cost")


def test_pair_cost_counts_raw_pairs_swaps_and_werner_fidelity() -> None:
    line = build_line(4, qubits_per_node=1, link={"epr_fidelity": 0.9, "latency_us": 5})
    cost = line.pair_cost(0, 3)
    assert cost.path == (0, 1, 2, 3)
    assert (cost.hops, cost.raw_pairs, cost.swaps) == (3, 3, 2)
    # Werner parameter w = (4F - 1) / 3 = 0.8666..., multiplied over 3 links.
    w = (4 * 0.9 - 1) / 3
    assert cost.fidelity == pytest.approx((3 * w**3 + 1) / 4)
    # Generation of the slowest link (1000 Hz -> 1000 us) plus 3 x 5 us.
    assert cost.latency_us == pytest.approx(1000 + 15)
    assert cost.classical_bits == 4  # two bits per swap
    same = line.pair_cost(2, 2)
    assert (same.hops, same.swaps, same.fidelity) == (0, 0, 1.0)


def test_pair_cost_follows_the_latency_path_when_asked() -> None:
    cost = _diamond().pair_cost(0, 3, weight="latency")
    assert cost.hops == 3 and cost.swaps == 2
    assert cost.latency_us == pytest.approx(1000 + 30)


def test_werner_fidelity_of_perfect_and_single_links() -> None:
    assert werner_fidelity([]) == 1.0
    assert werner_fidelity([0.95]) == pytest.approx(0.95)
    assert werner_fidelity([1.0, 1.0]) == pytest.approx(1.0)


def test_vectorised_hops_match_the_matrix() -> None:
    torus = build_torus(64, qubits_per_node=1)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 64, 200), rng.integers(0, 64, 200)
    np.testing.assert_array_equal(torus.hops(a, b), torus.distances()[a, b])


def test_all_pairs_distance_matrix_of_1024_nodes_without_closed_form() -> None:
    torus = build_torus(1024, qubits_per_node=1)
    plain = build_custom(1024, qubits_per_node=1, edges=torus.edges.tolist())
    matrix = plain.distances()  # breadth-first search from every node
    assert matrix.dtype == np.int16
    np.testing.assert_array_equal(matrix, torus.distances())
    assert not matrix.flags.writeable


def test_topologies_pickle_with_their_hop_function() -> None:
    torus = build_torus(16, qubits_per_node=2)
    copy = pickle.loads(pickle.dumps(torus))
    assert copy.hop_distance(0, 10) == torus.hop_distance(0, 10)


def test_describe_and_networkx_export() -> None:
    topo = build_line(3, qubits_per_node=2, link=LinkSpec(latency_us=3.0))
    summary = topo.describe()
    assert summary["num_nodes"] == 3 and summary["diameter"] == 2
    assert summary["data_qubits_per_node"] == 2
    graph = topo.to_networkx()
    assert graph.edges[0, 1]["latency_us"] == 3.0
    assert graph.nodes[2]["data_qubits"] == 2


def test_link_query_between_non_neighbours_fails() -> None:
    with pytest.raises(ConfigError, match="not joined by a link"):
        build_line(3, qubits_per_node=1).link(0, 2)
