"""A distributed run (one simulation, numpy and Aer backends) against Aer on the original.

Run: ``python benchmarks/distributed_run.py`` (``--help`` for the options).
QFT8 and QFT12 (no final swaps, a Hadamard on qubit 0, measured) on a ring
of 4 nodes, 1,000 and 10,000 shots. Each cell -- Aer on the original
circuit, the numpy backend and the Aer backend on the distributed circuit --
runs in a child process of its own, so that one backend's worker threads
(an OpenBLAS pool still spinning, say) are not charged to the next. In the
child: one warm-up run (pass managers, kernels), then the best of
``--repeat`` runs for CPU time (all threads of the process) and wall time,
then one run under tracemalloc for the Python heap's peak (numpy's buffers,
not Aer's C++ state; the backend's own ``peak_bytes`` estimate is printed
beside it), and the child's peak resident set size (interpreter and
libraries included). The ratios divide by the original's figures from the
same invocation; the goal is a CPU ratio under 10.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_GOAL = 10.0
_KINDS = ("original", "numpy", "aer")


def _circuits(n: int) -> tuple[Any, Any]:
    """The source circuit and its distributed form on a ring of 4 nodes."""
    from qdframe.allocation import Allocation
    from qdframe.distribute import compile_distributed, plan_from_allocation
    from qdframe.families import qft_no_swaps
    from qdframe.topology import Topology

    circuit = qft_no_swaps(n)
    circuit.h(0)
    circuit.measure_all()
    d = n // 4
    ring = Topology("ring", 4, [(i, (i + 1) % 4) for i in range(4)], data_qubits=d)
    plan = plan_from_allocation(circuit, ring, Allocation.static([i // d for i in range(n)]))
    return circuit, compile_distributed(circuit, plan).to_circuit()


def _cell(kind: str, n: int, shots: int, repeat: int) -> dict[str, Any]:
    """Measure one cell; runs in a fresh child process."""
    import qdframe as qd

    circuit, built = _circuits(n)
    if kind == "original":
        from qiskit_aer import AerSimulator

        aer = AerSimulator()

        def once(seed: int) -> dict[str, Any]:
            aer.run(circuit, shots=shots, seed_simulator=seed).result()
            return {"sampler": "aer, original", "peak_bytes": 0}
    else:
        backend = qd.get_backend(kind)

        def once(seed: int) -> dict[str, Any]:
            meta = backend.run(built, shots=shots, seed=seed).metadata
            return {
                "sampler": str(meta.get("sampler", meta.get("method", "?"))),
                "peak_bytes": int(meta.get("peak_bytes", 0)),
                "width": meta.get("single_simulation", {}).get("width", ""),
            }

    once(0)
    cpu = wall = float("inf")
    info: dict[str, Any] = {}
    for r in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        info = once(r + 1)
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - w)
    tracemalloc.start()
    once(repeat + 1)
    heap = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {**info, "cpu": cpu, "wall": wall, "heap": heap, "rss": rss}


def _measure(kind: str, n: int, shots: int, repeat: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_cell, kind, n, shots, repeat).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[8, 12], choices=[4, 8, 12, 16])
    parser.add_argument("--shots", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per cell (best kept)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(s < 1 for s in args.shots):
        parser.error("--repeat and --shots take positive integers")
    print(
        "circuit  shots backend   cpu_s  wall_s  heap_MiB rss_MiB est_MiB width "
        "sampler            cpu_ratio wall_ratio goal"
    )
    missed = 0
    for n in args.qubits:
        for shots in args.shots:
            base = _measure("original", n, shots, args.repeat)
            for kind in _KINDS:
                row = base if kind == "original" else _measure(kind, n, shots, args.repeat)
                ratio, wall_ratio = row["cpu"] / base["cpu"], row["wall"] / base["wall"]
                verdict = "" if kind == "original" else ("ok" if ratio < _GOAL else "MISSED")
                missed += verdict == "MISSED"
                print(
                    f"QFT{n:<4} {shots:>6} {kind:<8} {row['cpu']:>6.3f} {row['wall']:>7.3f} "
                    f"{row['heap'] / 2**20:>9.1f} {row['rss'] / 2**20:>7.0f} "
                    f"{row['peak_bytes'] / 2**20:>7.1f} {row.get('width', ''):>5} "
                    f"{row['sampler']:<18} {ratio:>9.1f} {wall_ratio:>10.1f} {verdict}",
                    flush=True,
                )
    print(f"cells over {_GOAL:g}x the original's CPU time: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
