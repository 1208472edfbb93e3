"""What each built-in optimizer saves on the distribution benchmark families.

For the families of ``benchmarks/dqc.md`` (QFT without swaps, Quantum Volume,
CP-fraction random circuits) on all-to-all networks of ``k`` nodes with
``ceil(n / k)`` data qubits each, every circuit is planned four times -
as it is, after ``transpile``, after ``burst_merge``, and after both - with
the same allocator and seed, and the ebits of the plans are compared. The
circuit figures the passes report (two-qubit gates, and segment breaks:
places where a non-diagonal gate splits a qubit's controlled phases, each a
potential extra burst) are printed too.

``route_choice`` only matters when links differ, so it is measured on rings
and tori whose links get random raw-pair fidelities (0.90 to 0.999) and
generation rates (500 to 2000 Hz), seeded: the mean infidelity and latency
of the pairs the plan needs, before and after, and the fidelity estimate of
the scheduled program.

    python benchmarks/optimizers.py                  # the default cases
    python benchmarks/optimizers.py --quick          # smallest sizes only
    python benchmarks/optimizers.py --json           # machine-readable

Seeds: circuits use seeds 0..(seeds-1); allocators and link draws use --seed.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from qiskit import QuantumCircuit

from qdframe.config import SystemConfig, config_from_mapping
from qdframe.context import RunContext
from qdframe.distribute import RouteTable, compile_distributed
from qdframe.families import family_circuit
from qdframe.planning import make_plan
from qdframe.plugins import default_plugins
from qdframe.schedule import schedule
from qdframe.topology import LinkSpec, Topology

CASES: dict[str, list[tuple[int, int]]] = {
    "qft": [(16, 2), (32, 2), (16, 4), (32, 4)],
    "qv": [(16, 2), (24, 2), (16, 4), (24, 4)],
    "cp_fraction": [(16, 2), (32, 2)],
}
QUICK: dict[str, list[tuple[int, int]]] = {
    "qft": [(16, 2), (16, 4)],
    "qv": [(16, 2)],
    "cp_fraction": [(16, 2)],
}


def _config(n: int, k: int, topology: str = "all_to_all") -> SystemConfig:
    return config_from_mapping(
        {
            "distributed": {
                "num_nodes": k,
                "qubits_per_node": math.ceil(n / k),
                "network_topology": topology,
                "allocator": "auto",
            }
        }
    )


def _optimizer(name: str) -> Callable[[Any, RunContext], Any]:
    registry = default_plugins().registries.optimizers
    instance = registry.get(name)(level=3) if name == "transpile" else registry.get(name)()
    return instance.optimize  # type: ignore[no-any-return]


def circuit_case(
    family: str, n: int, k: int, seed: int, budget: float, plan_seed: int
) -> dict[str, Any]:
    """Ebits of the four variants of one circuit."""
    config = _config(n, k)
    context = RunContext("bench", config)
    circuit = family_circuit(family, n, seed)
    variants: dict[str, QuantumCircuit] = {"baseline": circuit}
    figures: dict[str, dict[str, float]] = {}
    out, report = _optimizer("transpile")(circuit, context)
    variants["transpile"] = out
    figures["transpile"] = report.saved
    out, report = _optimizer("burst_merge")(circuit, context)
    variants["burst_merge"] = out
    figures["burst_merge"] = report.saved
    both, _ = _optimizer("transpile")(circuit, context)
    both, _ = _optimizer("burst_merge")(both, context)
    variants["both"] = both
    ebits: dict[str, int] = {}
    started = time.perf_counter()
    for name, variant in variants.items():
        plan = make_plan(
            variant, config, plugins=default_plugins(), seed=plan_seed, time_budget_s=budget
        )
        ebits[name] = plan.cost.ebits
    return {
        "family": family,
        "n": n,
        "k": k,
        "seed": seed,
        "ebits": ebits,
        "reported": figures,
        "seconds": time.perf_counter() - started,
    }


def _random_links(topology: Topology, rng: np.random.Generator) -> dict[tuple[int, int], LinkSpec]:
    return {
        (int(u), int(v)): LinkSpec(
            latency_us=float(rng.uniform(20, 200)),
            epr_rate_hz=float(rng.uniform(500, 2000)),
            epr_fidelity=float(rng.uniform(0.90, 0.999)),
        )
        for u, v in topology.edges.tolist()
    }


def route_case(shape: str, k: int, n: int, seed: int, budget: float) -> dict[str, Any]:
    """Route choice on a network of unequal links, for a QFT on ``n`` qubits."""
    config = _config(n, k, shape)
    plan = make_plan(
        family_circuit("qft", n, 0),
        config,
        plugins=default_plugins(),
        seed=seed,
        time_budget_s=budget,
    )
    base = plan.problem.topology
    rng = np.random.default_rng(seed)
    uneven = Topology(
        base.name, base.num_nodes, [tuple(e) for e in base.edges.tolist()],
        data_qubits=base.data_qubits.tolist(), comm_qubits=base.comm_qubits.tolist(),
        link_overrides=_random_links(base, rng),
    )  # fmt: skip
    from qdframe.distribute import plan_from_allocation

    uneven_plan = plan_from_allocation(plan.circuit, uneven, plan.allocation, normalize=False)
    context = RunContext("bench", config)
    results: dict[str, Any] = {"shape": shape, "k": k, "n": n, "ebits": uneven_plan.cost.ebits}
    table = RouteTable.for_plan(uneven_plan)
    for extra in (0, 2):
        optimizer = default_plugins().registries.optimizers.get("route_choice")(
            max_extra_hops=extra
        )
        routes, report = optimizer.optimize(table, context)
        before = schedule(compile_distributed(None, uneven_plan, config), config)
        after = schedule(compile_distributed(None, uneven_plan, config, routes=routes), config)
        results[f"extra_hops_{extra}"] = {
            "saved": report.saved,
            "routes_changed": report.details["routes_changed"],
            "fidelity_estimate": [before.fidelity.total, after.fidelity.total],
            "epr_factor": [before.fidelity.epr, after.fidelity.epr],
            "makespan_us": [before.makespan_us, after.makespan_us],
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only")
    parser.add_argument("--seeds", type=int, default=3, help="circuit seeds for QV / CP-fraction")
    parser.add_argument("--seed", type=int, default=0, help="allocator and link seed")
    parser.add_argument("--time-budget", type=float, default=2.0, help="allocator seconds per plan")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else CASES
    rows = []
    for family, sizes in cases.items():
        seeds = range(args.seeds) if family != "qft" else range(1)
        for n, k in sizes:
            for seed in seeds:
                row = circuit_case(family, n, k, seed, args.time_budget, args.seed)
                rows.append(row)
                if not args.json:
                    print(f"  {family} n={n} k={k} seed={seed}: {row['ebits']}", file=sys.stderr)
    summary: list[dict[str, Any]] = []
    for family, sizes in cases.items():
        for n, k in sizes:
            group = [r for r in rows if r["family"] == family and r["n"] == n and r["k"] == k]
            mean = {v: statistics.mean(r["ebits"][v] for r in group) for v in group[0]["ebits"]}
            reported = {
                name: {key: statistics.mean(r["reported"][name][key] for r in group)
                       for key in ("two_qubit_gates", "segment_breaks")}
                for name in ("transpile", "burst_merge")
            }  # fmt: skip
            summary.append({"family": family, "n": n, "k": k, "ebits": mean, "gates": reported})
    routes = [
        route_case(shape, k, 16, args.seed, args.time_budget)
        for shape, k in ([("ring", 4)] if args.quick else [("ring", 4), ("ring", 6), ("torus", 9)])
    ]
    if args.json:
        print(json.dumps({"circuits": summary, "routes": routes, "rows": rows}, indent=2))
        return 0
    header = f"{'family':<12}{'n':>4}{'k':>3}  {'baseline':>9}{'transpile':>10}{'merge':>8}"
    print(header + f"{'both':>8}   2q saved (T)  segment breaks saved (T / M)")
    for s in summary:
        e: dict[str, float] = s["ebits"]
        g: dict[str, dict[str, float]] = s["gates"]
        ebits = (
            f"{e['baseline']:>9.1f}{e['transpile']:>10.1f}{e['burst_merge']:>8.1f}{e['both']:>8.1f}"
        )
        gates = (
            f"{g['transpile']['two_qubit_gates']:>14.1f}  "
            f"{g['transpile']['segment_breaks']:>6.1f} / "
            f"{g['burst_merge']['segment_breaks']:.1f}"
        )
        print(f"{s['family']:<12}{s['n']:>4}{s['k']:>3}  {ebits}{gates}")
    print("\nroute_choice on unequal links (QFT16):")
    for r in routes:
        for extra in (0, 2):
            c = r[f"extra_hops_{extra}"]
            saved = c["saved"]
            print(
                f"  {r['shape']} k={r['k']} extra_hops<={extra}: "
                f"routes changed {c['routes_changed']}, "
                f"pair infidelity {-saved['mean_pair_infidelity']:+.4f}, "
                f"latency {-saved['mean_pair_latency_us']:+.1f} us, "
                f"extra ebits {int(-saved['ebits'])}; estimate "
                f"{c['fidelity_estimate'][0]:.4f} -> {c['fidelity_estimate'][1]:.4f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
