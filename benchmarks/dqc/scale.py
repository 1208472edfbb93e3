"""The whole planning pipeline at scale: allocate, cost, lower, schedule.

Random circuits of 10**4 .. 10**6 two-qubit gates on 65,536 qubits (a 32 x 32
torus of 64-qubit nodes), and a structured family (QFT, as a gate array) at
1,024 and 4,096 qubits on a 4 x 4 torus. Each case runs in a fresh process;
every stage reports wall time, CPU time and the peak resident size reached
by the end of that stage (``ru_maxrss``: a running maximum, so a stage's
figure includes what earlier stages still hold). Targets (issue 17): the
four stages under 60 s of CPU and 4 GB at 10**6 gates, growth no worse than
n log n.

    python benchmarks/dqc/scale.py
    python benchmarks/dqc/scale.py --gates 10000,100000 --family-qubits 1024
    python benchmarks/dqc/scale.py --gates 3000000 --family-qubits ""
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

STAGES = ("allocate", "cost", "lower", "schedule")


def _qft_gates(num_qubits: int) -> Any:
    """QFT without final swaps as a gate array: H on q, then CP(q, j) for j > q."""
    from qdframe.allocation import GateArray

    rows = []
    for q in range(num_qubits):
        rows.append(np.array([[q, -1]], dtype=np.int64))
        others = np.arange(q + 1, num_qubits, dtype=np.int64)
        rows.append(np.stack([np.full(len(others), q), others], axis=1))
    pairs = np.concatenate(rows)
    breaks = pairs[:, 1] < 0
    pairs[breaks, 1] = 0
    return GateArray.from_pairs(num_qubits, pairs, breaks=breaks)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(case: str, size: int, allocator: str, seed: int) -> dict[str, Any]:
    """Run the four stages of one case; runs inside the child process."""
    from qdframe.allocation import AllocationProblem
    from qdframe.config import config_from_mapping
    from qdframe.cost import evaluate
    from qdframe.distribute import lower
    from qdframe.families import random_pairs
    from qdframe.plugins import default_plugins
    from qdframe.schedule import schedule
    from qdframe.topology import build_topology

    plugins = default_plugins()
    if case == "random":
        nodes, per_node = 1024, 64
        gates = random_pairs(nodes * per_node, size, seed=seed)
    else:
        nodes, per_node = 16, max(size // 16, 1)
        gates = _qft_gates(size)
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": per_node,
                "network_topology": "torus",
            }
        }
    )
    topology = build_topology(config, plugins=plugins)
    problem = AllocationProblem(gates, topology, time_budget_s=60.0)
    found: dict[str, Any] = {}

    def stage(name: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        found[name] = {
            "wall_s": round(time.perf_counter() - wall, 3),
            "cpu_s": round(time.process_time() - cpu, 3),
            "peak_mb": round(_peak_mb(), 1),
        }
        return value

    registry = plugins.registries.allocators
    allocation = stage("allocate", lambda: registry.get(allocator)().allocate(problem, seed=seed))
    report = stage("cost", lambda: evaluate(problem, allocation))
    program = stage("lower", lambda: lower(problem, allocation, cost=report))
    result = stage("schedule", lambda: schedule(program, config))
    return {
        "case": case,
        "size": size,
        "gates": gates.num_gates,
        "allocator": allocation.allocator,
        "stages": found,
        "ebits": program.ebits,
        "rows": program.num_operations,
        "deliveries": len(program.delivery_rows),
        "dependencies": result.details["dependencies"],
        "frontiers": result.details["frontiers"],
        "makespan_us": result.makespan_us,
    }


def _run_child(case: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", case, str(size)]
    command += ["--allocator", args.allocator, "--seed", str(args.seed)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    row: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return row


def _print(row: dict[str, Any], first_unit: float | None) -> float:
    stages = row["stages"]
    cpu = sum(stages[s]["cpu_s"] for s in STAGES)
    wall = sum(stages[s]["wall_s"] for s in STAGES)
    n = row["rows"]
    unit = cpu / (n * math.log(max(n, 2)))
    growth = unit / (first_unit if first_unit else unit)
    cells = "".join(
        f"{stages[s]['wall_s']:>8.2f}{stages[s]['cpu_s']:>8.2f}{stages[s]['peak_mb']:>8.0f}"
        for s in STAGES
    )
    print(
        f"{row['case']:<7}{row['size']:>9}{row['gates']:>10}{row['allocator']:>10}{cells}"
        f"{wall:>8.2f}{cpu:>8.2f}{row['ebits']:>10}{row['rows']:>10}{row['frontiers']:>9}"
        f"{growth:>7.2f}",
        flush=True,
    )
    return unit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--gates", default="10000,100000,1000000")
    parser.add_argument("--family-qubits", default="1024,4096")
    parser.add_argument("--allocator", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        case, size = args.child
        print(json.dumps(measure(case, int(size), args.allocator, args.seed)))
        return 0
    heads = "".join(f"{s[:5] + ' wall':>9}{'cpu':>7}{'MB':>8}" for s in STAGES)
    print(f"{'case':<7}{'size':>9}{'gates':>10}{'alloc':>10}{heads}{'wall':>8}{'cpu':>8}"
          f"{'ebits':>10}{'rows':>10}{'fronts':>9}{'nlogn':>7}")  # fmt: skip
    first: float | None = None
    for size in [int(x) for x in args.gates.split(",") if x]:
        unit = _print(_run_child("random", size, args), first)
        first = first if first is not None else unit
    for size in [int(x) for x in args.family_qubits.split(",") if x]:
        _print(_run_child("qft", size, args), None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
