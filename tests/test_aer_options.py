"""SystemConfig → Aer options, and the CPU/GPU decision with its fallback."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer.backend import AerBackend
from qdframe_aer.device import GPUFallbackWarning, aer_devices, choose_device
from qdframe_aer.options import aer_options_from_config
from qiskit import QuantumCircuit

from qdframe.config import SystemConfig
from qdframe.errors import ConfigError, HardwareError, ResourceError
from qdframe_hal.detect import detect_host
from qdframe_hal.host import HostInfo
from qdframe_hal.profile import GPUInfo

NO_GPU = HostInfo(os="linux", cpu_arch="x86_64", performance_cores=6, cores=6)
WITH_GPU = HostInfo(
    os="linux",
    cpu_arch="x86_64",
    cores=32,
    gpus=(GPUInfo(vendor="NVIDIA", name="NVIDIA H100", memory_bytes=80 * 2**30),),
)


def usable_gpu() -> bool:
    return "GPU" in aer_devices() and detect_host().has_cuda_gpu


def config(**blocks: dict[str, object]) -> SystemConfig:
    return SystemConfig.model_validate(blocks)


def wide_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(16)
    circuit.h(range(16))
    for i in range(15):
        circuit.cx(i, i + 1)
        circuit.rz(0.1 * i, i)
    return circuit


# -- aer_options_from_config ----------------------------------------------------


def test_default_config_maps_to_aer_options() -> None:
    options = aer_options_from_config(SystemConfig(), host=NO_GPU)
    assert options == {
        "device": "auto",
        "require_gpu": False,
        "precision": "complex128",
        "cuStateVec_enable": True,
        "fusion_enable": True,
        "fusion_max_qubit": 5,
        "max_memory_mb": SystemConfig().memory.max_memory_bytes // 2**20,
        "max_parallel_threads": 6,
    }


@pytest.mark.parametrize(
    ("level", "enabled", "width"),
    [("none", False, None), ("basic", True, 2), ("moderate", True, 4), ("aggressive", True, 5)],
)
def test_optimization_level_sets_gate_fusion(level: str, enabled: bool, width: int | None) -> None:
    options = aer_options_from_config(config(acceleration={"optimization_level": level}))
    assert options["fusion_enable"] is enabled
    assert options.get("fusion_max_qubit") == width


def test_gpu_switches_map_to_device() -> None:
    off = aer_options_from_config(config(acceleration={"use_gpu": False}))
    assert (off["device"], off["require_gpu"]) == ("cpu", False)
    required = aer_options_from_config(config(acceleration={"require_gpu": True}))
    assert (required["device"], required["require_gpu"]) == ("gpu", True)


def test_fusion_from_config_reaches_the_simulator() -> None:
    cfg = config(acceleration={"optimization_level": "basic", "use_gpu": False})
    backend = AerBackend(config=cfg, host=NO_GPU, fusion_threshold=2)
    fusion = backend.run(wide_circuit(), shots=0).metadata["fusion"]
    assert fusion["enabled"] is True
    assert fusion["max_fused_qubits"] == 2
    off = AerBackend(config=config(acceleration={"optimization_level": "none", "use_gpu": False}))
    assert off.run(wide_circuit(), shots=0).metadata["fusion"]["enabled"] is False


def test_explicit_options_override_the_config() -> None:
    cfg = config(acceleration={"optimization_level": "basic", "use_gpu": False})
    backend = AerBackend(config=cfg, fusion_max_qubit=3, fusion_threshold=2)
    assert backend.run(wide_circuit(), shots=0).metadata["fusion"]["max_fused_qubits"] == 3


def test_memory_limit_from_config_guards_runs() -> None:
    cfg = config(memory={"max_memory_bytes": 4 * 2**20}, acceleration={"use_gpu": False})
    backend = AerBackend(config=cfg, method="statevector")
    circuit = QuantumCircuit(22)
    circuit.h(0)
    with pytest.raises(ResourceError, match="4 MiB"):
        backend.run(circuit, shots=0)


def test_precision_accepts_aer_spelling() -> None:
    backend = AerBackend(precision="single", device="cpu")
    assert backend.options.precision == "complex64"
    with pytest.raises(ConfigError, match="precision 'half'") as caught:
        AerBackend(precision="half")
    assert caught.value.allowed is not None and "complex64" in caught.value.allowed
    with pytest.raises(ConfigError, match="not both"):
        AerBackend(max_memory_mb=1, max_memory_bytes=2**20)


# -- choose_device ---------------------------------------------------------------


def test_cpu_is_used_as_asked_without_note() -> None:
    choice = choose_device("cpu", devices=("CPU", "GPU"), host=WITH_GPU)
    assert (choice.device, choice.note) == ("CPU", None)


def test_gpu_is_used_when_aer_and_the_host_both_have_one() -> None:
    for requested in ("auto", "gpu"):
        choice = choose_device(requested, devices=("CPU", "GPU"), host=WITH_GPU)
        assert (choice.device, choice.note) == ("GPU", None)


def test_auto_without_a_gpu_notes_why_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        choice = choose_device("auto", devices=("CPU", "GPU"), host=NO_GPU)
    assert choice.device == "CPU"
    assert choice.note is not None and "no CUDA GPU was detected" in choice.note


def test_asking_for_the_gpu_without_aer_gpu_support_warns_and_falls_back() -> None:
    with pytest.warns(GPUFallbackWarning, match="no GPU support.*qiskit-aer-gpu"):
        choice = choose_device("gpu", devices=("CPU",), host=WITH_GPU)
    assert choice.device == "CPU"
    assert choice.note is not None and "running on the CPU" in choice.note


def test_require_gpu_without_one_is_a_hardware_error() -> None:
    with pytest.raises(HardwareError, match=r"GPU is required.*no CUDA GPU"):
        choose_device("gpu", require_gpu=True, devices=("CPU", "GPU"), host=NO_GPU)
    with pytest.raises(ConfigError, match="contradicts require_gpu"):
        AerBackend(device="cpu", require_gpu=True)


@pytest.mark.skipif(usable_gpu(), reason="this host has a usable GPU; fallback cannot happen")
def test_backend_falls_back_visibly_and_records_it_in_results() -> None:
    with pytest.warns(GPUFallbackWarning, match="GPU requested"):
        backend = AerBackend(device="gpu")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    meta = backend.run(circuit, shots=0).metadata
    assert meta["device"] == "CPU"
    assert meta["requested_device"] == "gpu"
    assert "running on the CPU" in meta["device_note"]
    with pytest.raises(HardwareError, match="GPU is required"):
        AerBackend(require_gpu=True)


def test_methods_without_gpu_support_stay_on_the_cpu() -> None:
    if not usable_gpu():
        pytest.skip("no usable GPU on this host: nothing to keep off it")
    backend = AerBackend(device="gpu", method="matrix_product_state")
    assert backend.device.device == "CPU"
    assert backend.device.note is not None and "CPU only" in backend.device.note
