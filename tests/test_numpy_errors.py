"""Bad input to the numpy backend: clear errors, raised before any large allocation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qdframe_numpy import NumpyBackend
from qiskit import QuantumCircuit
from qiskit.circuit import Gate, Instruction, Parameter
from qiskit.circuit.library import UnitaryGate

from qdframe.backend import InvalidCircuitError, single_result
from qdframe.errors import ResourceError


def _backend(**options: Any) -> NumpyBackend:
    return NumpyBackend(**options)


def test_unsupported_operation_names_itself_and_the_backend() -> None:
    circuit = QuantumCircuit(2)
    circuit.append(Instruction("teleport_magic", 2, 0, []), [0, 1])
    with pytest.raises(InvalidCircuitError, match=r"'teleport_magic'.*'numpy'"):
        _backend().run(circuit, shots=10)


def test_runtime_loops_are_unsupported() -> None:
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    with circuit.while_loop((circuit.clbits[0], 0)):
        circuit.h(0)
        circuit.measure(0, 0)
    with pytest.raises(InvalidCircuitError, match="while_loop"):
        _backend().run(circuit, shots=10)


def test_non_unitary_matrix_is_refused() -> None:
    circuit = QuantumCircuit(1)
    circuit.append(UnitaryGate(np.array([[1, 0], [0, 0.5]]), check_input=False), [0])
    with pytest.raises(InvalidCircuitError, match="not unitary"):
        _backend().run(circuit, shots=0)


class _WrongSize(Gate):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__("wrong_size", 2, [])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        return np.eye(2, dtype=dtype)


def test_matrix_of_the_wrong_size_is_refused() -> None:
    circuit = QuantumCircuit(2)
    circuit.append(_WrongSize(), [0, 1])
    with pytest.raises(InvalidCircuitError, match=r"'wrong_size'.*\(4, 4\)"):
        _backend().run(circuit, shots=0)


def test_unbound_parameters_are_named() -> None:
    alpha, beta = Parameter("alpha"), Parameter("beta")
    circuit = QuantumCircuit(2)
    circuit.rx(alpha, 0)
    circuit.rzz(beta, 0, 1)
    with pytest.raises(InvalidCircuitError, match="alpha, beta") as caught:
        _backend().run(circuit, shots=0)
    assert "assign_parameters" in str(caught.value)


def test_bound_parameters_run() -> None:
    alpha = Parameter("alpha")
    circuit = QuantumCircuit(1)
    circuit.rx(alpha, 0)
    result = _backend().run(circuit.assign_parameters({alpha: np.pi}), shots=0)
    state = single_result(result).statevector
    assert state is not None
    assert abs(state[1]) == pytest.approx(1.0)


def test_too_large_a_state_is_refused_before_allocation() -> None:
    circuit = QuantumCircuit(40)
    circuit.h(0)
    with pytest.raises(ResourceError) as caught:
        _backend().run(circuit, shots=0)
    message = str(caught.value)
    assert "40-qubit complex128" in message and "bytes" in message
    assert "complex64" in message and "cut" in message


def test_max_memory_bytes_is_enforced() -> None:
    circuit = QuantumCircuit(16)
    circuit.h(range(16))
    with pytest.raises(ResourceError, match="max_memory_bytes=100000"):
        _backend(max_memory_bytes=100_000).run(circuit, shots=0)
    # complex64 halves the state: 2**12 amplitudes fit where complex128 does not.
    small = QuantumCircuit(12)
    small.h(range(12))
    limit = 8 * 4096 + 400_000
    with pytest.raises(ResourceError):
        _backend(max_memory_bytes=16 * 4096 + 100).run(small, shots=0)
    _backend(max_memory_bytes=limit, precision="complex64").run(small, shots=0)


def test_not_a_circuit() -> None:
    with pytest.raises(InvalidCircuitError, match="QuantumCircuit"):
        _backend().run("OPENQASM 2.0;", shots=10)
    with pytest.raises(InvalidCircuitError, match="QuantumCircuit"):
        _backend().run([QuantumCircuit(1), 5], shots=10)


def test_negative_shots() -> None:
    with pytest.raises(InvalidCircuitError, match="shots: must be an integer from 0"):
        _backend().run(QuantumCircuit(1), shots=-3)


def test_condition_on_a_standalone_variable_is_refused() -> None:
    from qiskit.circuit.classical import expr, types

    flag = expr.Var.new("flag", types.Bool())
    circuit = QuantumCircuit(1, inputs=[flag])
    with circuit.if_test(flag):
        circuit.x(0)
    with pytest.raises(InvalidCircuitError, match="'flag'"):
        _backend().run(circuit, shots=10)
