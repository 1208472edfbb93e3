"""Locality on the seed's network: ``locality`` versus ``greedy`` on the 32 x 32 torus.

Structured circuits (QFT, a ripple-carry adder, Trotter steps of a 2D
transverse-field Ising model) and random two-qubit gates on 1,024 nodes of
64 qubits, allocated by ``locality`` and by ``greedy`` (what ``auto`` chose
at this scale before), side by side: ebits per two-qubit gate from the exact
cost model, and the allocator's wall time, CPU time and peak memory. Each
(circuit, allocator) runs in a fresh process, so ``peak MB`` (``ru_maxrss``)
is that run's alone; it includes the circuit and the 1024 x 1024 distance
matrix. The circuits are gate arrays built directly (no Qiskit), in the
planning basis: non-diagonal single-qubit gates end segments, two-qubit gates
are diagonal (a CNOT is a CZ between Hadamards on its target).

    python benchmarks/dqc/locality.py
    python benchmarks/dqc/locality.py --cases ising,random-1e5 --allocators locality,greedy
    python benchmarks/dqc/locality.py --json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

NODES, QUBITS_PER_NODE = 1024, 64
FULL = NODES * QUBITS_PER_NODE


def qft(n: int) -> Any:
    """QFT without final swaps: ``H(i)`` then ``CP(j, i)`` for every ``j > i``."""
    from qdframe.allocation import GateArray

    rows: list[np.ndarray] = []
    breaks: list[np.ndarray] = []
    for i in range(n):
        later = np.arange(i + 1, n)
        rows.append(np.array([[i, i]]))
        breaks.append(np.array([True]))
        rows.append(np.stack([later, np.full(len(later), i)], axis=1))
        breaks.append(np.zeros(len(later), dtype=bool))
    return GateArray.from_pairs(n, np.concatenate(rows), breaks=np.concatenate(breaks))


def adder(bits: int) -> Any:
    """Cuccaro ripple-carry adder on ``2 * bits + 2`` qubits (cin, a, b, cout),
    Toffolis as the standard six-CNOT decomposition."""
    from qdframe.allocation import GateArray

    rows: list[tuple[int, int]] = []
    brk: list[bool] = []

    def h(q: int) -> None:
        rows.append((q, q))
        brk.append(True)

    def cx(c: int, t: int) -> None:
        h(t)
        rows.append((c, t))
        brk.append(False)
        h(t)

    def ccx(c: int, b: int, t: int) -> None:
        h(t)
        for x in (b, c, b, c):
            rows.append((x, t))
            brk.append(False)
            h(t)
            h(t)
        cx(c, b)
        cx(c, b)
        h(t)

    a = [1 + i for i in range(bits)]
    b = [1 + bits + i for i in range(bits)]
    carry = [0, *a[:-1]]
    for i in range(bits):  # MAJ
        cx(a[i], b[i])
        cx(a[i], carry[i])
        ccx(carry[i], b[i], a[i])
    cx(a[-1], 2 * bits + 1)
    for i in reversed(range(bits)):  # UMA
        ccx(carry[i], b[i], a[i])
        cx(a[i], carry[i])
        cx(carry[i], b[i])
    return GateArray.from_pairs(2 * bits + 2, np.asarray(rows), breaks=np.asarray(brk))


def ising(side: int, steps: int) -> Any:
    """First-order Trotter steps of the 2D transverse-field Ising model on a
    ``side x side`` lattice: ``RX`` on every spin, ``RZZ`` on every bond."""
    from qdframe.allocation import GateArray

    index = np.arange(side * side).reshape(side, side)
    bonds = np.concatenate(
        [
            np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1),
            np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1),
        ]
    )
    spins = np.arange(side * side)
    rows = np.concatenate([np.stack([spins, spins], axis=1), bonds] * steps)
    breaks = np.concatenate([np.ones(len(spins), dtype=bool), np.zeros(len(bonds), dtype=bool)])
    return GateArray.from_pairs(side * side, rows, breaks=np.tile(breaks, steps))


def random_gates(gates: int) -> Any:
    from qdframe.families import random_pairs

    return random_pairs(FULL, gates, seed=0)


CASES: dict[str, tuple[str, Callable[[], Any]]] = {
    "qft-1024": ("QFT, 1,024 qubits", lambda: qft(1024)),
    "adder": ("ripple-carry adder, 32,767 + 32,767 bits", lambda: adder((FULL - 2) // 2)),
    "ising": ("2D Ising 256 x 256, 4 Trotter steps", lambda: ising(256, 4)),
    "random-1e5": ("random, 10^5 gates on 65,536 qubits", lambda: random_gates(100_000)),
    "random-1e6": ("random, 10^6 gates on 65,536 qubits", lambda: random_gates(1_000_000)),
}


def measure(case: str, allocator: str, seed: int) -> dict[str, Any]:
    """Allocate and cost one case; runs in a child process."""
    from qdframe.allocation import AllocationProblem
    from qdframe.config import config_from_mapping
    from qdframe.cost import evaluate
    from qdframe.plugins import default_plugins
    from qdframe.topology import build_topology

    plugins = default_plugins()
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": NODES,
                "qubits_per_node": QUBITS_PER_NODE,
                "network_topology": "torus",
            }
        }
    )
    topology = build_topology(config, plugins=plugins)
    topology.distances()
    gates = CASES[case][1]()
    problem = AllocationProblem(gates, topology, time_budget_s=120.0)
    factory = plugins.registries.allocators.get(allocator)
    cpu, wall = time.process_time(), time.perf_counter()
    allocation = factory().allocate(problem, seed=seed)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    report = evaluate(problem, allocation)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "case": case,
        "allocator": allocator,
        "ran": allocation.allocator,
        "qubits": gates.num_qubits,
        "two_qubit_gates": gates.num_two_qubit,
        "ebits": report.ebits,
        "ebits_per_gate": report.ebits / max(1, gates.num_two_qubit),
        "max_hops": report.max_hops,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": peak_mb,
    }


def _child(case: str, allocator: str, seed: int, timeout_s: float) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--child", case, allocator, str(seed)]
    try:
        done = subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"from {', '.join(CASES)}")
    parser.add_argument("--allocators", default="locality,greedy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, allocator, seed = args.child
        print(json.dumps(measure(case, allocator, int(seed))))
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    allocators = [a.strip() for a in args.allocators.split(",") if a.strip()]
    rows: list[dict[str, Any]] = []
    if not args.json:
        print(f"{NODES} nodes x {QUBITS_PER_NODE} qubits, 32 x 32 torus, seed {args.seed}")
        print(
            f"{'case':<12}{'allocator':<10}{'2q gates':>10}{'ebits/gate':>11}"
            f"{'wall s':>8}{'cpu s':>8}{'peak MB':>9}{'vs ' + allocators[-1]:>14}"
        )
    for case in cases:
        found = {a: _child(case, a, args.seed, args.timeout) for a in allocators}
        base = found[allocators[-1]]
        for allocator, row in found.items():
            if row is None:
                if not args.json:
                    print(f"{case:<12}{allocator:<10}  over {args.timeout:g} s")
                continue
            ratio = row["ebits"] / base["ebits"] if base and base["ebits"] else float("nan")
            row["ebits_vs_last"] = ratio
            rows.append(row)
            if not args.json:
                print(
                    f"{case:<12}{allocator:<10}{row['two_qubit_gates']:>10}"
                    f"{row['ebits_per_gate']:>11.3f}{row['wall_s']:>8.2f}{row['cpu_s']:>8.2f}"
                    f"{row['peak_mb']:>9.0f}{ratio:>13.3f}x",
                    flush=True,
                )
    if args.json:
        json.dump({"rows": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
