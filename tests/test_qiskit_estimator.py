"""qdframe.qiskit.Estimator against Qiskit's StatevectorEstimator."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2
from qiskit.primitives import BaseEstimatorV2, StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp

import qdframe as qd
from qdframe.errors import ConfigError
from qdframe.qiskit import Estimator
from qdframe.qiskit._paulis import group_paulis

RING = {"distributed": {"num_nodes": 2, "qubits_per_node": 2, "network_topology": "ring"}}
TORUS = {"distributed": {"num_nodes": 4, "qubits_per_node": 1, "network_topology": "torus"}}


def _config(data: dict[str, object]) -> qd.SystemConfig:
    return qd.SystemConfig.model_validate(data)


def _ansatz() -> QuantumCircuit:
    return efficient_su2(4, reps=1, entanglement="circular")


def _observables() -> list[list[object]]:
    """Three forms Qiskit accepts: SparsePauliOp, a string and a dict."""
    return [
        [SparsePauliOp.from_list([("XXII", 0.5), ("ZZZZ", 1.0), ("IIII", 0.3)])],
        ["YIZX"],
        [{"IZIZ": -0.7, "XIXI": 0.2}],
    ]


def test_is_a_qiskit_estimator() -> None:
    with Estimator(_config(RING)) as estimator:
        assert isinstance(estimator, BaseEstimatorV2)
        assert estimator.default_precision == 0.015625


@pytest.mark.parametrize("network", [RING, TORUS], ids=["ring", "torus"])
def test_precision_zero_is_exact(network: dict[str, object]) -> None:
    qc = _ansatz()
    values = np.random.default_rng(1).uniform(0, np.pi, (2, qc.num_parameters))
    pub = (qc, _observables(), values)
    ref = StatevectorEstimator().run([pub]).result()[0]
    with Estimator(_config(network)) as estimator:
        ours = estimator.run([pub], precision=0).result()[0]
    assert ours.data.evs.shape == ref.data.evs.shape == (3, 2)
    np.testing.assert_allclose(ours.data.evs, ref.data.evs, atol=1e-9)
    assert np.all(ours.data.stds == 0)
    assert ours.metadata["shots"] == 0


@pytest.mark.parametrize("network", [RING, TORUS], ids=["ring", "torus"])
def test_sampled_values_lie_within_their_standard_errors(network: dict[str, object]) -> None:
    qc = _ansatz()
    values = np.random.default_rng(2).uniform(0, np.pi, (2, qc.num_parameters))
    pub = (qc, _observables(), values)
    ref = StatevectorEstimator().run([pub]).result()[0]
    precision = 0.03
    with Estimator(_config(network), seed=7) as estimator:
        ours = estimator.run([pub], precision=precision).result()[0]
    shots = ours.metadata["shots"]
    assert shots == int(np.ceil(1 / precision**2))
    stds = ours.data.stds
    # Each std is sqrt(sum of group variances / shots): at most sum |c| / sqrt(shots).
    bound = np.array([1.5, 1.0, 0.9])[:, None] / np.sqrt(shots)
    assert np.all(stds > 0) and np.all(stds <= bound + 1e-12)
    z = np.abs(ours.data.evs - ref.data.evs) / stds
    assert np.all(z < 5), z


def test_standard_errors_track_the_spread_of_repeated_estimates() -> None:
    """The reported std is the spread an estimate actually has (not a bound only).

    Forty copies of one parameter set are forty independent estimates.
    """
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    network = {"distributed": {"num_nodes": 2, "qubits_per_node": 1, "network_topology": "ring"}}
    copies = np.full((40, 1), 1.1)
    with Estimator(_config(network), seed=6) as estimator:
        zz, z0 = estimator.run([(qc, "ZZ", copies), (qc, "IZ", copies)], precision=0.1).result()
    # <ZZ> = 1 for this state: every shot gives +1, so the spread and the std are 0.
    assert np.all(zz.data.evs == 1) and np.all(zz.data.stds == 0)
    xs, stds = z0.data.evs, z0.data.stds
    # <Z0> = cos(1.1); the empirical spread of the 40 estimates is near the std.
    assert abs(np.mean(xs) - np.cos(1.1)) < 4 * np.mean(stds) / np.sqrt(40)
    assert 0.65 < np.std(xs, ddof=1) / np.mean(stds) < 1.35


def test_broadcasting_observables_against_parameters() -> None:
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    values = np.linspace(0, np.pi, 4).reshape(4, 1)
    observables = [["ZZ"], ["IZ"], ["XX"]]  # shape (3, 1) against (4,) -> (3, 4)
    pub = (qc, observables, values)
    ref = StatevectorEstimator().run([pub]).result()[0]
    with Estimator(_config(RING)) as estimator:
        ours = estimator.run([pub], precision=0).result()[0]
    assert ours.data.evs.shape == ref.data.evs.shape == (3, 4)
    np.testing.assert_allclose(ours.data.evs, ref.data.evs, atol=1e-9)


def test_default_precision_and_per_pub_precision() -> None:
    qc = QuantumCircuit(2)
    qc.h(0)
    with Estimator(_config(RING), default_precision=0.1, seed=1) as estimator:
        results = estimator.run([(qc, "XI"), (qc, "ZI", None, 0.05)]).result()
    assert results[0].metadata["shots"] == 100
    assert results[0].metadata["target_precision"] == 0.1
    assert results[1].metadata["shots"] == 400


def test_commuting_terms_are_measured_together() -> None:
    groups = group_paulis(["XX", "XI", "IX", "ZZ", "ZI", "II"])
    assert sorted(len(g.labels) for g in groups) == [2, 3]
    assert {g.basis for g in groups} == {("X", "X"), ("Z", "Z")}
    assert len(group_paulis(["XX", "XI", "ZZ"], abelian_grouping=False)) == 3
    qc = QuantumCircuit(2)
    qc.h(0)
    obs = SparsePauliOp.from_list([("XX", 1.0), ("XI", 1.0), ("ZZ", 1.0), ("IZ", 1.0)])
    with Estimator(_config(RING), seed=1) as estimator:
        meta = estimator.run([(qc, obs)], precision=0.1).result()[0].metadata
    assert meta["qdframe"]["measurement_groups"] == 2


def test_bad_pubs_raise_what_qiskit_raises() -> None:
    qc = QuantumCircuit(2)
    qc.ry(Parameter("a"), 0)
    bad_pubs: list[object] = [
        (qc, "ZZZ", [0.1]),  # observable on 3 qubits, circuit of 2
        (qc, "ZZ"),  # missing parameter values
        (qc, "ZZ", [0.1], -0.5),  # negative precision
        (qc, "QQ", [0.1]),  # not a Pauli
    ]
    with Estimator(_config(RING)) as estimator:
        for bad in bad_pubs:
            with pytest.raises(Exception) as reference:
                StatevectorEstimator().run([bad])  # type: ignore[list-item]
            assert isinstance(reference.value, ValueError | TypeError)
            with pytest.raises(type(reference.value)):
                estimator.run([bad])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="default_precision"):
        Estimator(_config(RING), default_precision=-1)


def test_classical_mode_estimates_by_cutting() -> None:
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
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    values = [[0.4], [2.0]]
    pub = (qc, ["ZZ", "IZ"], values)
    ref = StatevectorEstimator().run([(qc, [["ZZ"], ["IZ"]], values)]).result()[0]
    with Estimator(config, seed=3) as estimator:
        ours = estimator.run([(qc, [["ZZ"], ["IZ"]], values)], precision=0.05).result()[0]
        with pytest.raises(ConfigError, match="precision 0"):
            estimator.run([pub], precision=0).result()
    assert ours.metadata["qdframe"]["communication_mode"] == "classical"
    assert ours.data.evs.shape == (2, 2)
    z = np.abs(ours.data.evs - ref.data.evs) / np.maximum(ours.data.stds, 1e-3)
    assert np.all(z < 5), (ours.data.evs, ref.data.evs, ours.data.stds)
