"""Packing against spreading a circuit's qubits over the nodes (``[resources] load_balancing``).

Run: ``python benchmarks/load_balancing.py`` (``--help`` for the options).
For QFT, Quantum Volume and CP-fraction circuits (16 qubits by default) on 4
nodes of 8 data qubits, all-to-all and ring, each case is planned twice with
the default allocator (``auto``) and the same seed: ``pack`` (the default)
and ``spread`` (each node offers the allocator at most ceil(n / nodes) data
qubits). Printed side by side: the ebits the lowered program consumes
(:attr:`qdframe.planning.Plan.ebits`), the most qubits and the most
two-qubit gates on one node (``Plan.load()``), and the makespan of the
lowered program's schedule under the default timing model
(``qdframe.schedule.schedule``), plus the CPU time of planning, lowering and
scheduling each case (after one untimed warm-up case). The process's peak
resident set size is printed at the end. Exit code 0 when every case ran, 2
on a bad option.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

from qdframe.config import config_from_mapping
from qdframe.distribute.lower import lower
from qdframe.families import family_circuit
from qdframe.planning import make_plan
from qdframe.plugins import load_plugins
from qdframe.schedule import schedule

FAMILIES = ("qft", "qv", "cp_fraction")
TOPOLOGIES = ("all_to_all", "ring")
MODES = ("pack", "spread")


def _case(
    plugins: Any,
    family: str,
    n: int,
    topology: str,
    mode: str,
    nodes: int,
    per_node: int,
    seed: int,
) -> dict[str, Any]:
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": per_node,
                "network_topology": topology,
            },
            "resources": {"load_balancing": mode},
        }
    )
    circuit = family_circuit(family, n, seed=seed)
    cpu = time.process_time()
    plan = make_plan(circuit, config, plugins=plugins, seed=seed)
    program = lower(plan.problem, plan.allocation, cost=plan.cost, circuit=plan.circuit)
    timed = schedule(program, config)
    cpu = time.process_time() - cpu
    load = plan.load()
    return {
        "family": family,
        "n": n,
        "topology": topology,
        "mode": mode,
        "allocator": plan.allocator,
        "ebits": plan.ebits,
        "max_qubits_per_node": load["max_qubits_per_node"],
        "max_gates_per_node": load["max_gates_per_node"],
        "makespan_us": round(float(timed.makespan_us), 1),
        "cpu_s": round(cpu, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--topologies", nargs="+", choices=TOPOLOGIES, default=list(TOPOLOGIES))
    parser.add_argument("--qubits", type=int, default=16, help="circuit width (default 16)")
    parser.add_argument("--nodes", type=int, default=4, help="nodes (default 4)")
    parser.add_argument("--per-node", type=int, default=8, help="data qubits per node (8)")
    parser.add_argument("--seed", type=int, default=0, help="circuit and allocator seed")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.qubits < 2 or args.nodes < 1 or args.per_node < 1:
        parser.error("--qubits must be >= 2, --nodes and --per-node >= 1")
    if args.qubits > args.nodes * args.per_node:
        parser.error(
            f"--qubits {args.qubits} does not fit {args.nodes} nodes of {args.per_node} qubits"
        )

    plugins = load_plugins()
    shape = (args.qubits, args.topologies[0], "pack", args.nodes, args.per_node, args.seed)
    _case(plugins, args.families[0], *shape)  # warm-up: imports and first-call costs
    rows = [
        _case(plugins, family, args.qubits, topology, mode, args.nodes, args.per_node, args.seed)
        for family in args.families
        for topology in args.topologies
        for mode in MODES
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    if args.json:
        print(json.dumps({"rows": rows, "peak_rss_bytes": peak}, indent=2))
        return 0
    print(
        f"{args.qubits} qubits on {args.nodes} nodes of {args.per_node}; pack | spread per column"
    )
    header = (
        f"{'family':<12} {'topology':<10} {'ebits':>9} {'qubits/node':>11} "
        f"{'gates/node':>11} {'makespan us':>21} {'cpu s':>13}"
    )
    print(header)
    for pack, spread in zip(rows[::2], rows[1::2], strict=True):

        def pair(key: str, width: int, p: dict[str, Any] = pack, s: dict[str, Any] = spread) -> str:
            return f"{f'{p[key]} | {s[key]}':>{width}}"

        print(
            f"{pack['family']:<12} {pack['topology']:<10} {pair('ebits', 9)} "
            f"{pair('max_qubits_per_node', 11)} {pair('max_gates_per_node', 11)} "
            f"{pair('makespan_us', 21)} {pair('cpu_s', 13)}"
        )
    print(f"peak RSS {peak / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
