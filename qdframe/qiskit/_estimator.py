"""``Estimator``: Qiskit's ``BaseEstimatorV2`` over a distributed system."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from qiskit.primitives import BaseEstimatorV2, PrimitiveJob
from qiskit.primitives.containers import DataBin, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike

from qdframe.config import CommunicationMode
from qdframe.errors import ConfigError
from qdframe.qiskit._lowering import (
    BindingJob,
    Sampling,
    execute_jobs,
    lower_circuit,
    plugins_of,
    run_bindings,
)
from qdframe.qiskit._paulis import (
    group_moments,
    group_paulis,
    measurement_circuit,
)
from qdframe.qiskit._seeding import SeedLike, call_entropy, derived_seed, validate_seed
from qdframe.qiskit._system import OwnsSystem, SystemHandle, SystemLike

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.context import RunContext
    from qdframe.noise import NoiseModel
    from qdframe.system import DistributedSystem

__all__ = ["Estimator"]

#: Qiskit's default target precision of an estimate.
DEFAULT_PRECISION = 0.015625
_PLAN, _SHOTS = 0, 1

FloatArray = npt.NDArray[np.float64]


class Estimator(OwnsSystem, BaseEstimatorV2):  # type: ignore[misc]
    """Estimates expectation values of PUBs on a simulated network of QPUs.

    A PUB's circuit is planned and lowered once (parameters unbound). Its
    observables are split into groups of qubit-wise commuting Pauli terms;
    each group is one measurement circuit (the lowered program, a basis
    change on the data qubits where they end up, measurements), sampled for
    every parameter set that needs it with ``ceil(1 / precision**2)`` shots.

    Precision ``0`` asks for exact values: every measurement history of the
    lowered program is followed exactly (:mod:`qdframe.distribute.exact`,
    programs of up to 24 simulated qubits) and ``stds`` are 0. In the
    ``classical`` communication mode the values come from circuit cutting
    with the cutting's standard errors.

    :param system: a :class:`~qdframe.config.SystemConfig`, the path of a TOML
        configuration, a :class:`~qdframe.DistributedSystem`, or ``None``.
    :param default_precision: target standard error of a PUB that gives none (>= 0).
    :param seed: an int makes every call reproducible; a
        ``numpy.random.Generator`` is drawn from once per call.
    :param abelian_grouping: measure qubit-wise commuting terms together.
    :param noise: a :class:`qdframe.noise.NoiseModel` for the backend.
    :raises ValueError: a negative precision or seed.
    """

    def __init__(
        self,
        system: SystemLike = None,
        *,
        default_precision: float = DEFAULT_PRECISION,
        seed: SeedLike = None,
        abelian_grouping: bool = True,
        noise: NoiseModel | None = None,
    ) -> None:
        precision = float(default_precision)
        if not precision >= 0 or math.isinf(precision):
            raise ValueError(f"default_precision must be a finite number >= 0, got {precision}")
        self._default_precision = precision
        self._seed = validate_seed(seed)
        self._abelian_grouping = bool(abelian_grouping)
        self._noise = noise
        self._handle = SystemHandle(system)

    @property
    def default_precision(self) -> float:
        """Target precision of a PUB that gives none."""
        return self._default_precision

    @property
    def seed(self) -> SeedLike:
        """The seed given at construction."""
        return self._seed

    # -------------------------------------------------------------------- run

    def run(
        self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
    ) -> PrimitiveJob[PrimitiveResult[PubResult]]:
        """Estimate ``pubs``; ``precision`` applies to every PUB that gives none.

        PUBs are checked here with Qiskit's own rules (``ValueError`` or
        ``TypeError`` for a malformed one).
        """
        if precision is None:
            precision = self._default_precision
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        job: PrimitiveJob[PrimitiveResult[PubResult]] = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult[PubResult]:
        entropy = call_entropy(self._seed)
        with self._handle.lock:
            results = [self._run_pub(i, pub, entropy) for i, pub in enumerate(pubs)]
        return PrimitiveResult(results, metadata={"version": 2})

    def _run_pub(self, index: int, pub: EstimatorPub, entropy: int) -> PubResult:
        system = self._handle.system
        circuit = pub.circuit
        precision = float(pub.precision)
        layout = _Broadcast.of(pub)
        values = pub.parameter_values.as_array(circuit.parameters).reshape(
            layout.num_bindings, circuit.num_parameters
        )
        config = system.config_for(circuit)
        details: dict[str, Any]
        if config.distributed.communication_mode is CommunicationMode.CLASSICAL:
            shots = _shots(precision, classical=True)
            evs, stds, details = self._cutting(system, circuit, layout, values, shots, entropy)
        else:
            lowered, context = lower_circuit(
                system, circuit, seed=derived_seed(entropy, index, _PLAN), noise=self._noise
            )
            job = lowered.job(noise=self._noise)
            if precision == 0:
                shots = 0
                evs, stds = _exact(system, context, job, lowered.final, layout, values)
            else:
                shots = _shots(precision, classical=False)
                evs, stds, groups = self._sampled(
                    system, context, job, lowered.final, layout, values, shots, entropy, index
                )
                lowered.summary["measurement_groups"] = groups
            details = dict(lowered.summary)
            details["stage_seconds"] = dict(context.metrics.get("stage_seconds", {}))
        shape = layout.shape
        data = DataBin(evs=evs.reshape(shape), stds=stds.reshape(shape), shape=shape)
        metadata = {
            "target_precision": precision,
            "shots": shots,
            "circuit_metadata": circuit.metadata,
            "qdframe": details,
        }
        return PubResult(data, metadata=metadata)

    def _sampled(
        self,
        system: DistributedSystem,
        context: RunContext,
        job: BindingJob,
        final: Sequence[int],
        layout: _Broadcast,
        values: FloatArray,
        shots: int,
        entropy: int,
        index: int,
    ) -> tuple[FloatArray, FloatArray, int]:
        groups = group_paulis(layout.labels(), abelian_grouping=self._abelian_grouping)
        jobs = []
        for group in groups:
            circuit, clbits = measurement_circuit(job.circuit, group, final)
            jobs.append(
                BindingJob(
                    circuit,
                    job.parameters,
                    clbits,
                    job.backend,
                    job.backend_options,
                    job.noise,
                )
            )
        # Only the groups some observable of a parameter set needs are run for it.
        wanted: list[tuple[int, int]] = []
        for b in range(layout.num_bindings):
            needed = layout.labels(b)
            for g, group in enumerate(groups):
                if needed.intersection(group.labels):
                    wanted.append((b, g))
        items = [
            Sampling(
                jobs[g],
                tuple(values[b].tolist()),
                shots,
                derived_seed(entropy, index, _SHOTS, b, g),
            )
            for b, g in wanted
        ]
        counts = run_bindings(system, context, items)
        evs = layout.constants()
        variances = np.zeros_like(evs)
        for (b, g), group_counts in zip(wanted, counts, strict=True):
            cells = layout.cells_of(b)
            mean, variance = group_moments(
                group_counts, groups[g], [layout.observable(c) for c in cells]
            )
            evs[cells] += mean
            variances[cells] += variance
        return evs, np.sqrt(variances), len(groups)

    def _cutting(
        self,
        system: DistributedSystem,
        circuit: QuantumCircuit,
        layout: _Broadcast,
        values: FloatArray,
        shots: int,
        entropy: int,
    ) -> tuple[FloatArray, FloatArray, dict[str, Any]]:
        """The classical mode: every parameter set's observables by circuit cutting."""
        from qiskit.quantum_info import SparsePauliOp

        from qdframe.distribute.modes import run_mode

        plugins = plugins_of(system)
        config = system.config_for(circuit)
        bare = circuit.remove_final_measurements(inplace=False)
        evs = np.zeros(layout.size)
        stds = np.zeros(layout.size)
        overhead = 1.0
        for b in range(layout.num_bindings):
            cells = layout.cells_of(b)
            if not len(cells):
                continue
            bound = bare.assign_parameters(values[b].tolist()) if bare.parameters else bare
            operators = []
            for c in cells:
                terms = list(layout.observable(int(c)).items())
                operators.append(SparsePauliOp.from_list(terms, num_qubits=circuit.num_qubits))
            result = run_mode(
                "classical",
                bound,
                None,
                operators,
                config,
                shots=shots,
                seed=derived_seed(entropy, b),
                executor=system.executor(),
                plugins=plugins,
            )
            evs[cells] = result.expectation_values
            stds[cells] = result.standard_errors
            overhead = max(overhead, float(result.sampling_overhead))
        details = {"communication_mode": "classical", "sampling_overhead": overhead}
        return evs, stds, details


def _shots(precision: float, *, classical: bool) -> int:
    if precision == 0:
        if classical:
            raise ConfigError(
                "precision 0 asks for exact values, but communication_mode 'classical' "
                "estimates by sampling the cut circuits; give a precision > 0",
                key_path="distributed.communication_mode",
            )
        return 0
    return math.ceil(1.0 / precision**2)


@dataclass(frozen=True)
class _Broadcast:
    """A PUB's observables broadcast against its parameter sets, flattened.

    Cell ``c`` of the result uses parameter set ``binding[c]`` (a flat index
    into the bindings array) and observable ``observables[c]``.
    """

    shape: tuple[int, ...]
    binding: npt.NDArray[np.int64]
    observables: tuple[Mapping[str, float], ...]

    @classmethod
    def of(cls, pub: EstimatorPub) -> _Broadcast:
        param_shape = tuple(pub.parameter_values.shape)
        flat = np.arange(max(math.prod(param_shape), 1), dtype=np.int64).reshape(param_shape)
        observables = np.empty(pub.observables.shape, dtype=object)
        for position, term in zip(
            np.ndindex(pub.observables.shape), pub.observables.ravel().tolist(), strict=True
        ):
            observables[position] = term
        indices, broadcast = np.broadcast_arrays(flat, observables)
        return cls(
            shape=tuple(indices.shape),
            binding=np.ascontiguousarray(indices).reshape(-1),
            observables=tuple(broadcast.reshape(-1).tolist()),
        )

    @property
    def size(self) -> int:
        return len(self.observables)

    @property
    def num_bindings(self) -> int:
        return int(self.binding.max(initial=-1)) + 1

    def observable(self, cell: int) -> Mapping[str, float]:
        return self.observables[cell]

    def cells_of(self, binding: int) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.binding == binding)

    def labels(self, binding: int | None = None) -> set[str]:
        cells = range(self.size) if binding is None else self.cells_of(binding).tolist()
        return {label for c in cells for label in self.observables[c]}

    def constants(self) -> FloatArray:
        """Each cell's identity term (needs no measurement)."""
        return np.array(
            [
                sum(float(v) for k, v in obs.items() if not set(k) - {"I"})
                for obs in self.observables
            ],
            dtype=np.float64,
        )


def _exact(
    system: DistributedSystem,
    context: RunContext,
    job: BindingJob,
    final: Sequence[int],
    layout: _Broadcast,
    values: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Exact values: every measurement history of the lowered program, per parameter set."""
    labels = sorted(label for label in layout.labels() if set(label) - {"I"})
    tasks = [
        _ExactTask(job, tuple(values[b].tolist()), tuple(final), tuple(labels))
        for b in range(layout.num_bindings)
    ]
    expectations = execute_jobs(system, context, _exact_task, tasks)
    evs = layout.constants()
    for c in range(layout.size):
        table = expectations[int(layout.binding[c])]
        for label, coeff in layout.observable(c).items():
            if set(label) - {"I"}:
                evs[c] += float(coeff) * table[label]
    return evs, np.zeros_like(evs)


@dataclass(frozen=True)
class _ExactTask:
    job: BindingJob
    values: tuple[float, ...]
    final: tuple[int, ...]
    labels: tuple[str, ...]


def _exact_task(task: _ExactTask) -> dict[str, float]:
    """``<P>`` for each label, over the exact ensemble of the bound program."""
    from qiskit.quantum_info import Pauli, Statevector

    from qdframe.distribute.exact import simulate_branches

    circuit = task.job.bound(task.values)
    branches = simulate_branches(circuit, record=())
    out = dict.fromkeys(task.labels, 0.0)
    qargs = list(task.final)
    for branch in branches:
        state = Statevector(_full_state(branch, circuit.num_qubits))
        for label in task.labels:
            value = state.expectation_value(Pauli(label), qargs=qargs)
            out[label] += branch.probability * float(np.real(value))
    return out


def _full_state(branch: Any, num_qubits: int) -> npt.NDArray[np.complex128]:
    """A history's state over every qubit of the circuit (Qiskit order)."""
    statevector = getattr(branch, "statevector", None)
    if callable(statevector):
        full: npt.NDArray[np.complex128] = statevector(num_qubits)
        return full
    # Histories that hold the full state directly.
    state: npt.NDArray[np.complex128] = branch.state
    return state
