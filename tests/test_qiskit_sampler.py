"""qdframe.qiskit.Sampler against Qiskit's StatevectorSampler."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.primitives import BaseSamplerV2, StatevectorSampler
from scipy.stats import chi2_contingency

import qdframe as qd
import qdframe.planning
from qdframe.errors import ConfigError
from qdframe.qiskit import Sampler

RING = {"distributed": {"num_nodes": 2, "qubits_per_node": 2, "network_topology": "ring"}}
TORUS = {"distributed": {"num_nodes": 4, "qubits_per_node": 1, "network_topology": "torus"}}


def _config(data: dict[str, object]) -> qd.SystemConfig:
    return qd.SystemConfig.model_validate(data)


def _circuit() -> QuantumCircuit:
    """Four qubits, two registers (one of them out of qubit order), three parameters."""
    a, b, c = Parameter("a"), Parameter("b"), Parameter("c")
    alpha, beta = ClassicalRegister(2, "alpha"), ClassicalRegister(2, "beta")
    qc = QuantumCircuit(QuantumRegister(4, "q"), alpha, beta)
    qc.h(0)
    qc.ry(a, 1)
    qc.cx(0, 2)
    qc.crx(b, 1, 3)
    qc.rz(c, 2)
    qc.cx(2, 3)
    qc.h(2)
    qc.ry(a + b, 3)
    qc.measure([3, 0], alpha)
    qc.measure([1, 2], beta)
    return qc


def _homogeneous(ours: dict[str, int], theirs: dict[str, int]) -> float:
    """p-value of a chi-square test that two count tables share a distribution."""
    keys = sorted(set(ours) | set(theirs))
    table = np.array([[ours.get(k, 0) for k in keys], [theirs.get(k, 0) for k in keys]])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table)[1])


def test_is_a_qiskit_sampler() -> None:
    with Sampler(_config(RING)) as sampler:
        assert isinstance(sampler, BaseSamplerV2)
        assert sampler.default_shots == 1024


@pytest.mark.parametrize("network", [RING, TORUS], ids=["ring", "torus"])
def test_distribution_matches_statevector_sampler(network: dict[str, object]) -> None:
    qc = _circuit()
    values = np.random.default_rng(3).uniform(0, np.pi, (3, 3))
    shots = 3000
    with Sampler(_config(network), seed=5) as sampler:
        ours = sampler.run([(qc, values, shots)]).result()[0]
    ref = StatevectorSampler(seed=9).run([(qc, values, shots)]).result()[0]
    p_values = []
    for i in range(3):
        for name in ("alpha", "beta"):
            ours_counts = getattr(ours.data, name).get_counts(i)
            ref_counts = getattr(ref.data, name).get_counts(i)
            assert sum(ours_counts.values()) == shots
            p_values.append(_homogeneous(ours_counts, ref_counts))
        joined = ours.join_data().get_counts(i)
        p_values.append(_homogeneous(joined, ref.join_data().get_counts(i)))
    # Nine tests at a fixed seed; a wrong bit order or register would give p ~ 0.
    assert min(p_values) > 1e-4, p_values


def test_wrong_bit_order_is_detected() -> None:
    """The chi-square check above fails for a sampler that reads registers wrongly."""
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    with Sampler(_config(RING), seed=1) as sampler:
        counts = sampler.run([qc], shots=200).result()[0].data.c.get_counts()
    assert counts == {"01": 200}
    assert _homogeneous(counts, {"10": 200}) < 1e-10


def test_shapes_and_broadcasting_follow_qiskit() -> None:
    qc = _circuit()
    a, b, c = sorted(qc.parameters, key=lambda p: p.name)
    values = {(a, b): np.zeros((2, 3, 2)), c: np.ones((2, 3))}
    pubs = [(qc, values, 16), (qc, np.zeros((4, 3)), 8)]
    with Sampler(_config(RING), seed=2) as sampler:
        results = sampler.run(pubs).result()
    reference = StatevectorSampler(seed=2).run(pubs).result()
    for ours, ref in zip(results, reference, strict=True):
        for name in ("alpha", "beta"):
            mine, theirs = getattr(ours.data, name), getattr(ref.data, name)
            assert mine.shape == theirs.shape
            assert mine.num_shots == theirs.num_shots
            assert mine.num_bits == theirs.num_bits
            assert mine.array.shape == theirs.array.shape
        assert ours.data.shape == ref.data.shape
    assert results[0].data.alpha.shape == (2, 3)
    assert results[1].data.beta.num_shots == 8


def test_deterministic_circuit_fills_every_register_and_shot() -> None:
    """Bits are placed in their registers exactly (a deterministic outcome checks order)."""
    theta = Parameter("t")
    q = QuantumRegister(3)
    low, high = ClassicalRegister(1, "low"), ClassicalRegister(2, "high")
    qc = QuantumCircuit(q, low, high)
    qc.rx(theta, 0)
    qc.x(2)
    qc.cx(0, 1)
    qc.measure(0, low[0])
    qc.measure(1, high[0])
    qc.measure(2, high[1])
    with Sampler(_config(RING), seed=4) as sampler:
        result = sampler.run([(qc, [[0.0], [np.pi]], 32)]).result()[0]
    assert result.data.low.get_counts(0) == {"0": 32}
    assert result.data.low.get_counts(1) == {"1": 32}
    assert result.data.high.get_counts(0) == {"10": 32}
    assert result.data.high.get_counts(1) == {"11": 32}


def test_shots_per_pub_and_default_shots() -> None:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    with Sampler(_config(RING), default_shots=40, seed=0) as sampler:
        results = sampler.run([(qc, None, 12), qc]).result()
        explicit = sampler.run([qc], shots=7).result()
    assert results[0].data.meas.num_shots == 12
    assert results[0].metadata["shots"] == 12
    assert results[1].data.meas.num_shots == 40
    assert explicit[0].data.meas.num_shots == 7
    # Bell pair: only 00 and 11.
    assert set(results[1].data.meas.get_counts()) <= {"00", "11"}


def test_integer_seed_reproduces_and_seeds_differ() -> None:
    qc = _circuit()
    values = np.full((2, 3), 0.7)
    config = _config(RING)
    with Sampler(config, seed=11) as first, Sampler(config, seed=11) as second:
        a = first.run([(qc, values, 64)]).result()[0].data.alpha.array
        b = second.run([(qc, values, 64)]).result()[0].data.alpha.array
    with Sampler(config, seed=12) as other:
        c = other.run([(qc, values, 64)]).result()[0].data.alpha.array
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_metadata_reports_the_distributed_cost() -> None:
    qc = QuantumCircuit(4)
    qc.h(0)
    for q in range(3):
        qc.cx(q, q + 1)
    qc.cx(3, 0)
    qc.measure_all()
    with Sampler(_config(RING), seed=1) as sampler:
        meta = sampler.run([qc], shots=16).result()[0].metadata
    details = meta["qdframe"]
    # Four qubits on two nodes of two, in a ring of CNOTs: some gate crosses nodes.
    assert details["ebits"] >= 1
    assert details["makespan_us"] > 0
    assert 0 < details["fidelity_estimate"] <= 1
    assert details["nodes"] == 2
    assert set(details["stage_seconds"]) >= {"allocate", "lower", "schedule", "execute"}


def test_each_pub_is_planned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = qdframe.planning.make_plan

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(qdframe.planning, "make_plan", counting)
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    with Sampler(_config(RING), seed=1) as sampler:
        result = sampler.run([(qc, np.linspace(0, np.pi, 6).reshape(6, 1), 20)]).result()[0]
    assert len(calls) == 1
    assert result.data.meas.shape == (6,)
    # theta = 0 gives |00> only; theta = pi gives |11> only.
    assert result.data.meas.get_counts(0) == {"00": 20}
    assert result.data.meas.get_counts(5) == {"11": 20}


def test_verify_reports_a_verdict_per_parameter_set() -> None:
    theta = Parameter("t")
    qc = QuantumCircuit(3)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure_all()
    network = {"distributed": {"num_nodes": 3, "qubits_per_node": 1, "network_topology": "ring"}}
    with Sampler(_config(network), seed=1, verify=True) as sampler:
        meta = sampler.run([(qc, [[0.3], [1.2]], 10)]).result()[0].metadata["qdframe"]
    assert meta["verified"] is True
    assert len(meta["verification"]) == 2


def _bad_pubs() -> dict[str, object]:
    qc = QuantumCircuit(2)
    qc.ry(Parameter("a"), 0)
    qc.rx(Parameter("b"), 1)
    qc.measure_all()
    return {
        "missing-values": (qc,),
        "too-few-values": (qc, [0.1]),
        "too-many-values": (qc, [[0.1, 0.2, 0.3]]),
        "negative-shots": (qc, [0.1, 0.2], -3),
        "not-a-circuit": ("h 0", None),
    }


@pytest.mark.parametrize("name", list(_bad_pubs()))
def test_bad_pubs_raise_what_qiskit_raises(name: str) -> None:
    bad = _bad_pubs()[name]
    with pytest.raises(Exception) as reference:
        StatevectorSampler().run([bad])  # type: ignore[list-item]
    assert isinstance(reference.value, ValueError | TypeError)
    with Sampler(_config(RING)) as sampler, pytest.raises(type(reference.value)):
        sampler.run([bad])  # type: ignore[list-item]


def test_circuit_without_registers_warns_and_gives_empty_data() -> None:
    qc = QuantumCircuit(2)
    qc.h(0)
    with Sampler(_config(RING)) as sampler:
        with pytest.warns(UserWarning, match="no output classical registers"):
            job = sampler.run([qc], shots=5)
        result = job.result()[0]
    assert len(result.data) == 0


def test_accepts_config_path_and_system(tmp_path: Path) -> None:
    path = tmp_path / "net.toml"
    path.write_text(
        '[distributed]\nnum_nodes = 2\nqubits_per_node = 1\nnetwork_topology = "ring"\n',
        encoding="utf-8",
    )
    qc = QuantumCircuit(2)
    qc.x(1)
    qc.measure_all()
    with Sampler(path, seed=0) as from_path:
        assert from_path.run([qc], shots=5).result()[0].data.meas.get_counts() == {"10": 5}
    with qd.DistributedSystem(qd.load_config(path)) as system:
        sampler = Sampler(system, seed=0)
        assert sampler.system is system
        assert sampler.run([qc], shots=5).result()[0].data.meas.get_counts() == {"10": 5}
        sampler.close()  # a borrowed system stays open
        assert system.plugins is not None
        assert system.run(qc, shots=3, seed=1).counts == {"10": 3}


def test_bad_system_and_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="SystemConfig, a TOML path, a DistributedSystem"):
        Sampler(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="file not found"):
        Sampler(tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="default_shots: must be an integer from 1"):
        Sampler(_config(RING), default_shots=0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        Sampler(_config(RING), seed=-1)


def test_classical_mode_is_refused_with_the_reason() -> None:
    config = _config(
        {
            "distributed": {
                "num_nodes": 2,
                "qubits_per_node": 1,
                "network_topology": "ring",
                "communication_mode": "classical",
            }
        }
    )
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.measure_all()
    with Sampler(config) as sampler, warnings.catch_warnings():
        job = sampler.run([qc], shots=5)
        with pytest.raises(ConfigError, match="classical"):
            job.result()


def test_planning_keeps_parameters_only_when_asked() -> None:
    from qdframe.allocation import normalize_circuit
    from qdframe.errors import CircuitError

    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.rx(theta, 0)
    qc.cx(0, 1)
    with pytest.raises(CircuitError, match="unbound parameters"):
        normalize_circuit(qc)
    kept = normalize_circuit(qc, allow_parameters=True)
    assert set(kept.parameters) == {theta}
    assert {i.operation.name for i in kept.data} <= {"u", "cp"}
