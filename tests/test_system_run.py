"""DistributedSystem: the Python API of a whole run, on the real plugins."""

from __future__ import annotations

import json

import pytest
from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.errors import CapacityError, ConfigError
from qdframe.hookspecs import PIPELINE_STAGES, StageHookDeprecationWarning


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, name=f"ghz{n}")
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    return circuit


def ring(nodes=4, qubits=2, **extra):
    data = {
        "distributed": {
            "num_nodes": nodes,
            "qubits_per_node": qubits,
            "network_topology": "ring",
            **extra,
        }
    }
    return qd.config.config_from_mapping(data)


class StageRecorder:
    def __init__(self):
        self.seen = []


def _recorder():
    recorder = StageRecorder()
    for stage in PIPELINE_STAGES:
        for when in ("before", "after"):
            hook = f"qdframe_{when}_{stage}"
            setattr(
                recorder,
                hook,
                qd.hookimpl(lambda context, value, _h=hook: recorder.seen.append(_h)),
            )
    return recorder


def test_default_system_is_a_ring_of_four_that_fits_the_circuit():
    with qd.DistributedSystem() as system:
        plan = system.plan(ghz(7))
    assert plan.topology.name == "ring"
    assert plan.topology.num_nodes == 4
    assert plan.topology.total_data_qubits >= 7
    assert int(plan.topology.data_qubits[0]) == 2  # ceil(7 / 4)


def test_run_counts_are_those_of_the_original_and_verified(tmp_path):
    with qd.DistributedSystem(ring()) as system:
        result = system.run(ghz(6), shots=400, seed=3, verify=True, report_dir=tmp_path / "r")
    assert sum(result.counts.values()) == 400
    assert set(result.counts) == {"000000", "111111"}
    assert 120 < result.counts["000000"] < 280
    assert result.verified is True
    assert result.verification["distance"] <= result.verification["bound"]
    assert result.plan.ebits >= 1  # six qubits on nodes of two: GHZ must cross nodes
    assert result.metrics["ebits"] == result.program_summary["ebits"]
    assert not result.fallback
    assert result.report_path == tmp_path / "r" / "report.html"
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["execution"]["counts"] == result.counts
    assert report["plan"]["ebits"] == result.metrics["ebits"]


def test_same_seed_same_counts():
    with qd.DistributedSystem(ring()) as system:
        first = system.run(ghz(5), shots=300, seed=11)
        second = system.run(ghz(5), shots=300, seed=11)
    assert first.counts == second.counts


class StateRecorder:
    def __init__(self):
        self.seen = []

    @qd.hookimpl
    def qdframe_before_stage(self, stage, state):
        self.seen.append(("before", stage, state))

    @qd.hookimpl
    def qdframe_after_stage(self, stage, state):
        self.seen.append(("after", stage, state))


def test_every_stage_hook_fires_in_order_with_the_run_state():
    import dataclasses

    recorder = StateRecorder()
    loaded = qd.load_plugins(plugins=[("recorder", recorder)])
    with qd.DistributedSystem(ring(), plugins=loaded) as system:
        result = system.run(ghz(4), shots=50, seed=1)
    expected = [(w, s) for s in PIPELINE_STAGES for w in ("before", "after")]
    assert [(w, s) for w, s, _ in recorder.seen] == expected
    states = {(w, s): state for w, s, state in recorder.seen}
    # Each stage returns a new state and leaves the one it got as it was.
    assert states[("before", "allocate")].plan is None
    assert states[("after", "allocate")].plan is result.plan
    assert states[("after", "lower")].program is not None
    assert states[("before", "lower")].program is None
    assert states[("after", "analyze")].result is result
    with pytest.raises(dataclasses.FrozenInstanceError):
        states[("after", "execute")].counts = {}


def test_deprecated_per_stage_hooks_still_fire_in_order():
    recorder = _recorder()
    with pytest.warns(StageHookDeprecationWarning):
        loaded = qd.load_plugins(plugins=[("recorder", recorder)])
    with qd.DistributedSystem(ring(), plugins=loaded) as system:
        system.run(ghz(4), shots=50, seed=1)
    expected = [f"qdframe_{w}_{s}" for s in PIPELINE_STAGES for w in ("before", "after")]
    assert recorder.seen == expected


def test_expectation_values_from_counts():
    with qd.DistributedSystem(ring()) as system:
        result = system.run(ghz(4), shots=2000, seed=5, observables={"zz": "ZZII", "z0": "IIIZ"})
    assert result.expectation_values["zz"] == pytest.approx(1.0)
    assert abs(result.expectation_values["z0"]) < 0.1


def test_observable_with_x_terms_is_refused_clearly():
    with qd.DistributedSystem(ring()) as system, pytest.raises(ConfigError, match="X or Y"):
        system.run(ghz(4), shots=10, seed=1, observables={"xx": "XXII"})


def test_circuit_too_large_for_the_network():
    with qd.DistributedSystem(ring(nodes=2, qubits=2)) as system, pytest.raises(CapacityError):
        system.run(ghz(6), shots=10, seed=1)


def test_existing_run_directory_is_not_overwritten(tmp_path):
    with qd.DistributedSystem(ring()) as system:
        system.run(ghz(4), shots=20, seed=1, report_dir=tmp_path / "r")
        before = (tmp_path / "r" / "run.json").read_text()
        with pytest.raises(ConfigError, match="already holds a run"):
            system.run(ghz(4), shots=20, seed=2, report_dir=tmp_path / "r")
    assert (tmp_path / "r" / "run.json").read_text() == before


def test_noisy_run_is_mitigated_towards_the_ideal():
    from qdframe.noise import NoiseModel

    noise = NoiseModel().with_readout_error(prob_meas1_prep0=0.08, prob_meas0_prep1=0.12)
    # Nodes of four qubits hold the whole circuit: no protocol measurements, so
    # readout error is the only noise and readout mitigation can undo it.
    with qd.DistributedSystem(ring(qubits=4)) as system:
        result = system.run(ghz(4), shots=4000, seed=9, noise=noise)
    ideal = {"0000": 0.5, "1111": 0.5}
    raw = {k: v / result.shots for k, v in result.counts.items()}

    def tvd(p):
        keys = set(p) | set(ideal)
        return sum(abs(p.get(k, 0) - ideal.get(k, 0)) for k in keys) / 2

    assert result.mitigated is not None
    assert tvd(raw) > 0.2
    assert tvd(result.mitigated) < 0.25 * tvd(raw)


def test_configured_optimizers_run_in_order_and_report():
    config = ring(nodes=4, qubits=2, optimizers=["transpile", "route_choice"])
    circuit = ghz(6)
    with qd.DistributedSystem(config) as system:
        result = system.run(circuit, shots=200, seed=2, verify=True)
    reports = result.metrics["optimizers"]
    assert [r["name"] for r in reports] == ["transpile", "route_choice"]
    assert result.verified  # the optimized, distributed circuit still equals the original
    assert set(result.counts) == {"000000", "111111"}


def test_classical_mode_estimates_observables_by_cutting():
    pytest.importorskip("qiskit_addon_cutting")
    from qiskit.quantum_info import SparsePauliOp, Statevector

    circuit = QuantumCircuit(4, name="chain")
    for q in range(4):
        circuit.ry(0.3 + 0.2 * q, q)
    for q in range(3):
        circuit.cx(q, q + 1)
    observable = "ZZII"
    exact = Statevector(circuit).expectation_value(SparsePauliOp(observable)).real
    config = ring(nodes=2, qubits=2, communication_mode="classical")
    with qd.DistributedSystem(config) as system:
        result = system.run(circuit, shots=4000, seed=3, observables={"zz": observable})
    cutting = result.metrics["cutting"]
    assert result.counts == {}
    assert cutting["sampling_overhead"] > 1
    error = cutting["standard_errors"][0]
    assert abs(result.expectation_values["zz"] - exact) <= 3 * max(error, 1e-3)


def test_classical_mode_needs_observables():
    config = ring(nodes=2, qubits=2, communication_mode="classical")
    with qd.DistributedSystem(config) as system, pytest.raises(ConfigError, match="observable"):
        system.run(ghz(4), shots=100, seed=1)
