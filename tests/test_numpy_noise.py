"""Noisy trajectories against exact density-matrix evolution with Qiskit."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Kraus, Operator, Pauli

import qdframe
from qdframe.backend import InvalidCircuitError, single_result
from qdframe.noise import (
    AmplitudeDampingError,
    DepolarizingError,
    NoiseModel,
    PhaseDampingError,
)
from qdframe.testing import chi_square_test
from qdframe.testing.circuits import teleportation_circuit

SHOTS = 6000


def _kraus(error: object, k: int) -> list[Kraus]:
    """Kraus channels of one error on a k-qubit gate (one channel per qubit for
    single-qubit errors), written from the textbook definitions."""
    if isinstance(error, DepolarizingError):
        p, terms = error.probability, 4**k
        ops = [math.sqrt(1 - p + p / terms) * np.eye(2**k)]
        for labels in itertools.product("IXYZ", repeat=k):
            if set(labels) != {"I"}:
                ops.append(math.sqrt(p / terms) * Pauli("".join(labels)).to_matrix())
        return [Kraus(ops)]
    if isinstance(error, AmplitudeDampingError):
        g = error.gamma
        ops = [np.array([[1, 0], [0, math.sqrt(1 - g)]]), np.array([[0, math.sqrt(g)], [0, 0]])]
    else:
        assert isinstance(error, PhaseDampingError)
        g = error.gamma
        ops = [np.array([[1, 0], [0, math.sqrt(1 - g)]]), np.array([[0, 0], [0, math.sqrt(g)]])]
    return [Kraus(ops)] * k


def _exact_probabilities(circuit: QuantumCircuit, noise: NoiseModel) -> dict[str, float]:
    """Outcome probabilities of ``circuit`` (unitary part, then measure all)."""
    rho = DensityMatrix.from_label("0" * circuit.num_qubits)
    for item in circuit.data:
        name = item.operation.name
        if name in {"measure", "barrier"}:
            continue
        qargs = [circuit.find_bit(q).index for q in item.qubits]
        rho = rho.evolve(Operator(item.operation), qargs)
        for error in noise.errors_for(name, qargs):
            channels = _kraus(error, len(qargs))
            if len(channels) == 1 and len(qargs) > 1:
                rho = rho.evolve(channels[0], qargs)
            else:
                for channel, qubit in zip(channels, qargs, strict=True):
                    rho = rho.evolve(channel, [qubit])
    probabilities: dict[str, float] = rho.probabilities_dict()
    for qubit in range(circuit.num_qubits):
        readout = noise.readout_for(qubit)
        if readout is None:
            continue
        flipped: dict[str, float] = {}
        for key, p in probabilities.items():
            position = len(key) - 1 - qubit
            bit = key[position]
            flip = readout.prob_meas0_prep1 if bit == "1" else readout.prob_meas1_prep0
            other = key[:position] + ("0" if bit == "1" else "1") + key[position + 1 :]
            flipped[key] = flipped.get(key, 0.0) + p * (1 - flip)
            flipped[other] = flipped.get(other, 0.0) + p * flip
        probabilities = flipped
    return probabilities


def _check(circuit: QuantumCircuit, noise: NoiseModel, seed: int = 1) -> dict[str, int]:
    measured = circuit.copy()
    measured.measure_all()
    backend = qdframe.get_backend("numpy")
    result = single_result(backend.run(measured, shots=SHOTS, seed=seed, noise=noise))
    expected = _exact_probabilities(circuit, noise)
    test = chi_square_test(result.counts, expected)
    assert test.pvalue > 1e-3, (result.counts, expected)
    return result.counts


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.rx(0.7, 1)
    return circuit


def test_depolarizing_on_one_and_two_qubit_gates() -> None:
    noise = (
        NoiseModel()
        .with_gate_error(DepolarizingError(probability=0.2), ["h", "rx"])
        .with_gate_error(DepolarizingError(probability=0.3), ["cx"])
    )
    _check(_bell(), noise)


def test_amplitude_damping_relaxes_towards_zero() -> None:
    circuit = QuantumCircuit(2)
    circuit.x(0)
    circuit.h(1)
    circuit.x(1)
    noise = NoiseModel().with_gate_error(AmplitudeDampingError(gamma=0.35), ["x"])
    counts = _check(circuit, noise)
    assert counts.get("00", 0) > 0


def test_phase_damping_shows_in_a_ramsey_sequence() -> None:
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.id(0)
    circuit.h(0)
    noise = NoiseModel().with_gate_error(PhaseDampingError(gamma=0.6), ["id"])
    counts = _check(circuit, noise)
    assert counts.get("1", 0) / SHOTS == pytest.approx((1 - math.sqrt(0.4)) / 2, abs=0.03)


def test_readout_errors_per_qubit_and_for_all() -> None:
    circuit = QuantumCircuit(3)
    circuit.x(1)
    circuit.h(2)
    noise = (
        NoiseModel()
        .with_readout_error(prob_meas1_prep0=0.1, prob_meas0_prep1=0.05)
        .with_readout_error(prob_meas1_prep0=0.3, prob_meas0_prep1=0.4, qubit=1)
    )
    _check(circuit, noise)


def test_errors_placed_on_given_qubits_only() -> None:
    circuit = QuantumCircuit(2)
    circuit.x(0)
    circuit.x(1)
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=1.0), ["x"], qubits=[1])
    counts = _check(circuit, noise)
    assert all(key[1] == "1" for key in counts)  # qubit 0 untouched


def test_measure_errors_act_before_the_measurement() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.measure([0, 1], [0, 1])
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=1.0), ["measure"])
    backend = qdframe.get_backend("numpy")
    counts = single_result(backend.run(circuit, shots=SHOTS, seed=2, noise=noise)).counts
    uniform = {format(i, "02b"): 0.25 for i in range(4)}
    assert chi_square_test(counts, uniform).pvalue > 1e-3


def test_noise_with_mid_circuit_measurement_and_feed_forward() -> None:
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=0.2), ["cx"])
    backend = qdframe.get_backend("numpy")
    result = backend.run(teleportation_circuit(5), shots=SHOTS, seed=3, noise=noise)
    counts = single_result(result).counts
    failures = sum(n for key, n in counts.items() if key[0] == "1") / SHOTS
    # Two noisy CNOTs spoil the teleported state in a fraction of the shots.
    assert 0.02 < failures < 0.4


def test_low_noise_shares_most_of_the_work() -> None:
    circuit = QuantumCircuit(4)
    for layer in range(6):
        for q in range(4):
            circuit.ry(0.1 * (layer + q), q)
        for q in range(3):
            circuit.cx(q, q + 1)
    circuit.measure_all()
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=0.002), ["cx", "ry"])
    backend = qdframe.get_backend("numpy")
    result = single_result(backend.run(circuit, shots=4000, seed=4, noise=noise))
    groups = result.metadata["trajectories"]["groups"]
    assert 1 < groups < 200


def test_noisy_runs_are_reproducible() -> None:
    noise = NoiseModel().with_gate_error(AmplitudeDampingError(gamma=0.3), ["x", "h", "cx"])
    circuit = _bell()
    circuit.x(0)
    circuit.measure_all()
    backend = qdframe.get_backend("numpy")
    first = single_result(backend.run(circuit, shots=500, seed=7, noise=noise, memory=True))
    second = single_result(backend.run(circuit, shots=500, seed=7, noise=noise, memory=True))
    assert first.memory == second.memory


def test_noise_needs_shots() -> None:
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=0.1), ["h"])
    with pytest.raises(InvalidCircuitError, match="mixed state"):
        qdframe.get_backend("numpy").run(_bell(), shots=0, noise=noise)


def test_noise_must_be_a_noise_model() -> None:
    with pytest.raises(InvalidCircuitError, match="NoiseModel"):
        qdframe.get_backend("numpy").run(_bell(), shots=10, noise={"p": 0.1})  # type: ignore[arg-type]


def test_depolarizing_on_wide_gates_is_refused() -> None:
    circuit = QuantumCircuit(4)
    circuit.mcx([0, 1, 2], 3)
    circuit.measure_all()
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=0.1), ["mcx"])
    with pytest.raises(InvalidCircuitError, match="at most 3"):
        qdframe.get_backend("numpy").run(circuit, shots=10, noise=noise)
