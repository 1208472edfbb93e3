"""Readout mitigation: calibration per node, tensored inverse, projection onto the simplex."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdframe_mitigation import (
    CircuitRunner,
    MitigationError,
    QubitReadout,
    ReadoutCalibration,
    ReadoutMitigator,
    backend_runner,
    clbit_qubits,
    normalise_counts,
    project_to_simplex,
)
from qdframe_mitigation import plugin as mitigation_plugin
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

import qdframe
from qdframe.errors import ConfigError
from qdframe.noise import NoiseModel
from qdframe.plugins import load_plugins
from qdframe.protocols import Mitigator

# Different readout errors per qubit, so a mix-up of qubits or bit order shows.
READOUT = {0: (0.04, 0.10), 1: (0.08, 0.03), 2: (0.12, 0.06), 3: (0.02, 0.09)}


def _noise() -> NoiseModel:
    noise = NoiseModel()
    for qubit, (p10, p01) in READOUT.items():
        noise = noise.with_readout_error(prob_meas1_prep0=p10, prob_meas0_prep1=p01, qubit=qubit)
    return noise


def _ghz_like() -> QuantumCircuit:
    circuit = QuantumCircuit(4, name="ghz_like")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.cx(2, 3)
    circuit.ry(0.7, 3)
    circuit.measure_all()
    return circuit


def _ideal(circuit: QuantumCircuit) -> dict[str, float]:
    unitary = circuit.remove_final_measurements(inplace=False)
    return {k: float(v) for k, v in Statevector(unitary).probabilities_dict().items()}


def _tvd(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


@pytest.fixture(scope="module")
def runner() -> CircuitRunner:
    return backend_runner(qdframe.get_backend("numpy"), _noise())


@pytest.fixture(scope="module")
def calibrated(runner: CircuitRunner) -> ReadoutMitigator:
    mitigator = ReadoutMitigator()
    mitigator.calibrate(runner, {0: [0, 1], 1: [2, 3]}, shots=20_000, seed=11)
    return mitigator


def test_calibration_recovers_each_qubits_error_rates(calibrated: ReadoutMitigator) -> None:
    calibration = calibrated.calibration
    assert calibration.nodes == {0: (0, 1), 1: (2, 3)}
    for qubit, (p10, p01) in READOUT.items():
        readout = calibration.readout(qubit)
        # Five standard deviations of a binomial estimate from 20 000 shots.
        assert readout.prob_meas1_prep0 == pytest.approx(p10, abs=5 * np.sqrt(p10 / 20_000))
        assert readout.prob_meas0_prep1 == pytest.approx(p01, abs=5 * np.sqrt(p01 / 20_000))


def test_mitigation_brings_the_distribution_much_closer_to_the_ideal(
    runner: CircuitRunner, calibrated: ReadoutMitigator
) -> None:
    circuit = _ghz_like()
    counts = runner([circuit], shots=20_000, seed=5)[0]
    ideal = _ideal(circuit)
    raw_distance = _tvd(normalise_counts(counts), ideal)
    mitigated = calibrated.apply(counts, clbit_qubits=clbit_qubits(circuit))
    assert raw_distance > 0.1  # the noise is real
    assert _tvd(mitigated, ideal) < 0.25 * raw_distance
    assert all(p > 0 for p in mitigated.values())
    assert sum(mitigated.values()) == pytest.approx(1.0)


def test_the_observed_subspace_path_agrees_with_the_dense_one(
    runner: CircuitRunner, calibrated: ReadoutMitigator
) -> None:
    circuit = _ghz_like()
    counts = runner([circuit], shots=20_000, seed=6)[0]
    sparse = ReadoutMitigator.from_calibration(calibrated.calibration, max_dense_bits=2)
    dense = calibrated.apply(counts)
    approx = sparse.apply(counts)
    # Every outcome is observed here, so restricting to them loses nothing.
    assert len(counts) == 16
    assert _tvd(approx, dense) < 1e-9


def test_clbit_order_is_respected() -> None:
    # Qubit 1 reads badly, qubit 0 perfectly; the circuit measures qubit 1 into clbit 0.
    calibration = ReadoutCalibration(
        {0: QubitReadout(0, 0, 0.0, 0.0), 1: QubitReadout(0, 1, 0.2, 0.0)}, shots=1
    )
    mitigator = ReadoutMitigator.from_calibration(calibration)
    circuit = QuantumCircuit(2, 2)
    circuit.measure(1, 0)
    circuit.measure(0, 1)
    assert clbit_qubits(circuit) == [1, 0]
    # True state 00: qubit 1 (clbit 0, rightmost) reads 1 one time in five.
    counts = {"00": 800, "01": 200}
    assert mitigator.apply(counts, clbit_qubits=[1, 0]) == pytest.approx({"00": 1.0})
    assert mitigator.apply(counts, circuit=circuit) == pytest.approx({"00": 1.0})
    # Read with the wrong order the correction goes to the other bit and fails.
    wrong = mitigator.apply(counts)
    assert wrong.get("00", 0.0) < 0.9


def test_quasi_probabilities_can_be_negative_and_projection_fixes_them() -> None:
    calibration = ReadoutCalibration({0: QubitReadout(0, 0, 0.2, 0.2)}, shots=1)
    mitigator = ReadoutMitigator.from_calibration(calibration)
    # Fewer 1s than the readout error alone would produce: the inverse overshoots.
    quasi = mitigator.quasi_probabilities({"0": 90, "1": 10})
    assert quasi["1"] < 0
    assert sum(quasi.values()) == pytest.approx(1.0)
    assert mitigator.apply({"0": 90, "1": 10}) == pytest.approx({"0": 1.0})


def test_calibration_circuits_prepare_each_nodes_qubits() -> None:
    circuits = ReadoutMitigator.calibration_circuits({1: [3, 2], 0: [0]}, num_qubits=5)
    assert [c.num_qubits for c in circuits] == [5, 5, 5, 5]
    assert [c.num_clbits for c in circuits] == [1, 1, 2, 2]
    # Node 0 first: all-zero, then all-one; the all-one circuit ends in |1> on its qubits.
    for circuit, expected in zip(circuits, ["0", "1", "00", "11"], strict=True):
        unitary = circuit.remove_final_measurements(inplace=False)
        state = Statevector(unitary)
        measured = clbit_qubits(circuit)
        outcome = max(state.probabilities_dict(qargs=measured).items(), key=lambda kv: kv[1])
        assert outcome == (expected, pytest.approx(1.0))


@pytest.mark.parametrize(
    ("qubits_by_node", "message"),
    [
        ({}, "qubits_by_node is empty"),
        ({0: []}, "node 0 lists no qubits"),
        ({0: [0, 1], 1: [1]}, "qubit 1 is listed under node 0 and node 1"),
        ({0: [-1]}, "negative qubit"),
    ],
)
def test_bad_calibration_requests_are_refused(
    qubits_by_node: dict[int, list[int]], message: str
) -> None:
    with pytest.raises(MitigationError, match=message):
        ReadoutMitigator.calibration_circuits(qubits_by_node)


def test_uncalibrated_qubits_and_bad_counts_are_refused(calibrated: ReadoutMitigator) -> None:
    with pytest.raises(MitigationError, match="qubit 7 has no readout calibration"):
        calibrated.apply({"01": 3}, clbit_qubits=[7, 0])
    with pytest.raises(MitigationError, match="does not match the others"):
        calibrated.apply({"01": 3, "1": 2})
    with pytest.raises(MitigationError, match="empty"):
        calibrated.apply({})
    with pytest.raises(MitigationError, match="not calibrated"):
        ReadoutMitigator().apply({"0": 1})


def test_a_readout_too_noisy_to_invert_is_refused() -> None:
    with pytest.raises(MitigationError, match="too noisy to invert"):
        ReadoutCalibration({0: QubitReadout(0, 0, 0.6, 0.5)}, shots=1)


def test_too_many_outcomes_beyond_the_dense_limit_are_refused() -> None:
    calibration = ReadoutCalibration({q: QubitReadout(0, q, 0.01, 0.01) for q in range(3)}, shots=1)
    mitigator = ReadoutMitigator.from_calibration(calibration, max_dense_bits=2, max_outcomes=4)
    counts = {format(i, "03b"): 1 for i in range(5)}
    with pytest.raises(MitigationError, match="exceed max_outcomes=4"):
        mitigator.apply(counts)


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="option shots: must be an integer from 1"):
        ReadoutMitigator(shots=0)


def test_calibration_round_trips_through_json_data(calibrated: ReadoutMitigator) -> None:
    data = calibrated.calibration.to_dict()
    assert ReadoutCalibration.from_dict(data) == calibrated.calibration
    assert calibrated.summary()["qubits"] == data["qubits"]


def test_the_plugin_registers_both_mitigators() -> None:
    loaded = load_plugins(autoload=False, plugins=[("mitigation", mitigation_plugin)])
    registry = loaded.registries.mitigators
    assert registry.names() == ["readout", "zne"]
    for name in registry.names():
        mitigator = registry.get(name)()
        assert isinstance(mitigator, Mitigator)
        assert mitigator.name == name
    assert registry.get("readout")().kind == "counts"
    assert registry.get("zne")().kind == "expectation"


# -- projection onto the simplex -------------------------------------------------


def _is_projection(v: np.ndarray, p: np.ndarray) -> bool:
    """KKT conditions: p on the simplex and v - p = theta on p's support, <= theta off it."""
    if np.any(p < -1e-12) or abs(p.sum() - 1) > 1e-9:
        return False
    residual = v - p
    support = p > 1e-12
    theta = residual[support].mean()
    return bool(
        np.allclose(residual[support], theta, atol=1e-9)
        and np.all(residual[~support] <= theta + 1e-9)
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=12))
def test_projection_meets_the_optimality_conditions(values: list[float]) -> None:
    v = np.array(values)
    assert _is_projection(v, project_to_simplex(v))


def test_projection_is_no_farther_than_any_simplex_vertex_mix() -> None:
    rng = np.random.default_rng(3)
    v = np.array([0.7, 0.5, -0.3, 0.1])
    p = project_to_simplex(v)
    for _ in range(500):
        q = rng.dirichlet(np.ones(4))
        assert np.linalg.norm(v - p) <= np.linalg.norm(v - q) + 1e-12


def test_a_distribution_is_its_own_projection() -> None:
    v = np.array([0.1, 0.2, 0.3, 0.4])
    assert np.allclose(project_to_simplex(v), v)


def test_projection_refuses_bad_input() -> None:
    for bad in ([], [[0.5, 0.5]], [np.nan, 1.0]):
        with pytest.raises(ValueError):
            project_to_simplex(np.array(bad, dtype=float))


def test_tensored_inverse_matches_the_full_inverse() -> None:
    readouts = {q: QubitReadout(0, q, p10, p01) for q, (p10, p01) in READOUT.items() if q < 3}
    mitigator = ReadoutMitigator.from_calibration(ReadoutCalibration(readouts, shots=1))
    # Full assignment matrix, rows/cols indexed by the integer value of the bitstring.
    full = np.ones((8, 8))
    for measured, prepared in itertools.product(range(8), repeat=2):
        for q in range(3):
            full[measured, prepared] *= readouts[q].assignment_matrix[
                (measured >> q) & 1, (prepared >> q) & 1
            ]
    measured_p = np.array([0.3, 0.05, 0.1, 0.05, 0.2, 0.1, 0.05, 0.15])
    expected = np.linalg.solve(full, measured_p)
    counts = {format(i, "03b"): float(p) for i, p in enumerate(measured_p)}
    quasi = mitigator.quasi_probabilities(counts)
    assert np.allclose([quasi.get(format(i, "03b"), 0.0) for i in range(8)], expected)


def test_calibration_works_the_same_on_the_aer_backend() -> None:
    pytest.importorskip("qiskit_aer")
    runner = backend_runner(qdframe.get_backend("aer"), _noise())
    calibration = ReadoutMitigator().calibrate(runner, {0: [0, 1], 1: [2, 3]}, shots=20_000, seed=4)
    for qubit, (p10, p01) in READOUT.items():
        readout = calibration.readout(qubit)
        assert readout.prob_meas1_prep0 == pytest.approx(p10, abs=5 * np.sqrt(p10 / 20_000))
        assert readout.prob_meas0_prep1 == pytest.approx(p01, abs=5 * np.sqrt(p01 / 20_000))
