"""The ``aer`` backend on an NVIDIA GPU (skipped unless Aer and the HAL both see one)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer.backend import AerBackend
from qdframe_aer.device import aer_devices
from qiskit.circuit.random import random_circuit

from qdframe_hal.detect import detect_host


def _gpu_problem() -> str | None:
    if "GPU" not in aer_devices():
        return "the installed qiskit-aer has no GPU support (qiskit-aer-gpu)"
    if not detect_host().has_cuda_gpu:
        return "no CUDA GPU detected on this host"
    return None


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(_gpu_problem() is not None, reason=f"needs a GPU: {_gpu_problem()}"),
]


@pytest.mark.parametrize("precision", ["complex128", "complex64"])
def test_gpu_statevector_agrees_with_cpu(precision: str) -> None:
    gpu = AerBackend(device="gpu", require_gpu=True, precision=precision)
    cpu = AerBackend(device="cpu", precision=precision)
    circuit = random_circuit(12, 10, max_operands=2, seed=4)
    on_gpu = gpu.run(circuit, shots=0)
    assert on_gpu.metadata["device"] == "GPU"
    assert "device_note" not in on_gpu.metadata
    tolerance = 1e-10 if precision == "complex128" else 1e-5
    np.testing.assert_allclose(
        on_gpu.statevector, cpu.run(circuit, shots=0).statevector, atol=tolerance
    )


def test_gpu_with_custatevec_samples_like_the_cpu() -> None:
    gpu = AerBackend(device="gpu", require_gpu=True, cuStateVec_enable=True)
    circuit = random_circuit(4, 8, max_operands=2, measure=True, seed=9)
    counts = gpu.run(circuit, shots=4000, seed=3).counts
    reference = AerBackend(device="cpu").run(circuit, shots=4000, seed=3).counts
    keys = set(counts) | set(reference)
    distance = 0.5 * sum(abs(counts.get(k, 0) - reference.get(k, 0)) for k in keys) / 4000
    assert distance < 0.1
