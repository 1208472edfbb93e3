"""Resource management: failed nodes and links leave a smaller, connected network."""

from __future__ import annotations

import pytest
from qdframe_topologies import build_grid, build_ring

from qdframe.config import SystemConfig
from qdframe.errors import ConfigError, ResourceError
from qdframe.resources import ResourceManager, without


def _ring(n=6):
    return build_ring(n, qubits_per_node=3, comm_qubits_per_node=2)


def test_without_a_node_renumbers_and_keeps_links():
    sub = without(_ring(), {2})
    assert sub.topology.num_nodes == 5
    assert sub.original == (0, 1, 3, 4, 5)
    # the ring 0-1-2-3-4-5-0 minus node 2 is the line 1-0-5-4-3
    original_edges = {
        tuple(sorted((sub.to_original(u), sub.to_original(v))))
        for u, v in sub.topology.edges.tolist()
    }
    assert original_edges == {(0, 1), (3, 4), (4, 5), (0, 5)}
    assert sub.topology.hop_distance(1, 2) == 4  # nodes 1 and 3 are now 4 hops apart


def test_without_a_link():
    sub = without(_ring(), links={(3, 2)})
    assert sub.topology.num_nodes == 6
    assert sub.topology.hop_distance(2, 3) == 5


def test_split_network_names_the_cut_off_nodes():
    with pytest.raises(ResourceError, match=r"node\(s\) 2 can no longer be reached"):
        without(_ring(5), {1, 3})


def test_everything_down():
    with pytest.raises(ResourceError, match="every node is down"):
        without(_ring(3), {0, 1, 2})


def test_manager_tracks_usage_and_budget():
    # 2 x 3 grid: 0-1-2 over 3-4-5, with rungs 0-3, 1-4, 2-5
    topology = build_grid(6, qubits_per_node=2, comm_qubits_per_node=1)
    config = SystemConfig()
    manager = ResourceManager.from_config(
        config, topology, host_memory_bytes=1_000, executor_slots=2
    )
    assert manager.memory_budget_bytes == 1_000
    manager.mark_node_down(5)
    manager.mark_link_down(1, 0)
    manager.record_link_usage({(1, 0): 2})
    manager.record_link_usage({(0, 1): 1, (0, 2): 4})
    usage = manager.usage()
    assert usage["quantum_processors"]["up"] == 5
    assert usage["quantum_processors"]["data_qubits_up"] == 10
    assert usage["network"]["ebits_used"] == {"0-1": 3, "0-2": 4}
    assert usage["network"]["down"] == [[0, 1]]
    assert (0, 1) not in manager.epr_budget_per_s()
    left = manager.available_topology()
    assert left.original == (0, 1, 2, 3, 4)
    assert left.topology.hop_distance(0, 1) == 3  # 0-3-4-1 now that 0-1 is down


def test_manager_rejects_unknown_nodes_and_links():
    manager = ResourceManager(_ring(4), 1, 10)
    with pytest.raises(ResourceError, match="node 9 does not exist"):
        manager.mark_node_down(9)
    with pytest.raises(ConfigError, match="not joined by a link"):
        manager.mark_link_down(0, 2)
