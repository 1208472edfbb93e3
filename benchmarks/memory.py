"""Peak memory of a run against ``[memory] max_memory_bytes``, with 1, 2 and 4 workers.

The budget is for the whole process: the execute stage divides it among the
shot batches that run at once, and runs fewer at once when one batch's state
needs more than an equal share. This script checks that a run's peak resident
set stays within the budget plus the interpreter's own overhead:

    python benchmarks/memory.py                       # 20 data qubits, 400 MB budget
    python benchmarks/memory.py --data-qubits 16 --budget 150000000 --workers 1 2
    python benchmarks/memory.py --json

How it measures: every configuration runs in a fresh process. That process
loads qdframe, starts the system and runs a 3-qubit circuit through the same
executor first; its peak RSS at that point is the *overhead* (interpreter,
libraries, worker threads). It then runs the measured circuit (a GHZ-like
circuit with a rotation on every qubit, on a 3-node ring, so the distributed
program has mid-circuit measurements and uses grouped trajectories) and
reports the new peak, its wall and CPU time. ``extra = peak - overhead`` is
what the run allocated; it must not exceed the budget.

Each configuration also runs once with the budget given whole to every batch
(how runs behaved before the budget was shared), for the side-by-side
``extra / budget`` ratios. Exit code 1 when a shared run goes over budget.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024**2


@dataclass(frozen=True)
class Measurement:
    workers: int
    shared: bool
    overhead_bytes: int
    peak_bytes: int
    wall_s: float
    cpu_s: float
    shots: int

    @property
    def extra_bytes(self) -> int:
        return self.peak_bytes - self.overhead_bytes


def _peak_rss() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _circuit(num_qubits: int) -> Any:
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(num_qubits, num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for q in range(num_qubits - 1):
        circuit.cx(q, q + 1)
    for q in range(num_qubits):
        circuit.ry(0.1 * (q + 1), q)
    circuit.measure(range(num_qubits), range(num_qubits))
    return circuit


def _child(args: argparse.Namespace) -> None:
    """Run one configuration in this (fresh) process and print its measurement."""
    import qdframe as qd

    if not args.shared:
        # The behaviour before the budget was shared: every batch gets all of it.
        import qdframe.stages._memory as memory

        memory.memory_share = lambda circuit, config, workers, shots: (  # type: ignore[assignment]
            config.memory.max_memory_bytes,
            None,
        )
    workers = args.workers[0]
    per_node = -(-args.data_qubits // 3)
    config = qd.SystemConfig.model_validate(
        {
            "distributed": {
                "num_nodes": 3,
                "qubits_per_node": per_node,
                "network_topology": "ring",
                "allocator": "greedy",
            },
            "memory": {"max_memory_bytes": args.budget},
            "resources": {"executor_workers": workers, "executor_kind": "threads"},
            "recovery": {"checkpoint_interval": args.shots // args.batches},
            "analysis": {"enable_profiling": False},
        }
    )
    small = config.model_copy(
        update={"distributed": config.distributed.model_copy(update={"qubits_per_node": 1})}
    )
    with qd.DistributedSystem(small) as warm:
        warm.run(_circuit(3), shots=args.batches * 4, seed=1)
    overhead = _peak_rss()
    with qd.DistributedSystem(config) as system:
        wall, cpu = time.perf_counter(), time.process_time()
        result = system.run(_circuit(args.data_qubits), shots=args.shots, seed=2)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert sum(result.counts.values()) == args.shots
    measurement = Measurement(workers, args.shared, overhead, _peak_rss(), wall, cpu, args.shots)
    print(json.dumps(asdict(measurement)))


def _measure(args: argparse.Namespace, workers: int, shared: bool) -> Measurement:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--data-qubits",
        str(args.data_qubits),
        "--budget",
        str(args.budget),
        "--shots",
        str(args.shots),
        "--batches",
        str(args.batches),
        "--workers",
        str(workers),
    ]
    if shared:
        command.append("--shared")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout_s)
    if proc.returncode != 0:
        raise SystemExit(f"workers={workers} shared={shared} failed:\n{proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measurement(**data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-qubits", type=int, default=20)
    parser.add_argument("--budget", type=int, default=400_000_000, help="max_memory_bytes")
    parser.add_argument("--shots", type=int, default=400)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--timeout-s", type=float, default=600)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shared", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    rows = []
    for workers in args.workers:
        for shared in (False, True):
            rows.append(_measure(args, workers, shared))
    over = [m for m in rows if m.shared and m.extra_bytes > args.budget]
    if args.json:
        print(json.dumps([asdict(m) | {"extra_bytes": m.extra_bytes} for m in rows], indent=2))
        return 1 if over else 0
    print(
        f"{args.data_qubits} data qubits on a 3-node ring, {args.shots} shots in "
        f"{args.batches} batches, budget {args.budget / MIB:.0f} MiB (threads)"
    )
    print(
        f"{'workers':>7} {'budget':>10} {'overhead MiB':>12} {'peak MiB':>9} "
        f"{'extra MiB':>9} {'extra/budget':>12} {'wall s':>7} {'cpu s':>7}"
    )
    for m in rows:
        print(
            f"{m.workers:>7} {'shared' if m.shared else 'whole':>10} "
            f"{m.overhead_bytes / MIB:>12.0f} {m.peak_bytes / MIB:>9.0f} "
            f"{m.extra_bytes / MIB:>9.0f} {m.extra_bytes / args.budget:>12.2f} "
            f"{m.wall_s:>7.2f} {m.cpu_s:>7.2f}"
        )
    for workers in args.workers:
        whole, shared = (m for m in rows if m.workers == workers)
        print(
            f"workers={workers}: shared/whole extra memory "
            f"{shared.extra_bytes / max(1, whole.extra_bytes):.2f}, wall "
            f"{shared.wall_s / max(1e-9, whole.wall_s):.2f}"
        )
    print("within budget + overhead" if not over else f"OVER BUDGET: {over}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
