"""Burst covers side by side: pairwise (König) against tree bursts with detached gates.

For each case one placement is made (the ``auto`` allocator unless
``--allocator`` says otherwise), then costed with every cover model of
:func:`qdframe.cost.evaluate`, and each cover is lowered twice: with the
network's communication qubits (2 per node unless ``--comm``) and with as
many as there are circuit qubits (no re-opened bursts). Printed per case:
planned ebits per model with the tree cover's status, the EPR pairs the
lowered programs use, the ratio tree / pairwise, and the CPU time, wall time
and peak Python memory of the tree cover's evaluation.

    python benchmarks/dqc/covers.py
    python benchmarks/dqc/covers.py --cases qft16x4,qft16ring4 --comm 4
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass

from qdframe.allocation import AllocationProblem, GateArray, normalize_circuit
from qdframe.config import config_from_mapping
from qdframe.cost import CostReport, evaluate
from qdframe.distribute.lower import ebit_account
from qdframe.families import family_circuit
from qdframe.plugins import default_plugins
from qdframe.topology import Topology, build_topology

#: name -> (family, n, k, topology kind, seeds)
CASES: dict[str, tuple[str, int, int, str, tuple[int, ...]]] = {
    "qft16x2": ("qft", 16, 2, "all_to_all", (0,)),
    "qft32x2": ("qft", 32, 2, "all_to_all", (0,)),
    "qft16x4": ("qft", 16, 4, "all_to_all", (0,)),
    "qft32x4": ("qft", 32, 4, "all_to_all", (0,)),
    "qft16ring4": ("qft", 16, 4, "ring", (0,)),
    "cp16x2": ("cp_fraction", 16, 2, "all_to_all", (0, 1, 2, 3, 4)),
    "cp32x2": ("cp_fraction", 32, 2, "all_to_all", (0, 1, 2, 3, 4)),
    "cp32x4": ("cp_fraction", 32, 4, "all_to_all", (0, 1, 2, 3, 4)),
}


@dataclass
class Row:
    plan: dict[str, list[int]]
    pairs: dict[str, list[int]]
    unbounded: dict[str, list[int]]
    status: list[str]
    cpu_s: list[float]
    wall_s: list[float]
    peak_mb: list[float]


def _topology(kind: str, k: int, capacity: int, comm: int) -> Topology:
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": k,
                "qubits_per_node": capacity,
                "comm_qubits_per_node": comm,
                "network_topology": kind,
            }
        }
    )
    return build_topology(config, plugins=default_plugins())


def _timed(
    problem: AllocationProblem, allocation: object
) -> tuple[CostReport, float, float, float]:
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    report = evaluate(problem, allocation, cover="tree")  # type: ignore[arg-type]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return report, cpu, wall, peak


def run(name: str, allocator: str, comm: int, budget: float) -> Row:
    family, n, k, kind, seeds = CASES[name]
    capacity = math.ceil(n / k)
    models = ("pairwise", "tree", "auto")
    row = Row({m: [] for m in models}, {m: [] for m in models}, {m: [] for m in models},
              [], [], [], [])  # fmt: skip
    registry = default_plugins().registries.allocators
    for seed in seeds:
        gates = GateArray.from_circuit(normalize_circuit(family_circuit(family, n, seed)))
        problem = AllocationProblem(gates, _topology(kind, k, capacity, comm), time_budget_s=budget)
        wide = AllocationProblem(gates, _topology(kind, k, capacity, n), time_budget_s=budget)
        allocation = registry.get(allocator)().allocate(problem, seed=seed)
        tree, cpu, wall, peak = _timed(problem, allocation)
        row.status.append(tree.cover_status)
        row.cpu_s.append(cpu)
        row.wall_s.append(wall)
        row.peak_mb.append(peak)
        for model in models:
            report = tree if model == "tree" else evaluate(problem, allocation, cover=model)
            row.plan[model].append(report.ebits)
            row.pairs[model].append(ebit_account(problem, allocation, cost=report).ebits)
            wide_report = evaluate(wide, allocation, cover=model)
            row.unbounded[model].append(ebit_account(wide, allocation, cost=wide_report).ebits)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma list of " + ", ".join(CASES)
    )
    parser.add_argument("--allocator", default="auto")
    parser.add_argument("--comm", type=int, default=2, help="communication qubits per node")
    parser.add_argument("--budget", type=float, default=4.0, help="allocator seconds per case")
    args = parser.parse_args(argv)
    names = [c for c in args.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        print(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    print(f"allocator {args.allocator}; {args.comm} communication qubits per node; "
          "ebits are means over the seeds shown")  # fmt: skip
    head = (
        f"{'case':<11}{'seeds':>6} | {'plan: pair':>10}{'tree':>6}{'auto':>6}{'t/p':>6}"
        f" | {'pairs@comm: pair':>16}{'tree':>6}{'auto':>6}"
        f" | {'pairs@n: pair':>13}{'tree':>6}"
        f" | {'status':<8}{'cpu s':>6}{'wall s':>7}{'peak MB':>8}"
    )
    print(head)
    print("-" * len(head))
    for name in names:
        row = run(name, args.allocator, args.comm, args.budget)

        def m(values: list[int]) -> float:
            return statistics.fmean(values)

        ratio = m(row.plan["tree"]) / max(m(row.plan["pairwise"]), 1e-9)
        status = "/".join(sorted(set(row.status)))
        print(
            f"{name:<11}{len(row.status):>6} | {m(row.plan['pairwise']):>10.1f}"
            f"{m(row.plan['tree']):>6.1f}{m(row.plan['auto']):>6.1f}{ratio:>6.2f}"
            f" | {m(row.pairs['pairwise']):>16.1f}{m(row.pairs['tree']):>6.1f}"
            f"{m(row.pairs['auto']):>6.1f}"
            f" | {m(row.unbounded['pairwise']):>13.1f}{m(row.unbounded['tree']):>6.1f}"
            f" | {status:<8}{max(row.cpu_s):>6.2f}{max(row.wall_s):>7.2f}{max(row.peak_mb):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
