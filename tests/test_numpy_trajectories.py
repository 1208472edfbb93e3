"""Mid-circuit measurement, feed-forward and reset through grouped trajectories."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from qdframe_numpy import NumpyBackend
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.classical import expr
from qiskit.quantum_info import Statevector

import qdframe
from qdframe.backend import BackendResult, BackendResults, InvalidCircuitError, single_result
from qdframe.testing import chi_square_test
from qdframe.testing.circuits import teleportation_circuit


def _run(
    circuit: QuantumCircuit, shots: int = 4000, seed: int = 1, **options: Any
) -> BackendResult:
    return single_result(NumpyBackend(**options).run(circuit, shots=shots, seed=seed))


def _repeated_measurements(rounds: int) -> QuantumCircuit:
    circuit = QuantumCircuit(2, rounds + 1)
    for r in range(rounds):
        circuit.h(0)
        circuit.measure(0, r)
        circuit.cx(0, 1)
    circuit.measure(1, rounds)
    return circuit


def test_shots_with_equal_histories_share_one_state() -> None:
    result = _run(_repeated_measurements(3), shots=20000)
    groups = result.metadata["trajectories"]["groups"]
    # Three random bits: at most 8 histories, however many shots.
    assert groups <= 8
    assert result.metadata["method"] == "trajectories"
    assert sum(result.counts.values()) == 20000


def test_terminal_measurements_are_sampled_without_branching() -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.h(0)
    circuit.measure(0, 0)  # nothing touches qubit 0 afterwards
    circuit.h(1)
    circuit.cx(1, 2)
    circuit.measure([1, 2], [1, 2])
    result = _run(circuit)
    assert result.metadata["method"] == "statevector"
    assert result.metadata["trajectories"]["groups"] == 1


def test_repeated_measurements_follow_the_born_rule() -> None:
    # Each round re-randomises qubit 0; qubit 1 records the parity of the rounds.
    circuit = _repeated_measurements(2)
    counts = _run(circuit, shots=8000, seed=3).counts
    for key in counts:
        first, second, parity = int(key[2]), int(key[1]), int(key[0])
        assert parity == first ^ second
    expected = {f"{a ^ b}{b}{a}": 0.25 for a in (0, 1) for b in (0, 1)}
    assert chi_square_test(counts, expected).pvalue > 1e-3


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_teleportation_recovers_the_state(seed: int) -> None:
    counts = _run(teleportation_circuit(seed), seed=seed).counts
    assert all(key[0] == "0" for key in counts), counts
    assert len(counts) == 4


def test_replay_under_a_tight_budget_gives_identical_results() -> None:
    circuit = _repeated_measurements(4)
    free = _run(circuit, shots=3000, seed=9)
    assert free.metadata["trajectories"]["copies"] > 0
    one_state = free.metadata["peak_bytes"] - (free.metadata["trajectories"]["peak_states"] - 1) * (
        16 << circuit.num_qubits
    )
    tight = _run(circuit, shots=3000, seed=9, max_memory_bytes=one_state)
    assert tight.metadata["trajectories"]["copies"] == 0
    assert tight.metadata["trajectories"]["replays"] > 0
    assert tight.metadata["trajectories"]["peak_states"] == 1
    assert tight.counts == free.counts


def test_memory_rows_match_counts_and_seed() -> None:
    circuit = _repeated_measurements(2)
    backend = qdframe.get_backend("numpy")
    first = single_result(backend.run(circuit, shots=500, seed=4, memory=True))
    second = single_result(backend.run(circuit, shots=500, seed=4, memory=True))
    assert first.memory == second.memory
    assert first.memory is not None
    assert Counter(first.memory) == Counter(first.counts)


def test_batch_seeds_match_single_runs() -> None:
    circuit = _repeated_measurements(2)
    backend = qdframe.get_backend("numpy")
    alone = single_result(backend.run(circuit, shots=300, seed=8, memory=True))
    batch = backend.run([circuit, circuit], shots=300, seed=8, memory=True)
    assert isinstance(batch, BackendResults) and len(batch) == 2
    first, second = batch
    assert first.memory == alone.memory
    # The second circuit of a batch gets its own random stream.
    assert second.memory != first.memory


def test_else_branch_and_register_conditions() -> None:
    q = QuantumRegister(3)
    c = ClassicalRegister(2, "c")
    out = ClassicalRegister(1, "out")
    circuit = QuantumCircuit(q, c, out)
    circuit.h(0)
    circuit.measure(0, c[0])
    with circuit.if_test((c, 1)) as otherwise:
        circuit.x(2)
    with otherwise:
        circuit.id(2)
    circuit.measure(2, out[0])
    counts = _run(circuit).counts
    # out copies c[0]; c[1] is never written.
    assert set(counts) == {"000", "101"}


def test_expression_conditions() -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.x(0)
    circuit.measure(0, 0)
    circuit.measure(1, 1)
    a, b = circuit.clbits[0], circuit.clbits[1]
    with circuit.if_test(expr.logic_and(a, expr.logic_not(b))):
        circuit.x(2)
    with circuit.if_test(expr.equal(expr.bit_and(a, b), False)):
        circuit.x(1)
    circuit.measure(2, 2)
    circuit.measure(1, 1)
    assert _run(circuit, shots=50).counts == {"111": 50}


def test_nested_conditions_loops_and_boxes() -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
        circuit.measure(1, 1)
        with circuit.if_test((circuit.clbits[1], 1)), circuit.for_loop(range(3)):
            circuit.x(2)
    with circuit.box():
        circuit.x(0)
    circuit.measure([0, 2], [0, 2])
    assert _run(circuit, shots=20).counts == {"110": 20}


def test_reset_then_reuse_matches_the_ideal_distribution() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.ry(1.0, 0)
    circuit.cx(0, 1)
    circuit.reset(1)
    circuit.cx(0, 1)
    reference = QuantumCircuit(2)
    reference.ry(1.0, 0)
    reference.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    counts = _run(circuit, seed=5).counts
    assert chi_square_test(counts, Statevector(reference).probabilities_dict()).pvalue > 1e-3


def test_shots_zero_refuses_measurements_and_random_resets() -> None:
    measured = QuantumCircuit(1, 1)
    measured.measure(0, 0)
    with pytest.raises(InvalidCircuitError, match="remove_final_measurements"):
        _run(measured, shots=0)
    random_reset = QuantumCircuit(2)
    random_reset.h(0)
    random_reset.cx(0, 1)
    random_reset.reset(0)
    with pytest.raises(InvalidCircuitError, match="shots > 0"):
        _run(random_reset, shots=0)


def test_circuit_without_clbits_counts_every_shot_under_the_empty_key() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    result = _run(circuit, shots=10)
    assert result.counts == {"": 10}
    assert result.statevector is None
