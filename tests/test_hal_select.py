"""Backend selection over backends registered by real plugin objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import qdframe
from qdframe.backend import BackendCapabilities, BackendResults
from qdframe.errors import ResourceError
from qdframe.plugins import LoadedPlugins
from qdframe_hal import (
    BackendRequirements,
    HostInfo,
    RecordedRunner,
    detect_host,
    select_backend,
)

DATA = Path(__file__).parent / "data" / "hal"
GATES = frozenset({"h", "cx", "measure"})


class _Backend:
    """A backend that declares capabilities; selection never runs it."""

    def __init__(self, capabilities: BackendCapabilities) -> None:
        self.name = capabilities.name
        self._capabilities = capabilities

    @property
    def capabilities(self) -> BackendCapabilities:
        return self._capabilities

    def run(
        self,
        circuits: Any,
        shots: int = 1024,
        seed: int | None = None,
        noise: Any = None,
        *,
        memory: bool = False,
    ) -> BackendResults:
        raise NotImplementedError("selection tests never run circuits")


def _factory(name: str, max_qubits: dict[str, int], **flags: Any) -> Callable[..., _Backend]:
    caps = BackendCapabilities(
        name=name, max_qubits=max_qubits, supported_operations=GATES, **flags
    )
    return lambda **options: _Backend(caps)


def _missing_gpu(**options: Any) -> _Backend:
    raise RuntimeError("CUDA driver not found")


class _BackendsPlugin:
    """A real plugin object that registers the given backend factories."""

    def __init__(self, factories: dict[str, Callable[..., Any]]) -> None:
        self.factories = factories

    @qdframe.hookimpl
    def qdframe_register_backends(self, registry: Any) -> None:
        for name, factory in self.factories.items():
            registry.add(name, factory)


def _plugins(**factories: Callable[..., Any]) -> LoadedPlugins:
    return qdframe.load_plugins(autoload=False, plugins=[("fake", _BackendsPlugin(factories))])


BOTH_PRECISIONS = {"complex64": 31, "complex128": 30}
NUMPY = _factory("numpy", BOTH_PRECISIONS)
AER = _factory(
    "aer",
    {"complex64": 33, "complex128": 32},
    noise=True,
    mid_circuit_measurement=True,
    classical_conditions=True,
    devices=("cpu", "gpu"),
)
GPU_HOST = detect_host(RecordedRunner.from_toml(DATA / "linux_x86_64_a100x2.toml"))
CPU_HOST = detect_host(RecordedRunner.from_toml(DATA / "linux_x86_64_epyc_vm.toml"))


def test_numpy_is_the_default_when_it_fits() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=20), plugins=_plugins(numpy=NUMPY, aer=AER), host=CPU_HOST
    )
    assert (choice.backend, choice.device, choice.plugin) == ("numpy", "cpu", "fake")
    assert choice.max_qubits == 30
    assert "default" in choice.reason
    assert "aer: also fits" in choice.reason
    assert [v.name for v in choice.verdicts] == ["numpy", "aer"]


def test_gpu_backend_is_preferred_when_wanted_and_present() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=20, prefer_gpu=True),
        plugins=_plugins(numpy=NUMPY, aer=AER),
        host=GPU_HOST,
    )
    assert (choice.backend, choice.device) == ("aer", "gpu")
    assert "NVIDIA A100-SXM4-40GB" in choice.reason
    assert "numpy" in choice.reason and "cannot use the GPU" in choice.reason


def test_gpu_wanted_but_absent_falls_back_to_the_cpu_default() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=20, prefer_gpu=True),
        plugins=_plugins(numpy=NUMPY, aer=AER),
        host=CPU_HOST,
    )
    assert (choice.backend, choice.device) == ("numpy", "cpu")
    assert "No CUDA GPU was detected" in choice.reason


def test_gpu_present_but_not_wanted_keeps_the_default() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=20), plugins=_plugins(numpy=NUMPY, aer=AER), host=GPU_HOST
    )
    assert (choice.backend, choice.device) == ("numpy", "cpu")


def test_requirements_the_default_lacks_move_the_choice() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=20, needs_noise=True),
        plugins=_plugins(numpy=NUMPY, aer=AER),
        host=CPU_HOST,
    )
    assert choice.backend == "aer"
    assert "numpy: does not support noise models" in choice.reason
    numpy_verdict = next(v for v in choice.verdicts if v.name == "numpy")
    assert not numpy_verdict.fits


def test_too_large_for_the_default_picks_the_larger_backend() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=32), plugins=_plugins(numpy=NUMPY, aer=AER), host=CPU_HOST
    )
    assert choice.backend == "aer"
    assert "holds at most 30 qubits at complex128, 32 needed" in choice.reason


def test_factory_that_raises_is_skipped_with_its_reason() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=10, prefer_gpu=True),
        plugins=_plugins(cuda_only=_missing_gpu, numpy=NUMPY),
        host=GPU_HOST,
    )
    assert choice.backend == "numpy"
    assert "cuda_only: could not be created: RuntimeError: CUDA driver not found" in choice.reason


def test_without_the_default_the_largest_fitting_backend_wins() -> None:
    choice = select_backend(
        BackendRequirements(num_qubits=10),
        plugins=_plugins(
            small=_factory("small", {"complex128": 12}), big=_factory("big", {"complex128": 28})
        ),
        host=CPU_HOST,
    )
    assert choice.backend == "big"
    assert "small: also fits; ranked lower: holds fewer qubits (12 < 28)" in choice.reason


def test_nothing_fits_states_needed_and_largest() -> None:
    with pytest.raises(ResourceError) as info:
        select_backend(
            BackendRequirements(num_qubits=40),
            plugins=_plugins(numpy=NUMPY, aer=AER, broken=_missing_gpu),
            host=CPU_HOST,
        )
    message = str(info.value)
    assert "40 qubits at complex128" in message
    assert "largest available is aer with 32 qubits" in message
    assert "broken: could not be created" in message


def test_unoffered_precision_is_explained() -> None:
    with pytest.raises(ResourceError, match=r"does not offer complex64 \(offers: complex128\)"):
        select_backend(
            BackendRequirements(num_qubits=5, precision="complex64"),
            plugins=_plugins(only128=_factory("only128", {"complex128": 30})),
            host=CPU_HOST,
        )


def test_required_gpu_without_a_gpu_fails() -> None:
    with pytest.raises(ResourceError, match="no CUDA GPU was detected"):
        select_backend(
            BackendRequirements(num_qubits=5, require_gpu=True),
            plugins=_plugins(numpy=NUMPY, aer=AER),
            host=CPU_HOST,
        )


def test_gpu_only_backend_is_unusable_without_a_gpu() -> None:
    gpu_only = _factory("gpu_only", {"complex128": 34}, devices=("gpu",))
    choice = select_backend(
        BackendRequirements(num_qubits=5),
        plugins=_plugins(gpu_only=gpu_only, numpy=NUMPY),
        host=CPU_HOST,
    )
    assert choice.backend == "numpy"
    assert "gpu_only: runs only on a GPU" in choice.reason


def test_gpu_only_backend_runs_on_the_gpu_when_it_is_the_only_fit() -> None:
    gpu_only = _factory("gpu_only", {"complex128": 34}, devices=("gpu",))
    choice = select_backend(
        BackendRequirements(num_qubits=5), plugins=_plugins(gpu_only=gpu_only), host=GPU_HOST
    )
    assert (choice.backend, choice.device) == ("gpu_only", "gpu")
    assert "runs only on a GPU" in choice.reason


def test_backend_without_declared_capabilities_is_rejected() -> None:
    class NoCaps:
        name = "nocaps"
        capabilities = ("max_qubits", 30)

    choice = select_backend(
        BackendRequirements(num_qubits=5),
        plugins=_plugins(nocaps=lambda **o: NoCaps(), numpy=NUMPY),
        host=CPU_HOST,
    )
    assert "nocaps: does not declare capabilities" in choice.reason


def test_no_backend_registered_says_so() -> None:
    with pytest.raises(ResourceError, match="no simulator backend is registered"):
        select_backend(BackendRequirements(num_qubits=1), plugins=_plugins(), host=CPU_HOST)


def test_host_is_only_detected_when_a_gpu_question_arises(monkeypatch: pytest.MonkeyPatch) -> None:
    import qdframe_hal.detect as detect_module

    calls: list[int] = []

    def counting_detect(*args: Any, **kwargs: Any) -> HostInfo:
        calls.append(1)
        return CPU_HOST

    monkeypatch.setattr(detect_module, "detect_host", counting_detect)
    select_backend(BackendRequirements(num_qubits=5), plugins=_plugins(numpy=NUMPY))
    assert calls == []
    select_backend(
        BackendRequirements(num_qubits=5, prefer_gpu=True), plugins=_plugins(numpy=NUMPY)
    )
    assert calls == [1]


def test_requirements_validate_their_fields() -> None:
    with pytest.raises(ValidationError, match="complex64"):
        BackendRequirements(num_qubits=5, precision="complex32")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        BackendRequirements(num_qubits=-1)


def _ops(circuit: Any) -> Sequence[str]:
    return [i.operation.name for i in circuit.data]


def test_requirements_from_a_circuit() -> None:
    from qiskit import QuantumCircuit

    plain = QuantumCircuit(3, 3)
    plain.h(0)
    plain.cx(0, 1)
    plain.measure(range(3), range(3))
    req = BackendRequirements.from_circuit(plain, precision="complex64")
    assert (req.num_qubits, req.precision) == (3, "complex64")
    assert not req.needs_mid_circuit_measurement and not req.needs_classical_conditions

    teleport = QuantumCircuit(3, 2)
    teleport.h(1)
    teleport.cx(1, 2)
    teleport.cx(0, 1)
    teleport.measure(0, 0)
    with teleport.if_test((teleport.clbits[0], 1)):
        teleport.z(2)
    teleport.measure(1, 1)
    teleport.h(1)  # qubit 1 reused after its measurement
    req = BackendRequirements.from_circuit(teleport)
    assert "if_else" in _ops(teleport)
    assert req.needs_classical_conditions and req.needs_mid_circuit_measurement
