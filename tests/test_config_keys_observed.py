"""Configuration keys change what qdframe does, and a test sees each change.

``test_config_keys_used.py`` fails on a key that no source reads. Here the
keys that no other behavioural test set are set both ways and the
difference is observed where a user would see it (the schedule, the
program, the run's metrics, the Aer options, the sharing client); a last
test fails when a key of :class:`qdframe.config.SystemConfig` is named by
no test at all besides the configuration-parsing ones.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.allocation import Allocation
from qdframe.config import SystemConfig, config_from_mapping
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.schedule import schedule
from qdframe.topology import Topology

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS.parent / "examples"
# Tests that name keys without observing what they do.
_NOT_BEHAVIOUR = {"test_config.py", "test_config_keys_used.py", "test_docs_generated.py"}


def _config(**tables: dict[str, Any]) -> SystemConfig:
    return config_from_mapping(tables)


def _ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def _run(plugins: Any = None, **tables: dict[str, Any]) -> Any:
    base: dict[str, dict[str, Any]] = {
        "distributed": {"num_nodes": 4, "qubits_per_node": 1, "network_topology": "line"},
        "resources": {"executor": "local", "executor_workers": 1},
    }
    for table, values in tables.items():
        base.setdefault(table, {}).update(values)
    with qdframe.DistributedSystem(config_from_mapping(base), plugins=plugins) as system:
        return system.run(_ghz(4), shots=50, seed=1)


# ------------------------------------------------------------ [communication]


def _many_messages_program() -> Any:
    """Two nodes, forty remote CNOTs in separate bursts: eighty messages on one channel."""
    circuit = QuantumCircuit(2)
    for _ in range(40):
        circuit.cx(0, 1)
        circuit.h(0)
        circuit.h(1)
    topology = Topology("line", 2, [(0, 1)], data_qubits=1, comm_qubits=2)
    return compile_distributed(
        circuit, plan_from_allocation(circuit, topology, Allocation.static([0, 1]))
    )


def test_enable_compression_shrinks_the_classical_payload() -> None:
    program = _many_messages_program()
    on = schedule(program, _config(communication={"enable_compression": True})).compression
    off = schedule(program, _config(communication={"enable_compression": False})).compression
    assert on.raw_bytes == off.raw_bytes == 80 * 19
    assert off.enabled is False and off.sent_bytes == off.raw_bytes
    assert on.enabled is True and on.sent_bytes < on.raw_bytes and on.compressed_messages > 0


def _hybrid_program(**communication: float) -> Any:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.ry(0.3 * (q + 1), q)
    circuit.cp(0.2, 0, 2)
    circuit.cp(1.9, 1, 3)
    circuit.ry(0.4, 2)
    circuit.cp(0.15, 1, 2)
    topology = Topology("line", 2, [(0, 1)], data_qubits=2)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 0, 1, 1]))
    config = _config(
        distributed={"communication_mode": "hybrid"},
        communication={"max_sampling_overhead": 1e9, **communication},
    )
    return compile_distributed(circuit, plan, config), plan


def test_hybrid_weights_decide_which_bursts_are_cut() -> None:
    balanced, plan = _hybrid_program()
    ebits_dear, _ = _hybrid_program(hybrid_ebit_weight=100.0)
    samples_dear, _ = _hybrid_program(hybrid_overhead_weight=100.0)
    assert 0 < balanced.num_cuts < ebits_dear.num_cuts
    assert ebits_dear.ebits == 0  # every remote gate is cut
    assert samples_dear.num_cuts == 0 and samples_dear.ebits == plan.cost.ebits


# -------------------------------------------------- [distributed] and [timing]


def test_error_correction_purifies_and_max_purification_rounds_caps_it() -> None:
    budget = {"error_budget": 0.01}
    off = _run(distributed={"enable_error_correction": False}, integration=budget).schedule
    assert off.purification.enabled is False and off.purification.rounds == {}
    rounds = {}
    for cap in (0, 1, 4):
        found = _run(integration=budget, timing={"max_purification_rounds": cap}).schedule
        assert found.purification.enabled is True
        rounds[cap] = max(found.purification.rounds.values())
        assert rounds[cap] <= cap
    assert rounds[0] == 0 < rounds[1] < rounds[4]


# ------------------------------------------------- [integration] and [analysis]


class _SlowExecute:
    """Makes a run last long enough for the monitor to take samples (every 0.1 s)."""

    @qdframe.hookimpl
    def qdframe_before_stage(self, stage: str) -> None:
        if stage == "execute":
            time.sleep(0.35)


def test_monitoring_level_and_profiling_decide_what_a_run_records() -> None:
    slow = qdframe.load_plugins(plugins=[("slow", _SlowExecute())])

    def process(level: str, profiling: bool = False) -> tuple[dict[str, Any], str]:
        metrics = _run(
            slow,
            integration={"monitoring_level": level},
            analysis={"enable_profiling": profiling},
        ).metrics
        return metrics["process"], metrics.get("profile_top") or ""

    off, _ = process("off")
    basic, _ = process("basic")
    detailed, unprofiled = process("detailed")
    _, profiled = process("detailed", profiling=True)
    assert "cpu_percent_mean" not in off and "series" not in off  # nothing sampled
    assert "cpu_percent_mean" in basic and "series" not in basic  # peaks only
    assert len(detailed["series"]) >= 2  # and the time series
    assert unprofiled == "" and "function calls" in profiled
    _, basic_profiled = process("basic", profiling=True)
    assert basic_profiled == ""  # profiling needs the detailed level


# ----------------------------------------------------------------- [acceleration]


def test_enable_tensor_cores_turns_custatevec_on_for_aer() -> None:
    pytest.importorskip("qiskit_aer")
    from qdframe_aer.options import aer_options_from_config

    for flag in (True, False):
        options = aer_options_from_config(_config(acceleration={"enable_tensor_cores": flag}))
        assert options["cuStateVec_enable"] is flag


# --------------------------------------------------------------------- [network]


@pytest.mark.network
@pytest.mark.parametrize("auto_fetch", [True, False])
def test_auto_fetch_on_startup_applies_shared_settings_at_start(
    tmp_path: Path, auto_fetch: bool
) -> None:
    pytest.importorskip("fastapi")
    import _network_fixtures as nf
    import httpx

    from qdframe.config import NetworkClientConfig
    from qdframe.network.client import DistributedOptimizationNetwork

    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'n.db'}", min_contributors=1) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            body = nf.contribution(
                system_type="apple_silicon_m3", settings={"acceleration.precision": "complex64"}
            )
            assert nf.post(http, body).status_code == 200
        settings = NetworkClientConfig.model_validate(
            {
                "primary_server": url,
                "enabled": True,
                "timeout_s": 2.0,
                "auto_fetch_on_startup": auto_fetch,
                "auto_sync_interval_s": 3600.0,  # no periodic sync during the test
            }
        )
        client = DistributedOptimizationNetwork(
            settings,
            cache_dir=tmp_path / "client",
            system_type="apple_silicon_m3",
            whitelist=nf.make_whitelist(),
            plugins=nf.load_test_plugins(),
        )
        try:
            changes = client.start(SystemConfig())
        finally:
            client.stop()
    applied = [c.key for c in changes if c.applied]
    assert applied == (["acceleration.precision"] if auto_fetch else [])
    assert client.applied_config is not None
    expected = "complex64" if auto_fetch else SystemConfig().acceleration.precision
    assert client.applied_config.acceleration.precision == expected


# ------------------------------------------------------------------ every key


def _keys() -> list[tuple[str, str]]:
    from test_config_keys_used import config_keys

    return list(config_keys(SystemConfig))


def test_every_key_is_set_by_a_behavioural_test() -> None:
    files = [
        p
        for p in [*TESTS.rglob("*.py"), *TESTS.rglob("*.toml"), *EXAMPLES.rglob("*.toml")]
        if p.name not in _NOT_BEHAVIOUR
    ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    keys = _keys()
    assert len(keys) > 50
    unnamed = [
        path
        for path, name in keys
        if not re.search(rf"\b{re.escape(name)}\b", text)
        and f"QDFRAME_{path.replace('.', '__').upper()}" not in text
    ]
    assert unnamed == [], f"keys no behavioural test sets: {unnamed}"
