"""qdframe noise models run on Aer with qdframe's semantics (and agree with numpy)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer.backend import AerBackend
from qdframe_aer.noise import placements, to_aer_noise_model
from qdframe_numpy.backend import NumpyBackend
from qiskit import QuantumCircuit

from qdframe.noise import (
    AmplitudeDampingError,
    DepolarizingError,
    NoiseModel,
    PhaseDampingError,
)

SHOTS = 20_000


def share(counts: dict[str, int], predicate: str) -> float:
    return sum(n for bits, n in counts.items() if bits == predicate) / sum(counts.values())


def within(observed: float, expected: float, shots: int = SHOTS) -> bool:
    """Inside 5 standard deviations of a binomial proportion."""
    sigma = math.sqrt(max(expected * (1 - expected), 1e-12) / shots)
    return abs(observed - expected) <= 5 * sigma + 1e-9


def all_ones(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, n)
    circuit.x(range(n))
    circuit.measure(range(n), range(n))
    return circuit


def test_readout_error_flips_with_its_probabilities() -> None:
    noise = NoiseModel().with_readout_error(prob_meas1_prep0=0.1, prob_meas0_prep1=0.25)
    counts = AerBackend(device="cpu").run(all_ones(1), shots=SHOTS, seed=1, noise=noise).counts
    assert within(share(counts, "0"), 0.25)


def test_an_ideal_readout_entry_for_one_qubit_overrides_the_general_one() -> None:
    noise = (
        NoiseModel()
        .with_readout_error(prob_meas0_prep1=0.3)
        .with_readout_error(qubit=1)  # qubit 1 reads perfectly
    )
    counts = AerBackend(device="cpu").run(all_ones(2), shots=SHOTS, seed=2, noise=noise).counts
    assert set(counts) <= {"11", "10"}  # qubit 1 (left) always reads 1
    assert within(share(counts, "10"), 0.3)


def test_a_qubit_specific_gate_error_replaces_the_general_one_even_when_ideal() -> None:
    noise = (
        NoiseModel()
        .with_gate_error(DepolarizingError(probability=1.0), ["x"])
        .with_gate_error(DepolarizingError(probability=0.0), ["x"], qubits=[0])
    )
    counts = AerBackend(device="cpu").run(all_ones(2), shots=SHOTS, seed=3, noise=noise).counts
    assert {bits[-1] for bits in counts} == {"1"}  # qubit 0 keeps its X
    assert within(sum(n for b, n in counts.items() if b[0] == "1") / SHOTS, 0.5)


def test_two_qubit_depolarizing_acts_jointly_on_the_gate() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=1.0), ["cx"])
    counts = AerBackend(device="cpu").run(circuit, shots=SHOTS, seed=4, noise=noise).counts
    for bits in ("00", "01", "10", "11"):
        assert within(share(counts, bits), 0.25)


def test_errors_on_measure_act_before_the_measurement() -> None:
    noise = NoiseModel().with_gate_error(AmplitudeDampingError(gamma=1.0), ["measure"])
    counts = AerBackend(device="cpu").run(all_ones(1), shots=500, seed=5, noise=noise).counts
    assert counts == {"0": 500}


def test_one_entry_covers_gates_of_different_widths() -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.x(0)
    circuit.cx(0, 1)
    circuit.measure(range(3), range(3))
    noise = NoiseModel().with_gate_error(AmplitudeDampingError(gamma=1.0), ["x", "cx"])
    counts = AerBackend(device="cpu").run(circuit, shots=200, seed=6, noise=noise).counts
    assert counts == {"000": 200}


def test_noise_inside_conditional_blocks_applies() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    assert placements(circuit) >= {("x", (1,)), ("x", (0,)), ("measure", (0,))}
    noise = NoiseModel().with_gate_error(AmplitudeDampingError(gamma=1.0), ["x"], qubits=[1])
    counts = AerBackend(device="cpu").run(circuit, shots=300, seed=7, noise=noise).counts
    assert counts == {"01": 300}


def test_translation_holds_only_what_the_circuits_use() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    noise = (
        NoiseModel()
        .with_gate_error(DepolarizingError(probability=0.1), ["h", "cx"])
        .with_readout_error(prob_meas1_prep0=0.05)
    )
    aer = to_aer_noise_model(noise, [circuit])
    assert set(aer.noise_instructions) == {"h", "measure"}
    assert aer.noise_qubits == [0, 1]


def test_noisy_runs_agree_with_the_numpy_backend() -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ry(0.7, 2)
    circuit.cz(1, 2)
    circuit.measure(range(3), range(3))
    noise = (
        NoiseModel()
        .with_gate_error(DepolarizingError(probability=0.05), ["cx", "cz"])
        .with_gate_error(AmplitudeDampingError(gamma=0.1), ["h", "ry"])
        .with_gate_error(PhaseDampingError(gamma=0.2), ["h"], qubits=[0])
        .with_readout_error(prob_meas1_prep0=0.02, prob_meas0_prep1=0.04)
    )
    aer = AerBackend(device="cpu").run(circuit, shots=SHOTS, seed=8, noise=noise).counts
    ref = NumpyBackend().run(circuit, shots=SHOTS, seed=8, noise=noise).counts
    keys = set(aer) | set(ref)
    distance = 0.5 * sum(abs(aer.get(k, 0) - ref.get(k, 0)) for k in keys) / SHOTS
    assert distance < 0.03
