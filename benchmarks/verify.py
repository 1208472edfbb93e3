"""Mutation figures for qdframe.verification: correct programs accepted, mutants rejected.

Run: ``python benchmarks/verify.py [n]`` (n a multiple of 4, default 8). A QFT on 4
nodes (ring and all-to-all); every two-qubit gate of the original is deleted
in turn, and every angle moved by +0.7, against the same program. Prints
counts, the method used, CPU time and peak amplitude bytes.
"""

from __future__ import annotations

import sys
import time

from qiskit.circuit import CircuitInstruction

from qdframe.allocation import Allocation
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology
from qdframe.verification import verify


def _network(shape: str, k: int, data: int) -> Topology:
    if shape == "ring":
        edges = [(i, (i + 1) % k) for i in range(k)]
    else:
        edges = [(i, j) for i in range(k) for j in range(i + 1, k)]
    return Topology(shape, k, edges, data_qubits=data)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    circuit = qft_no_swaps(n)
    d = n // 4
    print("network     method         correct  deleted_rej  angle_rej  cpu_s  peak_bytes")
    for shape in ("ring", "all-to-all"):
        plan = plan_from_allocation(
            circuit, _network(shape, 4, d), Allocation.static([i // d for i in range(n)])
        )
        program = compile_distributed(circuit, plan)
        started = time.process_time()
        ok = verify(circuit, program)
        two = [i for i, ins in enumerate(circuit.data) if ins.operation.num_qubits == 2]
        deleted = angle = 0
        for index in two:
            mutant = circuit.copy_empty_like()
            for i, ins in enumerate(circuit.data):
                if i != index:
                    mutant.append(ins)
            deleted += not verify(mutant, program).verified
            mutant = circuit.copy_empty_like()
            for i, ins in enumerate(circuit.data):
                if i == index:
                    op = ins.operation.copy()
                    op.params = [float(op.params[0]) + 0.7]
                    ins = CircuitInstruction(op, ins.qubits, ins.clbits)
                mutant.append(ins)
            angle += not verify(mutant, program).verified
        cpu = time.process_time() - started
        print(
            f"{shape:<11} {ok.method:<14} {ok.verified!s:<8} {deleted:>5}/{len(two):<5} "
            f"{angle:>5}/{len(two):<4} {cpu:>6.1f} {ok.details.get('peak_state_bytes', 0):>11}"
        )


if __name__ == "__main__":
    main()
