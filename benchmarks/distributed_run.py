"""CPU time of a distributed run (numpy backend, one merged simulation) vs Aer on the original.

Run: ``python benchmarks/distributed_run.py``. QFT8 and QFT12 on a ring of 4
nodes, 1,000 and 10,000 shots; CPU time, wall time and peak amplitude bytes.
"""

from __future__ import annotations

import time

from qiskit_aer import AerSimulator

import qdframe as qd
from qdframe.allocation import Allocation
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology


def _ring(k: int, data: int) -> Topology:
    return Topology("ring", k, [(i, (i + 1) % k) for i in range(k)], data_qubits=data)


def main() -> None:
    print("circuit shots  dist_cpu_s dist_wall_s aer_cpu_s  ratio  peak_bytes")
    for n in (8, 12):
        circuit = qft_no_swaps(n)
        circuit.h(0)
        circuit.measure_all()
        d = n // 4
        plan = plan_from_allocation(
            circuit, _ring(4, d), Allocation.static([i // d for i in range(n)])
        )
        built = compile_distributed(circuit, plan).to_circuit()
        backend = qd.get_backend("numpy")
        aer = AerSimulator()
        for shots in (1000, 10000):
            cpu, wall = time.process_time(), time.perf_counter()
            result = backend.run(built, shots=shots, seed=1)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            aer_cpu = time.process_time()
            aer.run(circuit, shots=shots, seed_simulator=1).result()
            aer_cpu = time.process_time() - aer_cpu
            peak = result.metadata.get("peak_bytes", 0)
            print(
                f"QFT{n:<4} {shots:>6} {cpu:>10.3f} {wall:>11.3f} {aer_cpu:>9.3f} "
                f"{cpu / aer_cpu:>6.1f} {peak:>11}"
            )


if __name__ == "__main__":
    main()
