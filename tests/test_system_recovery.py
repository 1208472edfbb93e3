"""Each branch of the error switch, driven end to end by the fault-injection plugin."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.config import config_from_mapping


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, name=f"ghz{n}")
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    return circuit


def _config(*faults, max_retries=3, fallback="classical", nodes=4, qubits=3):
    return config_from_mapping(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": qubits,
                "network_topology": "ring",
            },
            "recovery": {
                "faults": list(faults),
                "max_retries": max_retries,
                "backoff_base_s": 0.0,
                "fallback_strategy": fallback,
                "checkpoint_interval": 50,
            },
        }
    )


def _run(config, n=6, shots=200):
    with qd.DistributedSystem(config) as system:
        return system.run(ghz(n), shots=shots, seed=4)


def _actions(result):
    return [event["action"] for event in result.metrics["recoveries"]]


def _correct(result, n=6, shots=200):
    assert sum(result.counts.values()) == shots
    assert set(result.counts) <= {"0" * n, "1" * n}


def test_link_failure_reroutes_around_the_link():
    result = _run(_config({"kind": "link", "link": [0, 1], "stage": "execute"}))
    assert _actions(result) == ["reroute"]
    _correct(result)
    usage = result.metrics["resources"]["network"]
    assert usage["down"] == [[0, 1]]
    # the new plan's network has lost the link: the ring became a line
    assert result.plan.topology.num_links == 3
    assert result.plan.topology.hop_distance(0, 1) == 3


def test_node_failure_reallocates_without_the_node():
    result = _run(_config({"kind": "node", "node": 2, "stage": "lower"}))
    assert _actions(result) == ["reallocate"]
    _correct(result)
    assert result.metrics["resources"]["quantum_processors"]["down"] == [2]
    assert result.plan.topology.num_nodes == 3  # six qubits on three nodes of three


def test_hardware_failure_falls_back_to_the_classical_simulator():
    result = _run(_config({"kind": "backend", "stage": "execute"}))
    assert _actions(result) == ["fallback_classical"]
    assert result.fallback is True
    assert "HardwareError" in result.fallback_reason or result.fallback_reason
    _correct(result)


def test_hardware_failure_aborts_when_fallback_is_off():
    with pytest.raises(qd.HardwareError):
        _run(_config({"kind": "backend", "stage": "execute"}, fallback="none"))


def test_unknown_failure_aborts_with_the_original_error():
    with pytest.raises(RuntimeError, match="injected"):
        _run(_config({"kind": "crash", "stage": "schedule"}))


def test_retries_are_bounded():
    # The link keeps failing (5 times) but only 2 recoveries are allowed.
    config = _config(
        {"kind": "node", "node": 1, "stage": "allocate", "times": 5},
        max_retries=2,
        nodes=6,
        qubits=2,
    )
    with pytest.raises(qd.ResourceError):
        _run(config)


def test_job_fault_is_retried_and_nothing_is_counted_twice():
    result = _run(_config({"kind": "node", "node": 3, "stage": "execute", "job": 2}))
    assert result.metrics["job_retries"] == 1
    assert _actions(result) == []
    _correct(result)
    assert result.metrics["batches"] == 4
