"""The whole planning pipeline at scale: allocate, cost, lower, schedule.

Random circuits of 10**4 .. 10**6 two-qubit gates (3 * 10**6 with
``--large``) on 65,536 qubits (a 32 x 32 torus of 64-qubit nodes), and two
structured families on a 4 x 4 torus: the QFT (no swaps) and the CDKM
ripple-carry adder, at 1,024 and 4,096 qubits. Each case runs in a fresh
process. Every stage reports wall time, CPU time and its own peak resident
size (the kernel's high-water mark, reset before the stage through
``/proc/self/clear_refs``: what the stage itself reached, including what
earlier stages still hold); ``peak`` is the largest of them. ``intake``
(building and normalising a structured circuit) is shown but not counted in
the totals. After the random cases, the growth exponent of each stage's
CPU time between consecutive sizes, against program rows, is printed beside
that of ``n log n``. Targets (issue 17): the four stages under 60 s of CPU
and 4 GB at 10**6 gates, growth no worse than n log n, 3 * 10**6 gates under
16 GB; a 1,024-qubit QFT on the 4 x 4 torus under 60 s.

    python benchmarks/dqc/scale.py
    python benchmarks/dqc/scale.py --gates 10000,100000 --qft-qubits 1024 --adder-qubits ""
    python benchmarks/dqc/scale.py --large --qft-qubits "" --adder-qubits ""
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("allocate", "cost", "lower", "schedule")
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


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


def _adder_gates(num_qubits: int) -> Any:
    """The CDKM ripple-carry adder (``kind="full"``) on ``num_qubits``, normalised."""
    from qiskit.synthesis import adder_ripple_c04

    from qdframe.allocation import GateArray, normalize_circuit

    circuit = adder_ripple_c04(num_qubits // 2 - 1, kind="full")
    return GateArray.from_circuit(normalize_circuit(circuit))


def _reset_peak() -> None:
    # Not Linux, or not allowed: the running maximum is reported instead.
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def _peak_mb() -> float:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
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
    found: dict[str, Any] = {}

    def stage(name: str, work: Callable[[], Any]) -> Any:
        _reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        found[name] = {
            "wall_s": round(time.perf_counter() - wall, 3),
            "cpu_s": round(time.process_time() - cpu, 3),
            "peak_mb": round(_peak_mb(), 1),
        }
        return value

    if case == "random":
        nodes, per_node = 1024, 64
        gates = stage("intake", lambda: random_pairs(nodes * per_node, size, seed=seed))
    else:
        nodes, per_node = 16, max(size // 16, 1)
        build = _qft_gates if case == "qft" else _adder_gates
        gates = stage("intake", lambda: build(size))
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
        "depth": result.details["depth"],
        "makespan_us": result.makespan_us,
    }


def _run_child(case: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", case, str(size)]
    command += ["--allocator", args.allocator, "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{case} {size} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def _totals(row: dict[str, Any]) -> tuple[float, float, float]:
    stages = row["stages"]
    cpu = sum(stages[s]["cpu_s"] for s in STAGES)
    wall = sum(stages[s]["wall_s"] for s in STAGES)
    peak = max(stages[s]["peak_mb"] for s in STAGES)
    return wall, cpu, peak


def _print(row: dict[str, Any]) -> None:
    stages = row["stages"]
    wall, cpu, peak = _totals(row)
    cells = "".join(
        f"{stages[s]['wall_s']:>8.2f}{stages[s]['cpu_s']:>7.2f}{stages[s]['peak_mb']:>7.0f}"
        for s in ("intake", *STAGES)
    )
    print(
        f"{row['case']:<7}{row['size']:>8}{row['gates']:>9}{row['allocator']:>15}{cells}"
        f"{wall:>8.2f}{cpu:>8.2f}{peak:>7.0f}{row['ebits']:>10}{row['rows']:>10}"
        f"{row['depth']:>8}",
        flush=True,
    )


def _print_growth(rows: list[dict[str, Any]]) -> None:
    """Exponent ``k`` of ``cpu ~ rows**k`` between consecutive random cases."""
    if len(rows) < 2:
        return
    print("\ngrowth of CPU time against program rows (exponent k in cpu ~ rows^k)")
    print(f"{'from':>10}{'to':>10}" + "".join(f"{s:>10}" for s in (*STAGES, "total"))
          + f"{'n log n':>10}")  # fmt: skip
    for a, b in itertools.pairwise(rows):
        n0, n1 = a["rows"], b["rows"]
        span = math.log(n1 / n0)
        cells = ""
        for s in STAGES:
            c0, c1 = a["stages"][s]["cpu_s"], b["stages"][s]["cpu_s"]
            cells += f"{math.log(c1 / c0) / span:>10.2f}" if c0 > 0 and c1 > 0 else f"{'-':>10}"
        total = math.log(_totals(b)[1] / _totals(a)[1]) / span
        nlogn = 1 + math.log(math.log(n1) / math.log(n0)) / span
        print(f"{a['size']:>10}{b['size']:>10}{cells}{total:>10.2f}{nlogn:>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--gates", default="10000,100000,1000000")
    parser.add_argument("--large", action="store_true", help="add 3 * 10**6 random gates")
    parser.add_argument("--qft-qubits", default="1024,4096")
    parser.add_argument("--adder-qubits", default="1024,4096")
    parser.add_argument("--allocator", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        case, size = args.child
        print(json.dumps(measure(case, int(size), args.allocator, args.seed)))
        return 0
    try:
        sizes = [int(x) for x in args.gates.split(",") if x]
        qft = [int(x) for x in args.qft_qubits.split(",") if x]
        adder = [int(x) for x in args.adder_qubits.split(",") if x]
    except ValueError as exc:
        print(f"error: sizes are comma-separated integers ({exc})", file=sys.stderr)
        return 2
    if args.large:
        sizes.append(3_000_000)
    heads = "".join(f"{s[:6]:>8}{'cpu':>7}{'MB':>7}" for s in ("intake", *STAGES))
    print(f"{'case':<7}{'size':>8}{'gates':>9}{'alloc':>15}{heads}{'wall':>8}{'cpu':>8}"
          f"{'peak':>7}{'ebits':>10}{'rows':>10}{'depth':>8}")  # fmt: skip
    print("(per stage: wall s, CPU s, peak MB; totals over allocate .. schedule)")
    random_rows = []
    try:
        for size in sizes:
            row = _run_child("random", size, args)
            random_rows.append(row)
            _print(row)
        for case, family in (("qft", qft), ("adder", adder)):
            for size in family:
                _print(_run_child(case, size, args))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_growth(random_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
