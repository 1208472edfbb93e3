"""Planning at scale: 65,536 qubits on a 32 x 32 torus of 64-qubit nodes.

For random circuits of 10**4, 10**5 and 10**6 two-qubit gates (numpy gate
arrays, no Qiskit circuit in the hot path), times building the problem,
allocation (the ``auto`` choice by default) and the exact cost (bursts,
hops, swaps), and the peak memory. Each size runs in a fresh process so the
peak resident size (``ru_maxrss``) belongs to that size alone. Targets:
allocation + cost under 60 s and 4 GB at 10**6 gates, growth no worse than
n log n.

    python benchmarks/dqc/scale.py
    python benchmarks/dqc/scale.py --gates 10000,100000 --allocator greedy
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

NODES, QUBITS_PER_NODE = 1024, 64


def measure(gates: int, allocator: str, seed: int) -> dict[str, float | int | str]:
    """Plan one random circuit; runs inside the child process."""
    from qdframe.allocation import AllocationProblem
    from qdframe.config import config_from_mapping
    from qdframe.cost import evaluate
    from qdframe.families import random_pairs
    from qdframe.plugins import default_plugins
    from qdframe.topology import build_topology

    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": NODES,
                "qubits_per_node": QUBITS_PER_NODE,
                "network_topology": "torus",
            }
        }
    )
    started = time.perf_counter()
    topology = build_topology(config, plugins=default_plugins())
    topology.distances()  # the 1024 x 1024 matrix, closed form
    t_topology = time.perf_counter() - started

    mark = time.perf_counter()
    array = random_pairs(NODES * QUBITS_PER_NODE, gates, seed=seed)
    problem = AllocationProblem(array, topology, time_budget_s=60.0)
    t_problem = time.perf_counter() - mark

    mark = time.perf_counter()
    allocation = (
        default_plugins().registries.allocators.get(allocator)().allocate(problem, seed=seed)
    )
    t_allocate = time.perf_counter() - mark

    mark = time.perf_counter()
    report = evaluate(problem, allocation)
    t_cost = time.perf_counter() - mark
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "gates": gates,
        "allocator": allocation.allocator,
        "topology_s": round(t_topology, 3),
        "problem_s": round(t_problem, 3),
        "allocate_s": round(t_allocate, 3),
        "cost_s": round(t_cost, 3),
        "total_s": round(t_allocate + t_cost, 3),
        "peak_mb": round(peak_mb, 1),
        "ebits": report.ebits,
        "bursts": report.num_bursts,
        "swaps": report.swaps,
        "max_hops": report.max_hops,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gates", default="10000,100000,1000000")
    parser.add_argument("--allocator", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, args.allocator, args.seed)))
        return 0

    sizes = [int(x) for x in args.gates.split(",")]
    print(f"{NODES} nodes x {QUBITS_PER_NODE} qubits (32 x 32 torus), seed {args.seed}")
    header = (
        f"{'gates':>9} {'allocator':<10}{'alloc s':>9}{'cost s':>8}{'total s':>9}"
        f"{'peak MB':>9}{'ebits':>11}{'bursts':>9}{'swaps':>11}{'vs n log n':>11}"
    )
    print(header)
    first: dict[str, float] | None = None
    for gates in sizes:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(gates),
                "--allocator",
                args.allocator,
                "--seed",
                str(args.seed),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(output.strip().splitlines()[-1])
        # Time per (n log n), relative to the smallest size: <= ~1 means the
        # growth is no worse than n log n.
        unit = row["total_s"] / (gates * math.log(gates))
        if first is None:
            first = {"unit": unit}
        growth = unit / first["unit"]
        print(
            f"{gates:>9} {row['allocator']:<10}{row['allocate_s']:>9.2f}{row['cost_s']:>8.2f}"
            f"{row['total_s']:>9.2f}{row['peak_mb']:>9.0f}{row['ebits']:>11}{row['bursts']:>9}"
            f"{row['swaps']:>11}{growth:>11.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
