"""The ``aer`` backend: Qiskit Aer's ``AerSimulator`` behind qdframe's backend contract."""

from __future__ import annotations

import time
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from qiskit import QuantumCircuit

from qdframe.plugin import (
    GPU_MEMORY_FRACTION,
    BackendCapabilities,
    BackendResult,
    BackendResults,
    HardwareError,
    InvalidCircuitError,
    MemoryBudget,
    NoiseModel,
    ResourceError,
    SystemConfig,
    check_memory,
    format_bytes,
    max_statevector_qubits,
    memory_budget,
    statevector_bytes,
    validate_shots,
)
from qdframe_aer.circuits import (
    counts_from_aer,
    memory_from_aer,
    native_operations,
    prepare_circuit,
    statevector_from_aer,
    supported_by,
)
from qdframe_aer.device import DeviceChoice, aer_devices, choose_device
from qdframe_aer.noise import to_aer_noise_model
from qdframe_aer.options import (
    BACKEND_NAME,
    METHODS,
    STATEVECTOR_METHODS,
    AerOptions,
    aer_options_from_config,
)
from qdframe_aer.single import SAMPLER_PER_SHOT, SAMPLER_SINGLE, single_simulation

if TYPE_CHECKING:
    from qdframe.plugin import HostInfo

__all__ = ["AerBackend"]

_MIB = 2**20
_PRECISIONS = ("complex128", "complex64")
# Methods Aer runs on a GPU; the others run on the CPU whatever the device.
_GPU_METHODS = frozenset({"automatic", "statevector", "density_matrix"})
# Methods whose state is a dense vector (or matrix) sized by the qubit count.
_DENSE_QUBIT_FACTOR = {"statevector": 1, "density_matrix": 2}
# Methods whose distributed runs simulate once (the deferred form needs a statevector).
_SINGLE = frozenset({"automatic", "statevector"})
# Below this width one thread updates the state faster than Aer's parallel loop,
# whose threads spin between gates: a 16-qubit QFT12 program took 18x the CPU
# time on two threads that it takes on one.
_SINGLE_PARALLEL_MIN_QUBITS = 20
_ADVICE = (
    "Use precision='complex64' (half the memory), method='matrix_product_state' for "
    "weakly entangled circuits, method='stabilizer' for Clifford circuits, or cut the "
    "circuit (communication mode 'classical')"
)


def _state_bytes(method: str, circuit: QuantumCircuit, precision: str, aer_estimate: int) -> int:
    """Bytes of the simulator's state for the method Aer actually used.

    Dense methods: the statevector or density matrix itself. Stabilizer: the
    ``2n x (2n + 1)`` bit tableau. Matrix product state: Aer's own estimate,
    at least one ``2 x 1 x 1`` tensor per qubit (a product state; entanglement
    grows it).
    """
    n: int = circuit.num_qubits
    if method in _DENSE_QUBIT_FACTOR:
        return statevector_bytes(_DENSE_QUBIT_FACTOR[method] * n, precision)
    if method == "stabilizer":
        return max((2 * n * (2 * n + 1) + 7) // 8, 1)
    return max(aer_estimate, 2 * n * statevector_bytes(0, precision), 1)


def _failure(status: str) -> type[Exception]:
    """The qdframe error for an Aer failure message."""
    text = status.lower()
    if "memory" in text:
        return ResourceError
    if "invalid" in text:
        return InvalidCircuitError
    return HardwareError


class AerBackend:
    """Qiskit Aer's simulator with qdframe's contract and result format.

    Create it through ``qdframe.get_backend("aer", **options)``; options are
    those of :class:`~qdframe_aer.options.AerOptions` (Aer's own option names
    are accepted too). With ``config`` the options start from
    :func:`~qdframe_aer.options.aer_options_from_config` and explicit options
    override them.

    :param config: a system configuration to take acceleration and memory
        settings from.
    :param host: the HAL's facts about this host (GPU, cores); detected when
        needed and not given.
    :raises ConfigError: an unknown option or an invalid value.
    :raises HardwareError: ``require_gpu`` and no usable GPU.
    """

    name = BACKEND_NAME

    def __init__(
        self,
        *,
        config: SystemConfig | None = None,
        host: HostInfo | None = None,
        **options: Any,
    ) -> None:
        merged = options
        if config is not None:
            merged = {**aer_options_from_config(config, host), **options}
        self.options = AerOptions.from_kwargs(merged)
        self._host = host
        self.device: DeviceChoice = self._choose_device()
        self._custatevec = self.device.device == "GPU" and self.options.cuStateVec_enable
        self._custatevec_note: str | None = None
        self._simulator = self._make_simulator()

    def __repr__(self) -> str:
        return (
            f"AerBackend(method={self.options.method!r}, device={self.device.device!r}, "
            f"precision={self.options.precision!r})"
        )

    def _choose_device(self) -> DeviceChoice:
        options = self.options
        choice = choose_device(options.device, require_gpu=options.require_gpu, host=self._host)
        if choice.device == "GPU" and options.method not in _GPU_METHODS:
            return DeviceChoice(
                "CPU", choice.requested, f"method {options.method!r} runs on the CPU only"
            )
        return choice

    def _make_simulator(self) -> Any:
        from qiskit_aer import AerSimulator

        options = self.options
        settings: dict[str, Any] = {
            "method": options.method,
            "device": self.device.device,
            "precision": options.aer_precision,
            "max_parallel_threads": options.max_parallel_threads,
            "fusion_enable": options.fusion_enable,
            "fusion_max_qubit": options.fusion_max_qubit,
            "fusion_threshold": options.fusion_threshold,
        }
        if self._custatevec:
            settings["cuStateVec_enable"] = True
        settings.update(options.extra)
        return AerSimulator(**settings)

    # -- capabilities -------------------------------------------------------

    def _budget(self) -> MemoryBudget:
        budget = memory_budget(self.options.max_memory_bytes)
        if self.device.device != "GPU":
            return budget
        if self._host is None:
            from qdframe.plugin import detect_host

            self._host = detect_host()
        sizes = [g.memory_bytes for g in self._host.gpus if g.is_cuda and g.memory_bytes]
        if not sizes:
            return budget
        usable = int(max(sizes) * GPU_MEMORY_FRACTION)
        if usable < budget.bytes:
            return MemoryBudget(usable, f"{GPU_MEMORY_FRACTION} of the GPU's memory")
        return budget

    def _max_qubits(self, precision: str, budget: int) -> int:
        method = self.options.method
        if method in ("matrix_product_state", "stabilizer"):
            from qiskit_aer import AerSimulator

            limit: int = AerSimulator(method=method).configuration().n_qubits
            return limit
        dense = max_statevector_qubits(budget, precision, fraction=Fraction(1), workspace_factor=1)
        return int(dense) // _DENSE_QUBIT_FACTOR.get(method, 1)

    @property
    def capabilities(self) -> BackendCapabilities:
        """What this backend (with its method and device) can run, for the memory now."""
        budget = self._budget().bytes
        basis = self._simulator.configuration().basis_gates
        return BackendCapabilities(
            name=self.name,
            max_qubits={p: self._max_qubits(p, budget) for p in _PRECISIONS},
            supported_operations=supported_by(basis, self.options.method),
            noise=True,
            mid_circuit_measurement=True,
            classical_conditions=True,
            statevector=self.options.method in STATEVECTOR_METHODS,
            devices=("cpu", "gpu") if "GPU" in aer_devices() else ("cpu",),
            methods=METHODS,
        )

    # -- running ------------------------------------------------------------

    def run(
        self,
        circuits: QuantumCircuit | Sequence[QuantumCircuit],
        shots: int = 1024,
        seed: int | None = None,
        noise: NoiseModel | None = None,
        *,
        memory: bool = False,
    ) -> BackendResults:
        """Run one circuit or a sequence; one result per circuit, in order.

        :param circuits: the circuit(s); parameters must be bound. Operations
            the method does not run natively are decomposed first.
        :param shots: samples per circuit; ``0`` returns the exact statevector
            of a circuit without measurements (methods ``automatic``,
            ``statevector`` and ``matrix_product_state``).
        :param seed: makes results reproducible; the first circuit of a batch
            uses ``seed`` itself, so it gives the same result as when run alone.
        :param noise: a :class:`qdframe.noise.NoiseModel`; requires ``shots > 0``.
        :param memory: also return each shot's bitstring, in shot order.
        :raises InvalidCircuitError: the circuit or request cannot run here.
        :raises ResourceError: the state would not fit in memory.
        :raises HardwareError: the simulator failed.
        """
        validate_shots(shots)
        if noise is not None and not isinstance(noise, NoiseModel):
            raise InvalidCircuitError(
                f"noise must be a qdframe.noise.NoiseModel, got {type(noise).__name__}"
            )
        batch: list[Any] = [circuits] if isinstance(circuits, QuantumCircuit) else list(circuits)
        return BackendResults(self._run_batch(batch, shots, seed, noise, memory) if batch else ())

    def _check_exact(self, shots: int, noise: NoiseModel | None) -> None:
        if shots != 0:
            return
        method = self.options.method
        if method not in STATEVECTOR_METHODS:
            raise InvalidCircuitError(
                f"shots=0 asks for the exact statevector, which method {method!r} does not "
                f"give; use one of {', '.join(STATEVECTOR_METHODS)} or run with shots > 0"
            )
        if noise is not None and not noise.is_ideal:
            raise InvalidCircuitError(
                "shots=0 asks for the exact statevector, but a noisy circuit ends in a "
                "mixed state; run with shots > 0"
            )

    def _check_memory(self, circuit: QuantumCircuit, exact: bool, budget: MemoryBudget) -> int:
        """Refuse a dense state over budget before Aer allocates it; return its bytes."""
        precision = self.options.precision
        n = circuit.num_qubits
        factor = _DENSE_QUBIT_FACTOR.get(self.options.method, 0)
        if exact:
            factor = max(factor, 1)
        if factor == 0:
            return 0
        needed = statevector_bytes(factor * n, precision)
        shape = "statevector" if factor == 1 else "density matrix"
        check_memory(
            needed,
            budget,
            what=f"a {n}-qubit {precision} {shape} ({format_bytes(needed)})",
            backend=self.name,
            advice=_ADVICE,
        )
        return needed

    def _run_batch(
        self,
        batch: list[Any],
        shots: int,
        seed: int | None,
        noise: NoiseModel | None,
        memory: bool,
    ) -> list[BackendResult]:
        started = time.perf_counter()
        self._check_exact(shots, noise)
        native = native_operations(self._simulator.configuration().basis_gates)
        budget = self._budget()
        done: dict[int, BackendResult] = {}
        refused: dict[int, str] = {}
        if shots > 0 and (noise is None or noise.is_ideal) and self.options.method in _SINGLE:
            for i, circuit in enumerate(batch):
                outcome = self._single(circuit, shots, seed, i, memory, native, budget)
                if isinstance(outcome, BackendResult):
                    done[i] = outcome
                else:
                    refused[i] = outcome
        rest = [i for i in range(len(batch)) if i not in done]
        if rest:
            per_shot = self._per_shot(
                [batch[i] for i in rest], shots, seed, noise, memory, native, budget, started
            )
            for i, result in zip(rest, per_shot, strict=True):
                if i in refused:
                    result.metadata["single_simulation_refused"] = refused[i]
                done[i] = result
        return [done[i] for i in range(len(batch))]

    def _single(
        self,
        circuit: Any,
        shots: int,
        seed: int | None,
        index: int,
        memory: bool,
        native: frozenset[str],
        budget: MemoryBudget,
    ) -> BackendResult | str:
        """Circuit ``index`` of a batch as one simulation, or why it runs shot by shot."""
        if not isinstance(circuit, QuantumCircuit) or circuit.parameters:
            return "not a bound circuit"  # the shot-by-shot path says what is wrong
        started = time.perf_counter()
        run_options: dict[str, Any] = {"max_memory_mb": max(budget.bytes // _MIB, 1)}
        if "statevector_parallel_threshold" not in self.options.extra:
            run_options["statevector_parallel_threshold"] = _SINGLE_PARALLEL_MIN_QUBITS
        run = single_simulation(
            circuit,
            shots=shots,
            seed=None if seed is None else seed + index,
            memory=memory,
            prepare=lambda c: prepare_circuit(
                c, backend=self.name, method=self.options.method, native=native, exact=False
            ),
            execute=lambda c, options: self._execute([c], options).results[0],
            budget=budget,
            precision=self.options.precision,
            backend=self.name,
            run_options=run_options,
        )
        if isinstance(run, str):
            return run
        simulated = float(run.experiment.metadata.get("time_taken", 0.0))
        overhead = max(time.perf_counter() - started - simulated, 0.0)
        result = self._result(circuit, run.experiment, shots, False, overhead, run.peak_bytes)
        result.counts = run.counts
        result.memory = run.memory
        result.metadata["peak_bytes"] = run.peak_bytes
        result.metadata["sampler"] = SAMPLER_SINGLE
        result.metadata["single_simulation"] = {
            "width": run.width,
            "resets_checked": run.resets_checked,
            "release": run.release,
        }
        return result

    def _per_shot(
        self,
        batch: list[Any],
        shots: int,
        seed: int | None,
        noise: NoiseModel | None,
        memory: bool,
        native: frozenset[str],
        budget: MemoryBudget,
        started: float,
    ) -> list[BackendResult]:
        """The circuits as Aer runs them: sampled from the final state when they
        measure only at the end, one trajectory per shot otherwise."""
        exact = shots == 0
        prepared = [
            prepare_circuit(
                c, backend=self.name, method=self.options.method, native=native, exact=exact
            )
            for c in batch
        ]
        dense_bytes = [self._check_memory(c, exact, budget) for c in prepared]
        run_options: dict[str, Any] = {
            "shots": max(shots, 1),
            "memory": memory and not exact,
            "max_memory_mb": max(budget.bytes // _MIB, 1),
        }
        if seed is not None:
            run_options["seed_simulator"] = seed
        if noise is not None and not noise.is_ideal:
            run_options["noise_model"] = to_aer_noise_model(noise, prepared)
        aer_result = self._execute(prepared, run_options)
        wall = time.perf_counter() - started
        experiments = list(aer_result.results)
        simulated = sum(float(e.metadata.get("time_taken", 0.0)) for e in experiments)
        overhead = max(wall - simulated, 0.0) / len(experiments)
        results = [
            self._result(circuit, experiment, shots, memory, overhead, dense)
            for circuit, experiment, dense in zip(batch, experiments, dense_bytes, strict=True)
        ]
        for result in results:
            result.metadata["sampler"] = SAMPLER_PER_SHOT
        return results

    def _execute(self, prepared: list[QuantumCircuit], run_options: dict[str, Any]) -> Any:
        try:
            aer_result = self._simulator.run(prepared, **run_options).result()
        except Exception as exc:  # Aer raises several unrelated types
            raise HardwareError(f"backend {self.name!r}: Aer failed: {exc}") from exc
        failed = [str(e.status) for e in aer_result.results if not e.success]
        if self._custatevec and any("custatevec" in f.lower() for f in failed):
            # An Aer GPU build without cuQuantum: keep the GPU, drop cuStateVec.
            self._custatevec = False
            self._custatevec_note = f"cuStateVec not available in this Aer build ({failed[0]})"
            self._simulator = self._make_simulator()
            return self._execute(prepared, run_options)
        return aer_result

    def _result(
        self,
        circuit: QuantumCircuit,
        experiment: Any,
        shots: int,
        memory: bool,
        overhead_s: float,
        dense_bytes: int,
    ) -> BackendResult:
        if not experiment.success:
            status = str(experiment.status)
            raise _failure(status)(
                f"backend {self.name!r}: circuit {circuit.name!r} failed in Aer: {status}"
            )
        data = experiment.data.to_dict()
        meta = experiment.metadata
        width = circuit.num_clbits
        result = BackendResult()
        if shots == 0:
            result.statevector = statevector_from_aer(data, self.options.precision)
        else:
            result.counts = counts_from_aer(data, width, shots)
            if memory:
                result.memory = memory_from_aer(data, width, shots)
        method = str(meta.get("method", self.options.method))
        aer_estimate = int(meta.get("required_memory_mb", 0)) * _MIB
        state = _state_bytes(method, circuit, self.options.precision, aer_estimate)
        result.metadata = {
            "backend": self.name,
            "time_s": float(meta.get("time_taken", 0.0)) + overhead_s,
            "peak_bytes": max(state, dense_bytes),
            "method": method,
            "requested_method": self.options.method,
            "precision": self.options.precision,
            "num_qubits": circuit.num_qubits,
            "shots": shots,
            "device": str(meta.get("device", self.device.device)),
            "requested_device": self.device.requested,
            "custatevec": self._custatevec,
            "fusion": dict(meta.get("fusion", {})),
            "seed": getattr(experiment, "seed_simulator", None),
        }
        notes = [n for n in (self.device.note, self._custatevec_note) if n]
        if notes:
            result.metadata["device_note"] = "; ".join(notes)
        return result
