"""Overhead of the Qiskit Sampler against DistributedSystem.run for the same work.

The work: one 12-qubit parameterised circuit (``real_amplitudes``, linear
entanglement, measured) with 10 parameter sets, ``--shots`` shots each, on a
ring of 3 nodes of 4 data qubits.

* ``run``: ``DistributedSystem.run`` once per parameter set (the circuit bound
  first), so each set is planned, lowered and scheduled again;
* ``sampler``: ``qdframe.qiskit.Sampler.run([(circuit, values, shots)])``,
  which plans and lowers the circuit once and binds each set into it.

Each variant runs in its own fresh process (so peak memory is its own),
after the same warm-up (plugins loaded, one small run). Wall time, CPU time
(user + system of the process, worker threads included) and peak resident
memory are printed side by side with the ratio sampler / run. The issue's
goal is a ratio of at most 2.

    python benchmarks/qiskit_primitives.py [--shots 128] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

NUM_QUBITS = 12
PARAMETER_SETS = 10


def _config() -> Any:
    import qdframe as qd

    return qd.SystemConfig.model_validate(
        {
            "distributed": {
                "num_nodes": 3,
                "qubits_per_node": 4,
                "network_topology": "ring",
                "allocator": "greedy",
            },
            "resources": {"executor_workers": 1},
        }
    )


def _workload() -> tuple[Any, Any]:
    import numpy as np
    from qiskit.circuit.library import real_amplitudes

    circuit = real_amplitudes(NUM_QUBITS, reps=1, entanglement="linear")
    circuit.measure_all()
    values = np.random.default_rng(7).uniform(0, np.pi, (PARAMETER_SETS, circuit.num_parameters))
    return circuit, values


def _child(variant: str, shots: int) -> dict[str, Any]:
    from qiskit import QuantumCircuit

    import qdframe as qd
    from qdframe.qiskit import Sampler

    circuit, values = _workload()
    with qd.DistributedSystem(_config()) as system:
        warm = QuantumCircuit(2)
        warm.h(0)
        warm.cx(0, 1)
        warm.measure_all()
        sampler = Sampler(system, seed=11)
        if variant == "run":
            system.run(warm, shots=8, seed=1)
        else:
            sampler.run([(warm, None, 8)]).result()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        wall0 = time.perf_counter()
        total = 0
        if variant == "run":
            for i, row in enumerate(values):
                result = system.run(circuit.assign_parameters(row), shots=shots, seed=100 + i)
                total += sum(result.counts.values())
        else:
            pub = sampler.run([(circuit, values, shots)]).result()[0]
            total = int(pub.data.meas.num_shots * pub.data.meas.size)
        wall = time.perf_counter() - wall0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - cpu0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_s": wall, "cpu_s": cpu, "peak_mib": peak_kib / 1024, "shots": total}


def _measure(variant: str, shots: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--shots", str(shots)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=128, help="shots per parameter set")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per variant")
    parser.add_argument("--child", choices=["run", "sampler"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.shots < 1 or args.repeat < 1:
        parser.error("--shots and --repeat must be >= 1")
    if args.child:
        print(json.dumps(_child(args.child, args.shots)))
        return 0
    rows: dict[str, list[dict[str, Any]]] = {"run": [], "sampler": []}
    for _ in range(args.repeat):
        for variant in ("run", "sampler"):  # interleaved, so load drifts hit both
            rows[variant].append(_measure(variant, args.shots))
    best = {v: min(r, key=lambda x: x["wall_s"]) for v, r in rows.items()}
    print(
        f"{NUM_QUBITS}-qubit PUB, {PARAMETER_SETS} parameter sets x {args.shots} shots, "
        f"ring 3 x 4 (best of {args.repeat})"
    )
    print(f"{'':>16} {'run':>10} {'sampler':>10} {'ratio':>8}")
    for key, label in (("wall_s", "wall s"), ("cpu_s", "cpu s"), ("peak_mib", "peak RSS MiB")):
        a, b = best["run"][key], best["sampler"][key]
        print(f"{label:>16} {a:10.3f} {b:10.3f} {b / a:8.2f}")
    ratio = best["sampler"]["wall_s"] / best["run"]["wall_s"]
    print(f"shots: run {best['run']['shots']}, sampler {best['sampler']['shots']}")
    print(f"overhead ratio (sampler / run, wall): {ratio:.2f} (goal <= 2)")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
