"""The core backend contract: get_backend, capabilities, results and the shared guards."""

from __future__ import annotations

from typing import Any

import psutil
import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.backend import (
    AVAILABLE_MEMORY_FRACTION,
    DEFAULT_BACKEND,
    PRECISIONS,
    BackendCapabilities,
    BackendResult,
    InvalidCircuitError,
    MemoryBudget,
    check_memory,
    format_bytes,
    memory_budget,
    single_result,
    statevector_bytes,
    validate_shots,
)
from qdframe.errors import EXIT_USAGE, ConfigError, QdframeError, RegistryError, ResourceError
from qdframe.protocols import Backend


def test_default_backend_is_numpy() -> None:
    backend = qdframe.get_backend()
    assert DEFAULT_BACKEND == "numpy"
    assert backend.name == "numpy"
    assert isinstance(backend, Backend)


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="numpy"):
        qdframe.get_backend("no-such-simulator")


def test_options_reach_the_backend() -> None:
    backend = qdframe.get_backend("numpy", precision="complex64")
    circuit = QuantumCircuit(1)
    circuit.h(0)
    result = single_result(backend.run(circuit, shots=0))
    assert result.statevector is not None and result.statevector.dtype.name == "complex64"
    assert result.metadata["precision"] == "complex64"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"precision": "float16"}, "backend.numpy.precision"),
        ({"fusion_max_qubits": 0}, "backend.numpy.fusion_max_qubits"),
        ({"fusion_max_qubits": True}, "backend.numpy.fusion_max_qubits"),
        ({"max_memory_bytes": -5}, "backend.numpy.max_memory_bytes"),
        ({"chunk_qubits": 40}, "backend.numpy.chunk_qubits"),
        ({"threads": 0}, "backend.numpy.threads"),
        ({"colour": "red"}, "backend.numpy.colour"),
    ],
)
def test_bad_options_name_the_key_and_what_is_allowed(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        qdframe.get_backend("numpy", **options)
    assert caught.value.key_path == key
    assert caught.value.allowed
    assert caught.value.exit_code == EXIT_USAGE


def test_capabilities_describe_the_numpy_backend() -> None:
    capabilities = qdframe.get_backend("numpy").capabilities
    assert isinstance(capabilities, BackendCapabilities)
    assert capabilities.noise and capabilities.mid_circuit_measurement
    assert capabilities.classical_conditions and capabilities.statevector
    wanted = {"cx", "unitary", "measure", "reset", "if_else", "ccx"}
    assert wanted <= capabilities.supported_operations
    # Halving the amplitude size fits one more qubit in the same memory.
    assert capabilities.max_qubits["complex64"] == capabilities.max_qubits["complex128"] + 1


def test_max_qubits_follows_the_memory_option() -> None:
    small = qdframe.get_backend("numpy", max_memory_bytes=1 << 24).capabilities.max_qubits
    large = qdframe.get_backend("numpy", max_memory_bytes=1 << 28).capabilities.max_qubits
    assert small["complex128"] < large["complex128"]
    # 2**20 amplitudes of 16 bytes are 16 MiB: with buffers they cannot fit in 16 MiB.
    assert small["complex128"] < 20
    assert statevector_bytes(small["complex128"], "complex128") <= 1 << 24


def test_statevector_bytes() -> None:
    assert statevector_bytes(10) == 16 * 1024
    assert statevector_bytes(10, "complex64") == 8 * 1024
    assert set(PRECISIONS) == {"complex128", "complex64"}
    with pytest.raises(ValueError, match="complex128"):
        statevector_bytes(3, "complex32")


def test_memory_budget_takes_the_smaller_limit() -> None:
    available = psutil.virtual_memory().available * AVAILABLE_MEMORY_FRACTION
    assert memory_budget(1000) == MemoryBudget(1000, "max_memory_bytes=1000")
    unlimited = memory_budget(None)
    assert "available" in unlimited.source
    assert unlimited.bytes == pytest.approx(available, rel=0.2)
    assert memory_budget(10**18).bytes < 10**18


def test_check_memory_states_both_numbers_and_advice() -> None:
    budget = MemoryBudget(1000, "max_memory_bytes=1000")
    check_memory(1000, budget, what="x", backend="numpy")
    with pytest.raises(ResourceError) as caught:
        check_memory(4096, budget, what="a big state", backend="numpy", advice="Try less.")
    message = str(caught.value)
    assert "4096 bytes" in message and "1000 bytes" in message
    assert "a big state" in message and "Try less." in message and "'numpy'" in message


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(2048) == "2 KiB"
    assert format_bytes(3 * 1024**3) == "3 GiB"


@pytest.mark.parametrize("shots", [-1, 1.5, "10", True, None])
def test_validate_shots_rejects_non_counts(shots: object) -> None:
    with pytest.raises(InvalidCircuitError, match="shots"):
        validate_shots(shots)  # type: ignore[arg-type]


def test_validate_shots_accepts_counts() -> None:
    assert validate_shots(0) == 0
    assert validate_shots(1024) == 1024


def test_invalid_circuit_error_is_a_usage_error() -> None:
    error = InvalidCircuitError("bad")
    assert isinstance(error, QdframeError) and isinstance(error, ValueError)
    assert error.exit_code == EXIT_USAGE


def test_result_defaults_are_independent() -> None:
    first, second = BackendResult(), BackendResult()
    first.counts["0"] = 1
    first.metadata["x"] = 1
    assert second.counts == {} and second.metadata == {}
    assert first.statevector is None and first.memory is None
