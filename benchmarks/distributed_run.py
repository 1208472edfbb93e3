"""A distributed run (one simulation, numpy and Aer backends) against Aer on the original.

Run: ``python benchmarks/distributed_run.py``. QFT8 and QFT12 on a ring of 4
nodes, 1,000 and 10,000 shots, all in one process. For each backend: CPU
time, wall time and the Python heap's peak (tracemalloc, which sees numpy's
buffers but not Aer's C++ state; the backend's own ``peak_bytes`` estimate is
printed beside it), and the CPU-time ratio to Aer running the original
circuit (goal: under 10).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from qiskit_aer import AerSimulator

import qdframe as qd
from qdframe.allocation import Allocation
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology


def _ring(k: int, data: int) -> Topology:
    return Topology("ring", k, [(i, (i + 1) % k) for i in range(k)], data_qubits=data)


def _measure(fn: Callable[[], Any]) -> tuple[float, float, int, Any]:
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return cpu, wall, peak, out


def main() -> None:
    print(
        "circuit shots backend  cpu_s   wall_s  heap_peak  est_peak   sampler            "
        "cpu_ratio wall_ratio"
    )
    for n in (8, 12):
        circuit = qft_no_swaps(n)
        circuit.h(0)
        circuit.measure_all()
        d = n // 4
        plan = plan_from_allocation(
            circuit, _ring(4, d), Allocation.static([i // d for i in range(n)])
        )
        built = compile_distributed(circuit, plan).to_circuit()
        aer = AerSimulator()
        backends = {"numpy": qd.get_backend("numpy"), "aer": qd.get_backend("aer")}
        for backend in backends.values():  # warm caches (pass managers, kernels)
            backend.run(built, shots=10, seed=0)
        aer.run(circuit, shots=10, seed_simulator=0).result()
        for shots in (1000, 10000):
            base_cpu, base_wall, base_peak, _ = _measure(
                lambda a=aer, c=circuit, s=shots: a.run(c, shots=s, seed_simulator=1).result()
            )
            print(
                f"QFT{n:<4} {shots:>6} original {base_cpu:>6.3f} {base_wall:>8.3f} "
                f"{base_peak:>10} {'':>9}   {'aer, original':<18} {1.0:>9.1f} {1.0:>10.1f}"
            )
            for name, backend in backends.items():
                cpu, wall, peak, result = _measure(
                    lambda b=backend, c=built, s=shots: b.run(c, shots=s, seed=1)
                )
                meta = result.metadata
                sampler = meta.get("sampler", meta.get("method", "?"))
                print(
                    f"QFT{n:<4} {shots:>6} {name:<8} {cpu:>6.3f} {wall:>8.3f} {peak:>10} "
                    f"{int(meta.get('peak_bytes', 0)):>9}   {sampler:<18} "
                    f"{cpu / base_cpu:>9.1f} {wall / base_wall:>10.1f}"
                )


if __name__ == "__main__":
    main()
