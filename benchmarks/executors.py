"""Throughput of independent circuit jobs: serial vs the local pool vs Dask, numpy vs Aer.

Runs a batch of random circuits (default: 200 circuits of 12 qubits, 1000
shots each) in this process, then through the ``local`` executor (threads and
processes) and the ``dask`` executor on a LocalCluster, and prints circuits
per second and the speedup over the fastest serial run of the same backend:

    python benchmarks/executors.py                      # the full batch
    python benchmarks/executors.py --circuits 40 --no-dask
    python benchmarks/executors.py --backends aer --transport pickle --json

How it measures:

* serial runs use the circuit objects directly, with the backend's native
  threads left alone and limited to one (numpy's BLAS threads; Aer's
  ``max_parallel_threads``); the faster of the two is the baseline;
* executor jobs carry each circuit serialised (``--transport``: QPY bytes by
  default, or the pickled ``QuantumCircuit``; serialising is inside the timed
  region), run with one native thread each, and must give exactly the serial
  counts (same seeds);
* pools are warmed up (workers started, modules imported) before timing; the
  Dask cluster's start-up time is printed apart;
* each measurement is the fastest of ``--repeat`` runs, and the load average
  is printed: on a shared machine other processes' load shows up as noise;
* the ``cpu s`` column is the CPU time the mode used (this process and the
  worker processes), the least of the ``--repeat`` runs (other processes
  slow the same work down in CPU time too, through shared caches and memory;
  the least is the run they disturbed least), from which the last lines
  project what worker processes would reach on an otherwise idle machine;
  ``peak MB`` is the summed peak resident size of this process and the
  workers during the fastest run (the kernel's high-water mark, reset before
  each run where Linux allows);
* the closing table puts Dask beside serial and the local process pool:
  wall-time ratios and CPU-time projections, measured in the same run.

Targets on a 2-core machine: an executor at least 1.6x faster than serial;
Dask with 2 workers at least 1.5x serial in the CPU-time projection and
within 10% of the local process pool.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psutil
from qiskit import QuantumCircuit, qpy
from qiskit.circuit.random import random_circuit

from qdframe.executors import Backoff
from qdframe.protocols import Executor

TARGET_SPEEDUP = 1.6
TARGET_DASK = 1.5

#: One job: backend name, backend options, circuit (object or QPY bytes), shots, seed.
Job = tuple[str, dict[str, Any], QuantumCircuit | bytes, int, int]


def simulate(job: Job) -> dict[str, int]:
    """Run one circuit; what every executor maps over the batch."""
    name, options, circuit, shots, seed = job
    if isinstance(circuit, bytes):
        circuit = qpy.load(io.BytesIO(circuit))[0]
    if name == "aer":
        from qdframe_aer.backend import AerBackend

        backend: Any = AerBackend(**options)
    else:
        from qdframe_numpy.backend import NumpyBackend

        backend = NumpyBackend(**options)
    counts: dict[str, int] = backend.run(circuit, shots=shots, seed=seed).counts
    return counts


def _warm(name: str) -> int:
    """Import the backend's modules in a worker; slow enough that every worker gets one."""
    simulate((name, _one_thread(name), random_circuit(2, 2, seed=0), 1, 0))
    time.sleep(0.2)
    return os.getpid()


def _one_thread(backend: str) -> dict[str, Any]:
    return {"device": "cpu", "max_parallel_threads": 1} if backend == "aer" else {}


def _qpy(circuit: QuantumCircuit) -> bytes:
    buffer = io.BytesIO()
    qpy.dump(circuit, buffer)
    return buffer.getvalue()


@dataclass
class Row:
    backend: str
    executor: str
    workers: int
    seconds: float
    circuits_per_s: float
    speedup: float
    cpu_s: float
    matches_serial: bool
    peak_mb: float = 0.0


def _cpu_s(workers: Sequence[int]) -> float:
    """CPU seconds used so far by this process (all threads) and by ``workers``."""
    total = time.process_time()
    for pid in workers:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def _reset_peaks(pids: Sequence[int]) -> None:
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:  # not Linux or not allowed: the running maximum is read
            pass


def _peak_mb(pids: Sequence[int]) -> float:
    """Summed peak resident size of ``pids`` (VmHWM; current RSS where unknown)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                lines = [line for line in handle if line.startswith("VmHWM:")]
            total += int(lines[0].split()[1]) / 1024
        except (OSError, IndexError):
            total += psutil.Process(pid).memory_info().rss / 2**20
    return total


def _timed(
    run: Callable[[], list[dict[str, int]]], repeat: int, workers: Sequence[int] = ()
) -> tuple[float, float, float, list[dict[str, int]]]:
    """Wall seconds and peak MB of the fastest of ``repeat`` runs, the least CPU
    seconds of any of them (the others measure other processes' load), and
    the results."""
    best, cpu, peak = float("inf"), float("inf"), 0.0
    pids = [os.getpid(), *workers]
    results: list[dict[str, int]] = []
    for _ in range(repeat):
        _reset_peaks(pids)
        cpu_start, start = _cpu_s(workers), time.perf_counter()
        results = run()
        wall = time.perf_counter() - start
        cpu = min(cpu, _cpu_s(workers) - cpu_start)
        if wall < best:
            best, peak = wall, _peak_mb(pids)
    return best, cpu, peak, results


def _serial_variants(backend: str) -> list[tuple[str, dict[str, Any], int | None]]:
    """Ways to run the batch in this process: (label, backend options, BLAS threads)."""
    if backend == "aer":
        return [
            ("serial (Aer threads)", {"device": "cpu"}, None),
            ("serial (1 Aer thread)", _one_thread("aer"), None),
        ]
    return [("serial (BLAS threads)", {}, None), ("serial (1 BLAS thread)", {}, 1)]


def _serial(jobs: list[Job], blas_threads: int | None) -> list[dict[str, int]]:
    if blas_threads is None:
        return [simulate(j) for j in jobs]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads):
        return [simulate(j) for j in jobs]


def _executors(args: argparse.Namespace) -> list[tuple[str, Callable[[], Executor]]]:
    from qdframe_executors.local import LocalExecutor

    backoff = Backoff(initial_s=0.05)

    def local(kind: str) -> Callable[[], Executor]:
        return lambda: LocalExecutor(kind=kind, workers=args.workers, backoff=backoff)

    chosen = [("local-threads", local("threads")), ("local-processes", local("processes"))]
    if args.dask:
        from qdframe_dask.executor import DaskExecutor

        chosen.append(
            ("dask-localcluster", lambda: DaskExecutor(workers=args.workers, backoff=backoff))
        )
    return chosen


def _run_backend(
    backend: str, circuits: list[QuantumCircuit], args: argparse.Namespace
) -> list[Row]:
    _warm(backend)
    shots, n = args.shots, len(circuits)
    serial_rows: list[Row] = []
    reference: list[dict[str, int]] | None = None
    for label, options, blas in _serial_variants(backend):
        jobs: list[Job] = [(backend, options, c, shots, 7 + i) for i, c in enumerate(circuits)]
        seconds, cpu, peak, results = _timed(lambda j=jobs, b=blas: _serial(j, b), args.repeat)
        reference = reference if reference is not None else results
        serial_rows.append(
            Row(backend, label, 1, seconds, n / seconds, 1.0, cpu, results == reference, peak)
        )
    baseline = min(r.seconds for r in serial_rows)
    for row in serial_rows:
        row.speedup = baseline / row.seconds
    rows = list(serial_rows)
    for row in rows:
        _report(row, args)

    def batch() -> list[Job]:
        ship: Callable[[QuantumCircuit], Any] = _qpy if args.transport == "qpy" else (lambda c: c)
        options = _one_thread(backend)
        return [(backend, options, ship(c), shots, 7 + i) for i, c in enumerate(circuits)]

    for name, make in _executors(args):
        started = time.perf_counter()
        with make() as executor:
            startup = time.perf_counter() - started
            pids = sorted(set(executor.map(_warm, [backend] * (4 * args.workers))) - {os.getpid()})
            seconds, cpu, peak, results = _timed(
                lambda e=executor: e.map(simulate, batch(), max_retries=1), args.repeat, pids
            )
        if name.startswith("dask") and not args.json:
            print(f"  ({name}: cluster started in {startup:.1f} s, not counted)")
        row = Row(
            backend,
            name,
            args.workers,
            seconds,
            n / seconds,
            baseline / seconds,
            cpu,
            results == reference,
            peak,
        )
        rows.append(row)
        _report(row, args)
    return rows


def _projections(rows: list[Row], workers: int) -> dict[str, float]:
    """Speedups an idle machine would give, from the CPU each mode consumed.

    A mode that used ``c`` CPU seconds for work the fastest serial run did in
    ``s`` can at best spread ``c`` over ``min(workers, cores)`` cores. This
    does not depend on what else the machine was doing, unlike wall time. It
    holds for worker processes only: threads also wait for the GIL, which
    costs time but no CPU.
    """
    cores = min(workers, os.cpu_count() or 1)
    projected: dict[str, float] = {}
    for backend in dict.fromkeys(r.backend for r in rows):
        mine = [r for r in rows if r.backend == backend]
        serial = min((r for r in mine if r.workers == 1), key=lambda r: r.seconds)
        for row in mine:
            if row.workers > 1 and row.cpu_s > 0 and "threads" not in row.executor:
                projected[f"{backend}/{row.executor}"] = cores * serial.cpu_s / row.cpu_s
    return projected


def _print_dask_table(rows: list[Row], projections: dict[str, float]) -> None:
    """Dask beside serial and the local process pool, per backend, from this run."""
    print(
        f"\n{'backend':<7} {'dask/serial wall':>17} {'dask/processes wall':>20} "
        f"{'dask proj':>10} {'processes proj':>15} {'dask/processes proj':>20} "
        f"{'dask MB':>8} {'processes MB':>13}"
    )
    for backend in dict.fromkeys(r.backend for r in rows):
        mine = {r.executor: r for r in rows if r.backend == backend}
        dask, pool = mine.get("dask-localcluster"), mine.get("local-processes")
        if dask is None or pool is None:
            continue
        serial = min((r for r in mine.values() if r.workers == 1), key=lambda r: r.seconds)
        dask_proj = projections.get(f"{backend}/{dask.executor}", 0.0)
        pool_proj = projections.get(f"{backend}/{pool.executor}", 0.0)
        ratio = dask_proj / pool_proj if pool_proj else 0.0
        met = "met" if dask_proj >= TARGET_DASK and ratio >= 0.9 else "NOT met"
        print(
            f"{backend:<7} {serial.seconds / dask.seconds:>16.2f}x "
            f"{pool.seconds / dask.seconds:>19.2f}x {dask_proj:>9.2f}x {pool_proj:>14.2f}x "
            f"{ratio:>19.2f}x {dask.peak_mb:>8.0f} {pool.peak_mb:>13.0f}   "
            f"(target {TARGET_DASK}x and within 10% of processes: {met})"
        )


def _report(row: Row, args: argparse.Namespace) -> None:
    if args.json:
        return
    match = "yes" if row.matches_serial else "NO"
    print(
        f"{row.backend:<6} {row.executor:<23} {row.workers:>7} {row.seconds:>9.2f} "
        f"{row.circuits_per_s:>11.1f} {row.speedup:>8.2f}x {row.cpu_s:>8.2f} "
        f"{row.peak_mb:>8.0f} {match:>7}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--circuits", type=int, default=200, help="circuits in the batch")
    parser.add_argument("--qubits", type=int, default=12, help="qubits per circuit")
    parser.add_argument("--depth", type=int, default=12, help="layers per random circuit")
    parser.add_argument("--shots", type=int, default=1000, help="shots per circuit")
    parser.add_argument("--workers", type=int, default=2, help="pool and cluster workers")
    parser.add_argument("--backends", nargs="+", default=["numpy", "aer"], choices=["numpy", "aer"])
    parser.add_argument(
        "--transport",
        choices=["qpy", "pickle"],
        default="qpy",
        help="how executor jobs carry circuits",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement; the fastest counts"
    )
    parser.add_argument("--no-dask", dest="dask", action="store_false", help="skip Dask")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    circuits = [
        random_circuit(args.qubits, args.depth, max_operands=2, measure=True, seed=1000 + i)
        for i in range(args.circuits)
    ]
    if not args.json:
        print(
            f"{args.circuits} random circuits x {args.qubits} qubits (depth {args.depth}), "
            f"{args.shots} shots each; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}; jobs carry {args.transport}; best of {args.repeat}\n"
        )
        print(
            f"{'backend':<6} {'executor':<23} {'workers':>7} {'time s':>9} "
            f"{'circuits/s':>11} {'speedup':>9} {'cpu s':>8} {'peak MB':>8} {'matches':>7}"
        )
    rows = [row for backend in args.backends for row in _run_backend(backend, circuits, args)]
    best = max((r.speedup for r in rows if r.workers > 1), default=0.0)
    projections = _projections(rows, args.workers)
    if args.json:
        document = {
            "rows": [asdict(r) for r in rows],
            "target_speedup": TARGET_SPEEDUP,
            "idle_machine_projection": projections,
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        verdict = "met" if best >= TARGET_SPEEDUP else "NOT met"
        print(f"\nbest executor speedup {best:.2f}x; target {TARGET_SPEEDUP}x {verdict}")
        print(
            "worker processes on an otherwise idle machine (serial CPU s / executor CPU s "
            "x usable cores): "
            + ", ".join(f"{name} {value:.2f}x" for name, value in projections.items())
        )
        _print_dask_table(rows, projections)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if all(r.matches_serial for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
