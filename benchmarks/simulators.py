"""Benchmark: qdframe's numpy backend against Qiskit Aer's statevector method.

Cases are QFT, GHZ, a seeded ``random_circuit`` of depth 20 and a seeded
quantum volume circuit, at each requested width. For every case the two
simulators run alternately in this process (numpy, Aer, numpy, Aer, ...), and
the median of the repeats is reported, together with:

* the ratio numpy / Aer of wall-clock medians (below 1 means numpy is faster),
  and the CPU seconds each used (all threads), which say more than wall time
  when other processes compete for the cores;
* a bandwidth bound: ``state bytes x 2 x passes / bandwidth``, where
  ``passes`` is the number of fused blocks the numpy backend applied and
  ``bandwidth`` is measured with an in-place numpy multiply over an array of
  the same size; ``x bound`` says how far the measured time is from it.

Both simulators get the same precision and the same number of threads; Aer
otherwise keeps its default options (its own gate fusion included). The numpy
backend receives each circuit as built (it executes standard gates and
``unitary`` directly); Aer receives the circuit transpiled to its basis at
optimisation level 0, which keeps the gate sequence. Both return the final
statevector, and the two states are checked to agree.

Run ``python benchmarks/simulators.py --sizes 16,20`` for a quick look;
``--out results.json`` writes the table as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import quantum_volume
from qiskit.circuit.random import random_circuit
from qiskit.synthesis.qft import synth_qft_full

import qdframe

CASES = ("qft", "ghz", "random", "qv")


def ghz(num_qubits: int) -> QuantumCircuit:
    circuit = QuantumCircuit(num_qubits, name=f"ghz_{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    return circuit


def build(case: str, num_qubits: int, seed: int) -> QuantumCircuit:
    """The benchmark circuit ``case`` on ``num_qubits`` qubits."""
    if case == "qft":
        return synth_qft_full(num_qubits)
    if case == "ghz":
        return ghz(num_qubits)
    if case == "random":
        return random_circuit(num_qubits, 20, max_operands=3, seed=seed)
    if case == "qv":
        return quantum_volume(num_qubits, seed=seed)
    raise ValueError(f"unknown case {case!r}; known: {', '.join(CASES)}")


@dataclass
class Row:
    case: str
    qubits: int
    numpy_s: float
    aer_s: float
    ratio: float
    passes: int
    gates: int
    bound_s: float
    x_bound: float
    fidelity: float
    numpy_cpu_s: float
    aer_cpu_s: float
    numpy_runs: list[float]
    aer_runs: list[float]


def pass_bandwidth(num_qubits: int, dtype: np.dtype[Any], repeats: int = 5) -> float:
    """Bytes per second moved by an in-place multiply over a state-sized array."""
    array = np.ones(1 << num_qubits, dtype=dtype)
    factor = dtype.type(1.0000001)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.multiply(array, factor, out=array)
        best = min(best, time.perf_counter() - started)
    return 2.0 * array.nbytes / best


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, process CPU seconds (all threads) and the value of ``run()``."""
    started, cpu = time.perf_counter(), time.process_time()
    value = run()
    return time.perf_counter() - started, time.process_time() - cpu, value


def bench_case(
    case: str,
    num_qubits: int,
    *,
    backend: Any,
    aer: Any,
    repeats: int,
    seed: int,
    bandwidth: float,
    itemsize: int,
) -> Row:
    circuit = build(case, num_qubits, seed)
    aer_circuit = transpile(circuit, aer, optimization_level=0)
    aer_circuit.save_statevector()
    numpy_runs: list[float] = []
    aer_runs: list[float] = []
    numpy_cpu: list[float] = []
    aer_cpu: list[float] = []
    numpy_state: Any = None
    aer_state: Any = None
    metadata: dict[str, Any] = {}
    for _ in range(repeats):
        numpy_state = aer_state = None  # free the previous states before timing
        seconds, cpu, result = _timed(lambda: backend.run(circuit, shots=0))
        numpy_runs.append(seconds)
        numpy_cpu.append(cpu)
        numpy_state, metadata = result.statevector, result.metadata
        seconds, cpu, aer_result = _timed(lambda: aer.run(aer_circuit, shots=1).result())
        aer_runs.append(seconds)
        aer_cpu.append(cpu)
        aer_state = np.asarray(aer_result.get_statevector())
    assert numpy_state is not None and aer_state is not None
    fidelity = float(abs(np.vdot(aer_state, numpy_state)) ** 2)
    fusion = metadata["fusion"]
    passes = int(fusion["dense_blocks"] + fusion["diagonal_blocks"])
    numpy_s = statistics.median(numpy_runs)
    aer_s = statistics.median(aer_runs)
    bound = itemsize * (1 << num_qubits) * 2.0 * passes / bandwidth
    return Row(
        case=case,
        qubits=num_qubits,
        numpy_s=numpy_s,
        aer_s=aer_s,
        ratio=numpy_s / aer_s,
        passes=passes,
        gates=int(fusion["gates"]),
        bound_s=bound,
        x_bound=numpy_s / bound if bound else float("nan"),
        fidelity=fidelity,
        numpy_cpu_s=statistics.median(numpy_cpu),
        aer_cpu_s=statistics.median(aer_cpu),
        numpy_runs=numpy_runs,
        aer_runs=aer_runs,
    )


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes wants integers like 16,20; got {text!r}"
        ) from None
    if not sizes or any(n < 2 or n > 34 for n in sizes):
        raise argparse.ArgumentTypeError(f"--sizes wants widths from 2 to 34; got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_parse_sizes, default=[16, 20, 22, 24])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument("--repeats", type=int, default=3, help="runs per simulator (median)")
    parser.add_argument("--precision", choices=("complex128", "complex64"), default="complex128")
    parser.add_argument("--threads", type=int, default=None, help="default: available cores")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="write results as JSON to this path")
    args = parser.parse_args(argv)

    try:
        from qiskit_aer import AerSimulator
    except ImportError:
        print("qiskit-aer is needed: pip install 'qdframe[aer]'", file=sys.stderr)
        return 2
    from qdframe_numpy.parallel import available_cores, blas_threads

    threads = args.threads or available_cores()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    backend = qdframe.get_backend("numpy", precision=args.precision, threads=threads)
    aer = AerSimulator(
        method="statevector",
        precision="double" if args.precision == "complex128" else "single",
        max_parallel_threads=threads,
    )
    dtype = np.dtype(args.precision)
    environment = {
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cores": available_cores(),
        "numpy": np.__version__,
        "qdframe": qdframe.__version__,
        "precision": args.precision,
        "threads_numpy_backend": threads,
        "threads_aer": threads,
        "blas_threads_outside_runs": blas_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "repeats": args.repeats,
    }
    print(
        f"numpy backend vs Aer statevector, {args.precision}, {threads} thread(s) each, "
        f"median of {args.repeats}; BLAS threads outside runs: {blas_threads()}"
    )
    header = (
        f"{'case':<7}{'qubits':>7}{'numpy s':>10}{'aer s':>10}{'ratio':>8}"
        f"{'passes':>8}{'bound s':>10}{'x bound':>9}{'cpu np':>9}{'cpu aer':>9}"
    )
    print(header)
    rows: list[Row] = []
    for num_qubits in args.sizes:
        bandwidth = pass_bandwidth(num_qubits, dtype)
        for case in cases:
            row = bench_case(
                case,
                num_qubits,
                backend=backend,
                aer=aer,
                repeats=args.repeats,
                seed=args.seed,
                bandwidth=bandwidth,
                itemsize=dtype.itemsize,
            )
            rows.append(row)
            print(
                f"{row.case:<7}{row.qubits:>7}{row.numpy_s:>10.3f}{row.aer_s:>10.3f}"
                f"{row.ratio:>8.2f}{row.passes:>8}{row.bound_s:>10.3f}{row.x_bound:>9.1f}"
                f"{row.numpy_cpu_s:>9.2f}{row.aer_cpu_s:>9.2f}",
                flush=True,
            )
            if row.fidelity < 1 - 1e-6:
                print(f"  WARNING: states differ, fidelity {row.fidelity:.9f}", flush=True)
        bandwidth_gb = bandwidth / 1e9
        print(f"  ({num_qubits} qubits: in-place pass bandwidth {bandwidth_gb:.1f} GB/s)")
    summary: dict[str, Any] = {}
    for num_qubits in args.sizes:
        ratios = [r.ratio for r in rows if r.qubits == num_qubits]
        summary[str(num_qubits)] = {
            "median_ratio": statistics.median(ratios),
            "worst_ratio": max(ratios),
        }
        print(
            f"{num_qubits} qubits: median ratio {statistics.median(ratios):.2f}, "
            f"worst {max(ratios):.2f}"
        )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(
                {"environment": environment, "rows": [asdict(r) for r in rows], "summary": summary},
                handle,
                indent=2,
            )
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
