"""Classical communication mode: cut the circuit so each piece fits one node.

:func:`cut_for_nodes` asks qiskit-addon-cutting's ``find_cuts`` for gate and
wire cuts that leave no piece wider than ``qubits_per_node``, and refuses
(:class:`SamplingOverheadError`) when the sampling overhead of those cuts is
above ``[communication] max_sampling_overhead``. :func:`run_classical` then
generates the sub-experiments, runs them through the executor (so Dask
spreads them over a cluster) and reconstructs the expectation values of the
requested observables, with a standard error from batches of shots.
"""

from __future__ import annotations

import importlib
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.plugin import EXIT_USAGE, CircuitError, ConfigError, ResourceError
from qdframe_cutting.experiments import (
    ExperimentJob,
    JobOutput,
    primitive_results,
    register_bits,
    run_jobs,
)
from qdframe_cutting.observables import as_observables, combine, pauli_terms

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import LoadedPlugins, SystemConfig

__all__ = ["CutPlan", "CuttingResult", "SamplingOverheadError", "cut_for_nodes", "run_classical"]


class SamplingOverheadError(ResourceError):
    """Cutting would need more samples than the configuration allows."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class CutPlan:
    """A circuit cut into pieces that fit the nodes.

    ``cuts`` lists ``(kind, instruction index)`` as ``find_cuts`` reports
    them; ``subcircuits`` and ``subobservables`` are keyed by piece label.
    """

    circuit: QuantumCircuit
    observables: list[Any]
    terms: Any
    subcircuits: dict[Any, QuantumCircuit]
    subobservables: dict[Any, Any]
    cuts: list[tuple[str, int]]
    sampling_overhead: float
    qubits_per_node: int

    @property
    def piece_qubits(self) -> dict[str, int]:
        return {str(k): c.num_qubits for k, c in self.subcircuits.items()}


@dataclass(frozen=True)
class CuttingResult:
    """Expectation values reconstructed from cut sub-experiments.

    ``standard_errors`` come from the spread of ``batches`` independent
    estimates (shots split round-robin); ``payload_bytes`` is what the
    workers sent back, ``raw_bytes`` what it would have been uncompressed.
    """

    expectation_values: list[float]
    standard_errors: list[float]
    sampling_overhead: float
    cuts: list[tuple[str, int]]
    piece_qubits: dict[str, int]
    subexperiments: int
    shots: int
    raw_bytes: int
    payload_bytes: int
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "expectation_values": self.expectation_values,
            "standard_errors": self.standard_errors,
            "sampling_overhead": self.sampling_overhead,
            "cuts": [list(c) for c in self.cuts],
            "piece_qubits": self.piece_qubits,
            "subexperiments": self.subexperiments,
            "shots_per_subexperiment": self.shots,
            "raw_bytes": self.raw_bytes,
            "payload_bytes": self.payload_bytes,
            "compression_saving": 1 - self.payload_bytes / self.raw_bytes if self.raw_bytes else 0,
            **self.details,
        }


def _addon() -> Any:
    """qiskit-addon-cutting (imported by name: it ships without type information)."""
    try:
        return importlib.import_module("qiskit_addon_cutting")
    except ImportError:
        raise ConfigError(
            "circuit cutting needs qiskit-addon-cutting: pip install 'qdframe[cutting]'"
        ) from None


def _unitary_part(circuit: QuantumCircuit) -> QuantumCircuit:
    stripped = circuit.remove_final_measurements(inplace=False)
    if stripped.num_clbits or any(
        i.operation.name in ("measure", "reset") or getattr(i.operation, "blocks", None)
        for i in stripped.data
    ):
        raise CircuitError(
            "classical mode cuts circuits without mid-circuit measurements, resets or "
            "conditions (the observables say what is measured)"
        )
    return stripped


def cut_for_nodes(
    circuit: QuantumCircuit,
    observables: Any,
    *,
    qubits_per_node: int,
    max_sampling_overhead: float,
    seed: int = 0,
    max_backjumps: int = 2000,
) -> CutPlan:
    """Cut ``circuit`` into pieces of at most ``qubits_per_node`` qubits.

    :raises SamplingOverheadError: the cuts cost more than ``max_sampling_overhead``.
    :raises CircuitError: the circuit measures mid-way, resets or branches.
    """
    from qiskit import transpile

    addon = _addon()

    unitary = _unitary_part(circuit)
    ops = as_observables(observables, unitary.num_qubits)
    terms = pauli_terms(ops)
    if qubits_per_node < 1:
        raise ConfigError(f"qubits_per_node must be >= 1, got {qubits_per_node}")
    # find_cuts handles one- and two-qubit gates; bigger ones are decomposed.
    if any(len(i.qubits) > 2 for i in unitary.data):
        unitary = transpile(unitary, basis_gates=["u", "cx", "cp"], optimization_level=0)
    metadata: dict[str, Any]
    if unitary.num_qubits <= qubits_per_node:
        cut, metadata = unitary, {"cuts": [], "sampling_overhead": 1.0}
    else:
        cut, metadata = addon.find_cuts(
            unitary,
            addon.OptimizationParameters(
                seed=seed, max_gamma=max(max_sampling_overhead, 1.0) * 1.0001,
                max_backjumps=max_backjumps,
            ),
            addon.DeviceConstraints(qubits_per_subcircuit=qubits_per_node),
        )  # fmt: skip
    overhead = float(metadata["sampling_overhead"])
    if overhead > max_sampling_overhead:
        raise SamplingOverheadError(
            f"cutting {circuit.name!r} ({circuit.num_qubits} qubits) into pieces of at most "
            f"{qubits_per_node} qubits needs a sampling overhead of {overhead:.4g}, above "
            f"communication.max_sampling_overhead = {max_sampling_overhead:.4g}; raise that "
            "limit, give the nodes more qubits, or use communication_mode 'quantum' or 'hybrid'"
        )
    wired = addon.cut_wires(cut)
    expanded = addon.expand_observables(terms, unitary, wired)
    problem = addon.partition_problem(wired, observables=expanded)
    wide = {
        k: c.num_qubits for k, c in problem.subcircuits.items() if c.num_qubits > qubits_per_node
    }
    if wide:  # pragma: no cover - find_cuts honours the constraint
        raise ResourceError(f"pieces wider than {qubits_per_node} qubits remain: {wide}")
    return CutPlan(
        circuit=unitary,
        observables=ops,
        terms=terms,
        subcircuits=dict(problem.subcircuits),
        subobservables=dict(problem.subobservables),
        cuts=[(str(kind), int(index)) for kind, index in metadata["cuts"]],
        sampling_overhead=overhead,
        qubits_per_node=qubits_per_node,
    )


def _reconstruct(
    outputs_by_label: dict[Any, list[JobOutput]],
    coefficients: Any,
    plan: CutPlan,
    batches: int,
) -> tuple[list[float], list[float]]:
    reconstruct_expectation_values = _addon().reconstruct_expectation_values
    results = {k: primitive_results(v) for k, v in outputs_by_label.items()}
    values = reconstruct_expectation_values(results, coefficients, plan.subobservables)
    full = combine(plan.observables, plan.terms, values)
    if batches < 2:
        return full, [math.nan] * len(full)
    estimates = []
    for b in range(batches):
        results = {k: primitive_results(v, b, batches) for k, v in outputs_by_label.items()}
        part = reconstruct_expectation_values(results, coefficients, plan.subobservables)
        estimates.append(combine(plan.observables, plan.terms, part))
    spread = np.std(np.asarray(estimates), axis=0, ddof=1) / math.sqrt(batches)
    return full, [float(x) for x in spread]


def run_classical(
    circuit: QuantumCircuit,
    observables: Any,
    config: SystemConfig | None = None,
    *,
    shots: int = 2000,
    seed: int = 0,
    num_samples: float = math.inf,
    backend: str = "numpy",
    batches: int = 10,
    executor: Any = None,
    plugins: LoadedPlugins,
) -> CuttingResult:
    """Estimate ``observables`` on ``circuit`` by circuit cutting (see the module docstring).

    :param config: ``[distributed] qubits_per_node`` and ``[communication]
        max_sampling_overhead`` set the cut; ``[resources] executor`` runs the jobs.
    :param shots: shots per sub-experiment.
    :param num_samples: QPD samples; ``inf`` enumerates every term exactly.
    :param batches: shot batches for the standard error (at least 2 to get one).
    :raises SamplingOverheadError: the cut is too expensive for the configuration.
    """
    from qdframe.plugin import SystemConfig

    generate_cutting_experiments = _addon().generate_cutting_experiments

    config = config if config is not None else SystemConfig()
    if shots < batches or batches < 1:
        raise ConfigError(f"need shots >= batches >= 1, got shots={shots}, batches={batches}")
    started = time.perf_counter()
    plan = cut_for_nodes(
        circuit,
        observables,
        qubits_per_node=config.distributed.qubits_per_node,
        max_sampling_overhead=config.communication.max_sampling_overhead,
        seed=seed,
    )
    experiments, coefficients = generate_cutting_experiments(
        plan.subcircuits, plan.subobservables, num_samples
    )
    assert isinstance(experiments, dict)
    jobs: list[ExperimentJob] = []
    labels: list[Any] = []
    rng = np.random.default_rng(seed)
    for label, circuits in experiments.items():
        for experiment in circuits:
            obs_bits, qpd_bits = register_bits(experiment)
            jobs.append(
                ExperimentJob(
                    experiment, shots, int(rng.integers(2**31)), backend, obs_bits, qpd_bits
                )
            )
            labels.append(label)
    cut_s = time.perf_counter() - started
    outputs = run_jobs(jobs, config, executor=executor, plugins=plugins)
    by_label: dict[Any, list[JobOutput]] = {k: [] for k in experiments}
    for label, output in zip(labels, outputs, strict=True):
        by_label[label].append(output)
    values, errors = _reconstruct(by_label, coefficients, plan, batches)
    return CuttingResult(
        expectation_values=[float(v) for v in values],
        standard_errors=errors,
        sampling_overhead=plan.sampling_overhead,
        cuts=plan.cuts,
        piece_qubits=plan.piece_qubits,
        subexperiments=len(jobs),
        shots=shots,
        raw_bytes=sum(o.raw_bytes for o in outputs),
        payload_bytes=sum(len(o.payload) for o in outputs),
        details={
            "qubits_per_node": plan.qubits_per_node,
            "cut_seconds": cut_s,
            "total_seconds": time.perf_counter() - started,
            "backend": backend,
            "batches": batches,
        },
    )
