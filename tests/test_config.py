"""Configuration: seed defaults, TOML files, environment overrides, clear errors."""

from __future__ import annotations

import pytest

import qdframe
from qdframe.cli.config import check_names
from qdframe.config import (
    CommunicationMode,
    SystemConfig,
    config_from_mapping,
    load_config,
)
from qdframe.errors import EXIT_USAGE, ConfigError
from qdframe.plugins import load_plugins


def test_defaults_follow_the_seed():
    config = SystemConfig()
    d = config.distributed
    assert (d.num_nodes, d.qubits_per_node, d.network_topology) == (1024, 64, "torus")
    assert d.communication_mode is CommunicationMode.QUANTUM
    assert d.enable_error_correction
    assert d.comm_qubits_per_node == 2
    assert config.communication.bandwidth_bps == 100 * 1024 * 1024 * 1024
    assert config.communication.latency_us == 100
    assert config.memory.max_memory_bytes == 128 * 1024**3
    assert (config.adaptive.learning_rate, config.adaptive.threshold) == (0.01, 0.001)
    assert config.ensemble.num_distributors == 5
    assert config.ensemble.aggregation_method.value == "weighted"
    assert config.integration.error_budget == 0.01
    assert config.integration.monitoring_level.value == "detailed"
    assert (config.recovery.max_retries, config.recovery.checkpoint_interval) == (3, 100)
    assert config.recovery.fallback_strategy.value == "classical"
    assert config.network.auto_sync_interval_s == 3600
    assert config.network.enabled is False  # sharing is opt-in


def test_toml_file_is_read(tmp_path):
    path = tmp_path / "ring.toml"
    path.write_text(
        '[distributed]\nnum_nodes = 4\nqubits_per_node = 5\nnetwork_topology = "ring"\n'
        'communication_mode = "hybrid"\n[memory]\nmax_memory_bytes = 1_000_000\n'
        "[analysis]\nenable_profiling = false\n",
        encoding="utf-8",
    )
    config = qdframe.config.load_config(path, environ={})
    assert config.distributed.num_nodes == 4
    assert config.distributed.network_topology == "ring"
    assert config.distributed.communication_mode is CommunicationMode.HYBRID
    assert config.memory.max_memory_bytes == 1_000_000
    assert config.analysis.enable_profiling is False


def test_a_removed_key_warns_naming_it_and_the_rest_still_loads(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text(
        '[resources]\nuse_quantum = true\nexecutor = "local"\n'
        "[analysis.metrics]\nlatency = false\n[network]\nanonymous_sharing = false\n",
        encoding="utf-8",
    )
    with pytest.warns(qdframe.config.RemovedConfigKeyWarning) as caught:
        config = qdframe.config.load_config(path, environ={})
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 3
    assert all(str(path) in m and "never changed anything" in m for m in messages)
    assert [m.split("'")[1] for m in messages] == [
        "analysis.metrics",
        "network.anonymous_sharing",
        "resources.use_quantum",
    ]
    assert config.resources.executor == "local"
    assert not hasattr(config.resources, "use_quantum")


def test_a_removed_key_set_in_the_environment_warns_too():
    with pytest.warns(qdframe.config.RemovedConfigKeyWarning, match="memory.enable_swapping"):
        qdframe.config.load_config(None, environ={"QDFRAME_MEMORY__ENABLE_SWAPPING": "false"})


def test_an_unknown_key_is_still_an_error_not_a_removed_one():
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_mapping({"resources": {"use_quantumm": True}})


def test_environment_overrides_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[distributed]\nnum_nodes = 4\n", encoding="utf-8")
    environ = {
        "QDFRAME_DISTRIBUTED__NUM_NODES": "16",
        "QDFRAME_INTEGRATION__DISABLED_PLUGINS": '["mac", "dask"]',
        "QDFRAME_NETWORK__PRIMARY_SERVER": "http://127.0.0.1:9",
        "QDFRAME_DISABLE_PLUGINS": "ignored-not-a-config-key",
    }
    config = load_config(path, environ=environ)
    assert config.distributed.num_nodes == 16
    assert config.integration.disabled_plugins == ["mac", "dask"]
    assert config.network.primary_server == "http://127.0.0.1:9"


def test_bad_environment_override_names_the_environment():
    with pytest.raises(ConfigError) as info:
        load_config(environ={"QDFRAME_DISTRIBUTED__NUM_NODES": "many"})
    assert "environment" in str(info.value)
    assert info.value.key_path == "distributed.num_nodes"


@pytest.mark.parametrize(
    ("data", "key_path", "allowed_part"),
    [
        ({"distributed": {"num_nodes": 0}}, "distributed.num_nodes", ">= 1"),
        ({"distributed": {"qubits_per_node": "eight"}}, "distributed.qubits_per_node", None),
        ({"distributed": {"teleport": True}}, "distributed.teleport", "num_nodes"),
        ({"wormholes": {}}, "wormholes", "distributed"),
        (
            {"distributed": {"communication_mode": "pigeon"}},
            "distributed.communication_mode",
            "'quantum', 'classical' or 'hybrid'",
        ),
        ({"acceleration": {"precision": "float16"}}, "acceleration.precision", None),
        ({"communication": {"epr_fidelity": 1.5}}, "communication.epr_fidelity", "<= 1"),
    ],
)
def test_invalid_values_name_the_key_path(data, key_path, allowed_part):
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, source="bad.toml")
    error = info.value
    assert error.exit_code == EXIT_USAGE
    assert error.key_path == key_path
    assert str(error).startswith("bad.toml: ")
    assert key_path in str(error)
    if allowed_part:
        assert allowed_part in (error.allowed or "")


def test_malformed_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[distributed\nnum_nodes = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: malformed TOML"):
        load_config(path, environ={})


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_unknown_topology_name_lists_registered_ones():
    config = config_from_mapping({"distributed": {"network_topology": "moebius"}})
    with pytest.raises(ConfigError) as info:
        check_names(config, "x.toml", load_plugins())
    assert info.value.key_path == "distributed.network_topology"
    assert "ring" in (info.value.allowed or "") and "torus" in (info.value.allowed or "")


def test_known_names_pass():
    config = config_from_mapping({"distributed": {"network_topology": "ring", "allocator": "auto"}})
    check_names(config, "x.toml", load_plugins())


def test_assignment_is_validated():
    config = SystemConfig()
    with pytest.raises(ValueError):
        config.distributed.num_nodes = -3
