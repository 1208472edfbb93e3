"""Hybrid communication mode: some bursts by EPR protocols, the rest cut.

:func:`run_hybrid` takes a circuit and its plan, lets
:func:`qdframe.distribute.choose_cuts` pick the bursts whose gates are cheaper
to cut than to cat-entangle, replaces those gates by quasi-probability
decompositions (qiskit-addon-cutting's ``cut_gates``), and lowers every
resulting sub-experiment in quantum mode with the plan's allocation, so the
remaining remote gates still use EPR pairs. The sub-experiments run through
the executor and the expectation values are reconstructed as in classical
mode.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.plugin import (
    AllocationProblem,
    CircuitError,
    ConfigError,
    GateArray,
    HybridWeights,
    PlanLike,
    choose_cuts,
    evaluate,
    lower,
    matching_circuit,
)
from qdframe_cutting.classical import CuttingResult, SamplingOverheadError, _addon
from qdframe_cutting.experiments import ExperimentJob, primitive_results, register_bits, run_jobs
from qdframe_cutting.observables import as_observables, combine, pauli_terms

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import LoadedPlugins, SystemConfig

__all__ = ["run_hybrid"]


def run_hybrid(
    circuit: QuantumCircuit,
    plan: PlanLike,
    observables: Any,
    config: SystemConfig | None = None,
    *,
    weights: HybridWeights | None = None,
    shots: int = 2000,
    seed: int = 0,
    num_samples: float = math.inf,
    backend: str = "numpy",
    batches: int = 10,
    executor: Any = None,
    plugins: LoadedPlugins,
) -> CuttingResult:
    """Estimate ``observables`` with the hybrid mode (see the module docstring).

    :raises ConfigError: the plan's allocation is time-sliced (sub-experiments
        add instructions, so slice boundaries would move), or bad numbers.
    :raises CircuitError: the circuit measures mid-way or conditions on bits.
    :raises SamplingOverheadError: the chosen cuts exceed ``max_sampling_overhead``.
    """
    from qiskit.quantum_info import PauliList

    from qdframe.plugin import SystemConfig

    addon = _addon()
    cut_gates = addon.cut_gates
    generate_cutting_experiments = addon.generate_cutting_experiments
    reconstruct_expectation_values = addon.reconstruct_expectation_values

    config = config if config is not None else SystemConfig()
    if not plan.allocation.is_static:
        raise ConfigError(
            "hybrid execution needs a static allocation: cut gates become several "
            "instructions, which would move the boundaries of time slices"
        )
    if shots < batches or batches < 1:
        raise ConfigError(f"need shots >= batches >= 1, got shots={shots}, batches={batches}")
    started = time.perf_counter()
    source = matching_circuit(circuit, plan)
    if source.num_clbits:
        stripped = source.remove_final_measurements(inplace=False)
        if stripped.num_clbits:
            raise CircuitError(
                "hybrid mode runs circuits without mid-circuit measurements or conditions "
                "(the observables say what is measured)"
            )
        source = stripped
    weights = weights if weights is not None else HybridWeights.from_config(config)
    problem = AllocationProblem(GateArray.from_circuit(source), plan.problem.topology)
    cost = evaluate(problem, plan.allocation)
    choice = choose_cuts(source, problem, cost, weights)
    if choice.sampling_overhead > weights.max_sampling_overhead:  # pragma: no cover
        raise SamplingOverheadError(f"sampling overhead {choice.sampling_overhead:.4g} too large")
    bursts = cost.bursts
    assert bursts is not None
    positions: list[int] = []
    for b in sorted(choice.cut_bursts):
        lo, hi = int(bursts.gate_ptr[b]), int(bursts.gate_ptr[b + 1])
        positions.extend(int(x) for x in bursts.instructions[lo:hi])
    ops = as_observables(observables, source.num_qubits)
    terms: PauliList = pauli_terms(ops)
    qpd_circuit, _ = cut_gates(source, sorted(positions)) if positions else (source, [])
    experiments, coefficients = generate_cutting_experiments(qpd_circuit, terms, num_samples)
    assert isinstance(experiments, list)
    rng = np.random.default_rng(seed)
    jobs: list[ExperimentJob] = []
    ebits: list[int] = []
    for experiment in experiments:
        sub_problem = AllocationProblem(GateArray.from_circuit(experiment), plan.problem.topology)
        program = lower(sub_problem, plan.allocation, circuit=experiment)
        ebits.append(program.ebits)
        built = program.to_circuit()
        obs_bits, qpd_bits = register_bits(built)
        jobs.append(
            ExperimentJob(built, shots, int(rng.integers(2**31)), backend, obs_bits, qpd_bits)
        )
    outputs = run_jobs(jobs, config, executor=executor, plugins=plugins)
    values = reconstruct_expectation_values(primitive_results(outputs), coefficients, terms)
    full = combine(ops, terms, values)
    errors = [math.nan] * len(full)
    if batches > 1:
        estimates = [
            combine(ops, terms, reconstruct_expectation_values(
                primitive_results(outputs, b, batches), coefficients, terms))
            for b in range(batches)
        ]  # fmt: skip
        spread = np.std(np.asarray(estimates), axis=0, ddof=1) / math.sqrt(batches)
        errors = [float(x) for x in spread]
    return CuttingResult(
        expectation_values=[float(v) for v in full],
        standard_errors=errors,
        sampling_overhead=choice.sampling_overhead,
        cuts=[("Gate Cut", p) for p in sorted(positions)],
        piece_qubits={},
        subexperiments=len(jobs),
        shots=shots,
        raw_bytes=sum(o.raw_bytes for o in outputs),
        payload_bytes=sum(len(o.payload) for o in outputs),
        details={
            "quantum_mode_ebits": cost.ebits,
            "ebits_saved_by_cuts": choice.ebits_saved,
            "bursts_cut": len(choice.cut_bursts),
            "ebits_per_subexperiment": {"min": min(ebits), "max": max(ebits)},
            "total_seconds": time.perf_counter() - started,
            "backend": backend,
            "batches": batches,
        },
    )
