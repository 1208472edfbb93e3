"""How close the pre-run estimate of ``qdframe run`` is to the execute stage it predicts.

Run: ``python benchmarks/estimate.py`` (``--help`` for the options).
For QFT circuits (measured, no final swaps) on rings of nodes, the
distributed circuit is built once; then :func:`qdframe.estimate.estimate_run`
prices one shot batch on the chosen backend, and the same batch runs on that
backend after one warm-up run. Printed per case: the qubits the estimate
says are in use at once (of the circuit's physical qubits), the estimate,
the measured CPU time (all threads of this process) and wall time, and the
ratio estimate / CPU time. The estimate promises an order of magnitude: the
goal is a ratio between 0.1 and 10.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

_CASES = {"qft8x2": (8, 2), "qft12x4": (12, 4), "qft16x4": (16, 4), "qft20x4": (20, 4)}


def _distributed(n: int, nodes: int) -> Any:
    from qdframe.config import config_from_mapping
    from qdframe.distribute import compile_distributed
    from qdframe.families import qft_no_swaps
    from qdframe.planning import make_plan
    from qdframe.plugins import default_plugins

    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": -(-n // nodes),
                "network_topology": "ring",
            }
        }
    )
    circuit = qft_no_swaps(n)
    circuit.h(0)
    circuit.measure_all()
    plan = make_plan(circuit, config, plugins=default_plugins(), seed=1)
    return compile_distributed(circuit, plan, config).to_circuit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(_CASES), default=sorted(_CASES)[:3])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--shots", type=int, default=100, help="shots of the one batch")
    args = parser.parse_args(argv)

    import qdframe
    from qdframe.estimate import estimate_run
    from qdframe.plugins import default_plugins

    plugins = default_plugins()
    backend = qdframe.get_backend(args.backend, plugins=plugins)
    print(f"{'case':9} {'qubits':>9} {'estimate s':>11} {'cpu s':>8} {'wall s':>8} {'ratio':>6}")
    for name in args.cases:
        circuit = _distributed(*_CASES[name])
        estimate = estimate_run(
            circuit, args.shots, batch_shots=args.shots, backend=args.backend, plugins=plugins
        )
        backend.run(circuit, shots=args.shots, seed=1)  # warm-up
        cpu, wall = time.process_time(), time.perf_counter()
        backend.run(circuit, shots=args.shots, seed=1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        qubits = f"{estimate.simulated_qubits}/{estimate.circuit_qubits}"
        print(
            f"{name:9} {qubits:>9} {estimate.seconds:11.3f} {cpu:8.3f} {wall:8.3f} "
            f"{estimate.seconds / max(cpu, 1e-9):6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
