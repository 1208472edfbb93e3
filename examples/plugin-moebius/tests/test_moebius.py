"""Tests a plugin author would write: discovery by entry point, and the topology itself."""

import pytest

import qdframe
from qdframe.config import config_from_mapping
from qdframe.errors import ConfigError
from qdframe.topology import build_topology


def test_discovered_through_its_entry_point():
    loaded = qdframe.load_plugins()
    assert "moebius" in loaded.registered_by("moebius")["topologies"]


def test_usable_by_name_from_a_config():
    config = config_from_mapping(
        {"distributed": {"num_nodes": 8, "qubits_per_node": 4, "network_topology": "moebius"}}
    )
    topology = build_topology(config, plugins=qdframe.load_plugins())
    assert topology.hop_distance(0, 4) == 1  # the chord
    assert topology.hop_distance(0, 2) == 2
    assert topology.diameter == 2


def test_odd_sizes_are_refused():
    with pytest.raises(ConfigError, match="even number of nodes"):
        qdframe.load_plugins().registries.topologies.get("moebius")(
            7, qubits_per_node=4, comm_qubits_per_node=2
        )
