"""Exact statevectors of the numpy backend against qiskit.quantum_info.Statevector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qdframe_numpy import NumpyBackend
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.circuit.library import UnitaryGate, quantum_volume
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector, random_unitary
from qiskit.synthesis.qft import synth_qft_full

import qdframe
from qdframe.backend import single_result


def _state(circuit: QuantumCircuit, **options: Any) -> np.ndarray[Any, Any]:
    result = single_result(NumpyBackend(**options).run(circuit, shots=0))
    assert result.statevector is not None
    return np.asarray(result.statevector)


def test_two_hundred_random_circuits_agree_to_1e_10() -> None:
    backend = qdframe.get_backend("numpy")
    worst = 0.0
    for seed in range(200):
        width = 1 + seed % 10
        circuit = random_circuit(width, depth=6 + seed % 5, max_operands=3, seed=seed)
        state = single_result(backend.run(circuit, shots=0)).statevector
        assert state is not None
        worst = max(worst, float(np.max(np.abs(state - Statevector(circuit).data))))
    assert worst < 1e-10


@pytest.mark.parametrize("fusion_max_qubits", [1, 2, 3, 4, 6])
def test_fusion_width_does_not_change_the_state(fusion_max_qubits: int) -> None:
    circuit = random_circuit(9, depth=12, max_operands=3, seed=fusion_max_qubits)
    state = _state(circuit, fusion_max_qubits=fusion_max_qubits)
    assert np.max(np.abs(state - Statevector(circuit).data)) < 1e-10


@pytest.mark.parametrize("seed", range(4))
def test_small_chunks_exercise_every_kernel_path(seed: int) -> None:
    # 2**9-amplitude chunks on 13 qubits: many chunks, and blocks on low, high,
    # contiguous and scattered qubits.
    width = 13
    circuit = (
        quantum_volume(width, depth=4, seed=seed)
        if seed % 2
        else random_circuit(width, depth=10, max_operands=3, seed=seed)
    )
    circuit.append(UnitaryGate(random_unitary(2**6, seed=seed)), [0, 12, 3, 7, 1, 9])
    circuit.append(UnitaryGate(random_unitary(2**3, seed=seed + 1)), [2, 1, 0])
    circuit.append(UnitaryGate(random_unitary(2**4, seed=seed + 2)), [12, 11, 10, 9])
    expected = Statevector(circuit).data
    for threads in (1, 2):
        state = _state(circuit, chunk_qubits=10, threads=threads)
        assert np.max(np.abs(state - expected)) < 1e-10


def test_wide_state_runs_in_parallel_chunks() -> None:
    circuit = synth_qft_full(14)
    circuit.compose(quantum_volume(14, depth=2, seed=3), inplace=True)
    result = single_result(NumpyBackend(threads=2, chunk_qubits=11).run(circuit, shots=0))
    assert result.statevector is not None
    assert result.metadata["threads"] == 2
    assert np.max(np.abs(result.statevector - Statevector(circuit).data)) < 1e-10


def test_complex64_is_close_and_half_the_size() -> None:
    circuit = random_circuit(8, depth=10, max_operands=3, seed=5)
    state = _state(circuit, precision="complex64")
    assert state.dtype == np.complex64
    assert np.max(np.abs(state - Statevector(circuit).data)) < 1e-5


def test_global_phase_of_circuit_and_definitions() -> None:
    inner = QuantumCircuit(2, global_phase=0.4)
    inner.h(0)
    inner.cx(0, 1)
    composite = inner.to_gate(label="pair")
    circuit = QuantumCircuit(3, global_phase=-1.3)
    circuit.append(composite, [2, 0])
    circuit.global_phase += 0.2
    assert np.max(np.abs(_state(circuit) - Statevector(circuit).data)) < 1e-12


class _MatrixOnly(Gate):  # type: ignore[misc]
    """A gate known only through its matrix (no definition)."""

    def __init__(self) -> None:
        super().__init__("matrix_only", 2, [])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        return np.asarray(random_unitary(4, seed=9).data, dtype=dtype)


def test_gates_with_only_a_matrix_or_only_a_definition() -> None:
    definition = QuantumCircuit(3)
    definition.ccx(0, 1, 2)
    definition.rzz(0.3, 0, 2)
    only_definition = definition.to_gate(label="composite")
    circuit = QuantumCircuit(4)
    circuit.h([0, 1, 2, 3])
    circuit.append(only_definition, [3, 1, 0])
    circuit.append(_MatrixOnly(), [2, 0])
    assert np.max(np.abs(_state(circuit) - Statevector(circuit).data)) < 1e-12


def test_diagonal_runs_are_merged_and_exact() -> None:
    circuit = QuantumCircuit(12)
    circuit.h(range(12))
    for a in range(12):
        for b in range(a + 1, 12):
            circuit.cp(0.1 * (a + 1) + 0.01 * b, a, b)
    circuit.rzz(0.3, 0, 11)
    circuit.t(5)
    circuit.ccz(1, 4, 9)
    result = single_result(qdframe.get_backend("numpy").run(circuit, shots=0))
    assert result.statevector is not None
    fusion = result.metadata["fusion"]
    assert fusion["diagonal_blocks"] >= 1
    assert fusion["dense_blocks"] + fusion["diagonal_blocks"] < fusion["gates"] / 4
    assert np.max(np.abs(result.statevector - Statevector(circuit).data)) < 1e-10


def test_zero_qubit_and_idle_circuits() -> None:
    empty = QuantumCircuit(0, global_phase=0.5)
    assert np.allclose(_state(empty), [np.exp(0.5j)])
    idle = QuantumCircuit(3)
    idle.barrier()
    idle.id(1)
    idle.delay(10, 0)
    expected = np.zeros(8)
    expected[0] = 1
    assert np.allclose(_state(idle), expected)


def test_reset_of_a_qubit_in_zero_keeps_the_exact_state() -> None:
    circuit = QuantumCircuit(2)
    circuit.reset(0)
    circuit.h(1)
    circuit.reset(0)
    assert np.max(np.abs(_state(circuit) - Statevector.from_label("+0").data)) < 1e-12
