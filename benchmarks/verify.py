"""Mutation figures for qdframe.verification: correct programs accepted, mutants rejected.

Run: ``python benchmarks/verify.py [--mutants K] [--wide 16,20] [--qcec-timeout S] [--qcec-hard]``.

1. QFT12, QV12 and CP-fraction-12 (fraction 0.5), planned by the
   ``temporal`` allocator (teleportations where they pay) on a ring of
   4 x 3, a 2 x 3 torus of 6 x 2 and an all-to-all network of 4 x 3. Each
   program is verified against its original (must be accepted) and against
   ``K`` seeded mutants of each kind (must be rejected): one two-qubit gate
   deleted, one angle moved by +0.7, one single-qubit gate replaced by a
   different one. Per case: ebits, teleportations, swaps, method, what a
   pass covers, distance, CPU and wall time and the peak of traced memory
   (``tracemalloc``) of the correct program's verification, and the counts.
2. Wider CP-fraction circuits (default 16 and 20 data qubits) on a ring of
   4 nodes, verified by ``random-inputs`` (2 inputs) and by ``qcec`` when
   MQT QCEC is installed, each also against one mutant.
3. ``qdframe run --verify`` of QFT12 with final measurements on a ring of
   4 x 3, in a child process: wall and CPU time and peak RSS beside the
   limits of 30 s and 2 GiB.
4. With ``--qcec-hard`` only: ``qcec`` on programs where MQT QCEC may reach
   no verdict (QFT8 on a ring of 4 x 2, 60 s; the QFT12, CP-fraction-12 and
   QV12 programs of the mutation table on the ring, 20 s each): verdict,
   qubits in deferred form and seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, qasm2
from qiskit.circuit import CircuitInstruction
from qiskit.circuit.library import HGate, SXGate

from qdframe.config import SystemConfig
from qdframe.distribute import compile_distributed
from qdframe.families import cp_fraction, qft_no_swaps, quantum_volume
from qdframe.planning import make_plan
from qdframe.plugins import default_plugins
from qdframe.verification import VerificationResult, verify

_NETWORKS = [("ring", 4, 3), ("torus", 6, 2), ("all_to_all", 4, 3)]
_FAMILIES: dict[str, Callable[[], QuantumCircuit]] = {
    "qft12": lambda: qft_no_swaps(12),
    "qv12": lambda: quantum_volume(12, seed=1),
    "cpf12": lambda: cp_fraction(12, fraction=0.5, seed=1),
}


def _config(topology: str, nodes: int, per_node: int, allocator: str) -> SystemConfig:
    return SystemConfig.model_validate(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": per_node,
                "network_topology": topology,
                "allocator": allocator,
            }
        }
    )


def _replaced(
    circuit: QuantumCircuit, index: int, item: CircuitInstruction | None
) -> QuantumCircuit:
    mutant = circuit.copy_empty_like()
    for i, instruction in enumerate(circuit.data):
        if i != index:
            mutant.append(instruction)
        elif item is not None:
            mutant.append(item)
    return mutant


def mutants(circuit: QuantumCircuit, per_kind: int, seed: int) -> list[tuple[str, QuantumCircuit]]:
    """Seeded single-gate mutants: deleted two-qubit gate, angle +0.7, other one-qubit gate."""
    rng = np.random.default_rng(seed)
    data = circuit.data
    two = [i for i, ins in enumerate(data) if ins.operation.num_qubits == 2]
    angled = [i for i, ins in enumerate(data) if ins.operation.params]
    one = [i for i, ins in enumerate(data) if ins.operation.num_qubits == 1]
    out: list[tuple[str, QuantumCircuit]] = []
    pick = lambda pool: rng.choice(pool, size=min(per_kind, len(pool)), replace=False)  # noqa: E731
    for index in pick(two):
        out.append(("deleted", _replaced(circuit, int(index), None)))
    for index in pick(angled):
        ins = data[int(index)]
        op = ins.operation.copy()
        op.params = [float(op.params[0]) + 0.7, *op.params[1:]]
        out.append(("angle", _replaced(circuit, int(index), ins.replace(operation=op))))
    for index in pick(one):
        ins = data[int(index)]
        other = HGate() if ins.operation.name == "sx" else SXGate()
        out.append(("one-qubit", _replaced(circuit, int(index), ins.replace(operation=other))))
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measured(
    original: QuantumCircuit, program: Any, **options: Any
) -> tuple[VerificationResult, float, float, int]:
    tracemalloc.start()
    children = _children_cpu()  # qcec checks in a child process
    cpu, wall = time.process_time(), time.perf_counter()
    result = verify(original, program, **options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    cpu += _children_cpu() - children
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, cpu, wall, peak


def mutation_table(per_kind: int) -> bool:
    plugins = default_plugins()
    print("== mutation: correct program accepted, single-gate mutants rejected")
    print(
        f"{'case':<22} {'ebits':>5} {'tele':>4} {'swaps':>5} {'method':<14} {'distance':>9} "
        f"{'cpu_s':>6} {'wall_s':>6} {'peak_MiB':>8} {'accepted':>8} {'rejected':>9}  covers"
    )
    all_good = True
    for family, build in _FAMILIES.items():
        for topology, nodes, per_node in _NETWORKS:
            config = _config(topology, nodes, per_node, "temporal")
            plan = make_plan(build(), config, plugins=plugins, seed=3, time_budget_s=2.0)
            assert plan.circuit is not None
            original = plan.circuit
            program = compile_distributed(None, plan, config)
            ok, cpu, wall, peak = _measured(original, program)
            cases = mutants(original, per_kind, seed=7)
            rejected = sum(not verify(m, program).verified for _, m in cases)
            all_good &= ok.verified and rejected == len(cases)
            name = f"{family}/{topology}{nodes}x{per_node}"
            print(
                f"{name:<22} {program.ebits:>5} {program.num_teleportations:>4} "
                f"{program.swaps:>5} {ok.method:<14} {ok.distance:>9.1e} {cpu:>6.1f} {wall:>6.1f} "
                f"{peak / 2**20:>8.1f} {int(ok.verified):>6}/1 {rejected:>6}/{len(cases):<2}  "
                f"{ok.scope}"
            )
    return all_good


def wide_table(sizes: list[int], qcec_timeout: float, random_limit: int) -> None:
    plugins = default_plugins()
    print("\n== wider circuits: CP-fraction (fraction 0.5, depth 6) on a ring of 4 nodes")
    print(
        f"{'data':>4} {'method':<14} {'verified':>8} {'mutant_rej':>10} {'distance':>9} "
        f"{'cpu_s':>7} {'wall_s':>7} {'peak_MiB':>8}  covers"
    )
    for n in sizes:
        circuit = cp_fraction(n, depth=6, fraction=0.5, seed=2)
        config = _config("ring", 4, math.ceil(n / 4), "auto")
        plan = make_plan(circuit, config, plugins=plugins, seed=3, time_budget_s=2.0)
        program = compile_distributed(None, plan, config)
        mutant = mutants(circuit, 1, seed=5)[1][1]  # an angle moved by +0.7
        runs: list[tuple[str, dict[str, Any]]] = []
        if n <= random_limit:
            runs.append(("random-inputs", {"inputs": 2, "max_exact_qubits": n + 4}))
        else:
            print(f"{n:>4} {'random-inputs':<14} skipped: over --random-limit {random_limit}")
        runs.append(("qcec", {"qcec_timeout_s": qcec_timeout}))
        for method, options in runs:
            try:
                ok, cpu, wall, peak = _measured(circuit, program, method=method, **options)
                bad = verify(mutant, program, method=method, **options)
            except Exception as exc:  # a missing extra or a refused size is a figure too
                print(f"{n:>4} {method:<14} skipped: {exc}")
                continue
            rejected = "yes" if not bad.verified else "NO"
            print(
                f"{n:>4} {method:<14} {ok.verified!s:>8} {rejected:>10} {ok.distance:>9.1e} "
                f"{cpu:>7.1f} {wall:>7.1f} {peak / 2**20:>8.1f}  {ok.scope}"
                + (f" [{ok.details.get('equivalence')}]" if method == "qcec" else "")
            )
        print(f"     (ebits {program.ebits}, swaps {program.swaps}, gates {len(circuit.data)})")


def cli_run() -> None:
    print("\n== qdframe run --verify: QFT12 with final measurements on a ring of 4 x 3")
    circuit = qft_no_swaps(12)
    circuit.measure_all()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "qft12.qasm"
        source.write_text(qasm2.dumps(circuit))
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        wall = time.perf_counter()
        with out.open("w") as stdout, err.open("w") as stderr:
            child = subprocess.Popen(
                [str(Path(sys.executable).with_name("qdframe")), "run", str(source), "--nodes",
                 "4", "--qubits-per-node", "3", "--topology", "ring", "--verify", "--shots",
                 "1000", "--json", "--report", str(Path(tmp) / "run")],
                stdout=stdout, stderr=stderr,
            )  # fmt: skip
            # wait4 gives this child's own usage (RUSAGE_CHILDREN keeps the largest of all).
            _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - wall
        done = subprocess.CompletedProcess(
            child.args, os.waitstatus_to_exitcode(status), out.read_text(), err.read_text()
        )
    cpu = usage.ru_utime + usage.ru_stime
    rss = usage.ru_maxrss * 1024  # kilobytes on Linux
    if done.returncode != 0:
        print(f"failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        return
    data = json.loads(done.stdout[done.stdout.index("{") :])
    v = data["verification"]
    print(f"verified {data['verified']} by {v['method']}: {v['scope']}")
    print(f"distance {v['distance']:.1e}")
    print(f"{'':<10} {'measured':>10} {'limit':>8} {'ratio':>6}")
    print(f"{'wall_s':<10} {wall:>10.1f} {30:>8} {wall / 30:>6.2f}")
    print(f"{'cpu_s':<10} {cpu:>10.1f} {30:>8} {cpu / 30:>6.2f}")
    print(f"{'peak_GiB':<10} {rss / 2**30:>10.2f} {2:>8} {rss / 2**31:>6.2f}")


def qcec_hard() -> None:
    from qdframe.allocation import Allocation
    from qdframe.distribute import plan_from_allocation
    from qdframe.topology import Topology

    plugins = default_plugins()
    print("\n== qcec on harder programs (no verdict is not a proof)")
    print(f"{'case':<22} {'timeout_s':>9} {'deferred':>8} {'wall_s':>7}  verdict")
    qft8 = qft_no_swaps(8)
    ring = Topology("ring", 4, [(i, (i + 1) % 4) for i in range(4)], data_qubits=2)
    plan = plan_from_allocation(qft8, ring, Allocation.static([i // 2 for i in range(8)]))
    cases: list[tuple[str, QuantumCircuit, Any, float]] = [
        ("qft8/ring4x2", qft8, compile_distributed(qft8, plan), 60.0)
    ]
    config = _config("ring", 4, 3, "temporal")
    for family, build in _FAMILIES.items():
        plan = make_plan(build(), config, plugins=plugins, seed=3, time_budget_s=2.0)
        assert plan.circuit is not None
        cases.append(
            (f"{family}/ring4x3", plan.circuit, compile_distributed(None, plan, config), 20.0)
        )
    for name, original, program, timeout in cases:
        wall = time.perf_counter()
        result = verify(original, program, method="qcec", qcec_timeout_s=timeout)
        wall = time.perf_counter() - wall
        print(
            f"{name:<22} {timeout:>9g} {result.details.get('deferred_qubits', '?'):>8} "
            f"{wall:>7.1f}  {result.details.get('equivalence')} (verified {result.verified})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mutants", type=int, default=3, help="mutants of each kind per case")
    parser.add_argument("--wide", default="16,20,24", help="data-qubit counts of the wide cases")
    parser.add_argument(
        "--random-limit",
        type=int,
        default=20,
        help="widest case for random-inputs (24 data qubits exceeded 14 GiB and 15 minutes)",
    )
    parser.add_argument("--qcec-timeout", type=float, default=30.0, help="seconds per QCEC check")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: mutation,wide,run")
    parser.add_argument(
        "--qcec-hard", action="store_true", help="also run qcec where it may reach no verdict"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    good = True
    if "run" not in skip:
        cli_run()  # first, before this process grows
    if "mutation" not in skip:
        good = mutation_table(args.mutants)
    if "wide" not in skip and args.wide:
        wide_table([int(x) for x in args.wide.split(",")], args.qcec_timeout, args.random_limit)
    if args.qcec_hard:
        qcec_hard()
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
