"""Distribution quality benchmark (the families and numbers of dqc.md).

Runs every selected allocator on QFT (no swaps), Quantum Volume and
CP-fraction circuits on all-to-all networks of k nodes with ceil(n/k) data
qubits each, transpiled to ['u', 'cp'] at optimisation level 0, and prints
the ebits next to the best published value with their ratio, plus compile
time. ``ebits`` is what the lowered program consumes with the network's
communication qubits (``--comm-qubits``; 2 per node by default): the cost
model's planned figure plus the ebits of bursts re-opened for lack of
communication qubits (``planned`` shows the cost model's figure alone).
Ring and 2D torus networks (k = 4, 6, 9) are reported without a peer.

    python benchmarks/dqc/quality.py                     # everything, auto
    python benchmarks/dqc/quality.py --families qv --sizes 16 --k 2 --seeds 0-1
    python benchmarks/dqc/quality.py --allocators all --families cp_fraction
    python benchmarks/dqc/quality.py --sparse-only --json sparse.json
    python benchmarks/dqc/quality.py --verify-only   # n <= 12: lower, simulate, compare
    python benchmarks/dqc/quality.py --compare --pytket-dqc-python /tmp/pdqc/bin/python

``--compare`` runs the side-by-side set (QFT 16/32 at k = 2, 4; CP-fraction;
QV; the CDKM adder on 28 qubits at k = 4; GHZ; Ising Trotter steps; on
all-to-all and ring networks). With a Python that has pytket-dqc
(``--pytket-dqc-python`` or ``QDFRAME_PYTKET_DQC_PYTHON``), pytket-dqc's
distributors run on the same circuits and networks in a subprocess
(``_pytket_dqc_runner.py``) and each row shows its best distributor and the
ratio; without one, those columns say ``-`` and the rest runs as usual.
Exit code 0 when everything ran, 2 on a bad option or an unusable pytket-dqc
Python.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit

from qdframe.allocation import AllocationProblem, GateArray, normalize_circuit
from qdframe.config import config_from_mapping
from qdframe.cost import evaluate
from qdframe.families import family_circuit
from qdframe.plugins import default_plugins
from qdframe.topology import build_topology

#: (family, k) -> {n: best published ebits}; dqc.md.
BEST_KNOWN: dict[tuple[str, int], dict[int, float]] = {
    ("qft", 2): {16: 7, 32: 15, 64: 31, 96: 47},
    ("qft", 4): {16: 18, 32: 42, 64: 90, 96: 138},
    ("qv", 2): {16: 127, 24: 315, 32: 565, 40: 810, 48: 1274},
    ("qv", 4): {16: 216, 24: 515, 32: 914, 40: 1333},
    ("cp_fraction", 2): {16: 11.2, 32: 47.8, 64: 203, 96: 462},
}
#: Families averaged over seeds 0..4 (QFT is deterministic).
SEEDED = {"qv", "cp_fraction"}
SPARSE_SIZES = {"qft": 32, "qv": 24, "cp_fraction": 32}
#: Small cases whose distributed circuit is simulated and compared.
VERIFY_CASES = [
    (family, n, k) for family in ("qft", "qv", "cp_fraction") for n, k in ((8, 2), (12, 2), (12, 4))
]


@dataclass
class CaseResult:
    family: str
    n: int
    k: int
    topology: str
    allocator: str
    ebits: list[int] = field(default_factory=list)
    planned: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    best_known: float | None = None
    pytket_dqc: float | None = None
    pytket_dqc_distributor: str = ""
    pytket_dqc_all: dict[str, float] = field(default_factory=dict)
    pytket_dqc_cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.ebits)

    @property
    def ratio(self) -> float | None:
        return None if self.best_known is None else self.mean / self.best_known

    @property
    def pytket_ratio(self) -> float | None:
        if not self.pytket_dqc:
            return None
        return self.mean / self.pytket_dqc


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(x) for x in text.split(",")]


def _ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, name=f"ghz{n}")
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    return circuit


def _ising(n: int, steps: int = 4) -> QuantumCircuit:
    """First-order Trotter steps of the transverse-field Ising chain (open ends)."""
    circuit = QuantumCircuit(n, name=f"ising{n}")
    for _ in range(steps):
        for parity in (0, 1):
            for q in range(parity, n - 1, 2):
                circuit.rzz(0.3, q, q + 1)
        for q in range(n):
            circuit.rx(0.2, q)
    return circuit


def _adder(n: int) -> QuantumCircuit:
    """Qiskit's CDKM ripple-carry adder ("full": 2 m + 2 qubits), decomposed."""
    from qiskit.circuit.library import CDKMRippleCarryAdder

    if n % 2 or n < 4:
        raise SystemExit(f"the adder family needs an even n >= 4 (2 m + 2 qubits), got {n}")
    return CDKMRippleCarryAdder((n - 2) // 2, kind="full").decompose(reps=3)


def _family(family: str, n: int, seed: int) -> QuantumCircuit:
    extra = {"ghz": _ghz, "ising": _ising, "adder": _adder}
    if family in extra:
        return extra[family](n)
    return family_circuit(family, n, seed)


_CIRCUITS: dict[tuple[str, int, int], QuantumCircuit] = {}


def _normalised(family: str, n: int, seed: int) -> QuantumCircuit:
    key = (family, n, seed)
    if key not in _CIRCUITS:
        _CIRCUITS[key] = normalize_circuit(_family(family, n, seed))
    return _CIRCUITS[key]


def _gates(family: str, n: int, seed: int) -> GateArray:
    return GateArray.from_circuit(_normalised(family, n, seed))


#: Communication qubits per node (``--comm-qubits``); the configuration's default when None.
COMM_QUBITS: int | None = None


def _topology(kind: str, k: int, capacity: int) -> Any:
    params: dict[str, Any] = {}
    comm = {} if COMM_QUBITS is None else {"comm_qubits_per_node": COMM_QUBITS}
    if kind == "torus":
        params["dims"] = {4: [2, 2], 6: [2, 3], 9: [3, 3]}.get(k) or None
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": k,
                "qubits_per_node": capacity,
                "network_topology": kind,
                "topology_params": {key: v for key, v in params.items() if v},
                **comm,
            }
        }
    )
    return build_topology(config, plugins=default_plugins())


def run_case(
    family: str, n: int, k: int, kind: str, allocator: str, seeds: list[int], budget: float
) -> CaseResult:
    registry = default_plugins().registries.allocators
    topology = _topology(kind, k, math.ceil(n / k))
    result = CaseResult(family, n, k, kind, allocator)
    if kind == "all_to_all":
        result.best_known = BEST_KNOWN.get((family, k), {}).get(n)
    for seed in seeds if family in SEEDED else [0]:
        problem = AllocationProblem(
            _gates(family, n, seed), topology, time_budget_s=budget, label=f"{family}{n}"
        )
        started, cpu = time.perf_counter(), time.process_time()
        allocation = registry.get(allocator)().allocate(problem, seed=seed)
        report = evaluate(problem, allocation)
        result.seconds.append(time.perf_counter() - started)
        result.cpu_seconds.append(time.process_time() - cpu)
        result.planned.append(report.ebits)
        result.ebits.append(_consumed(problem, allocation, report))
        result.used.append(allocation.allocator)
    return result


def _consumed(problem: AllocationProblem, allocation: Any, report: Any) -> int:
    """The EPR pairs the lowered program uses (the planned figure when the
    plan cannot be lowered with these communication qubits)."""
    from qdframe.distribute.lower import ebit_account
    from qdframe.errors import DistributionError, ResourceError

    try:
        return ebit_account(problem, allocation, cost=report).ebits
    except (ResourceError, DistributionError):
        return int(report.ebits)


#: The side-by-side set with pytket-dqc: (family, n, k, network).
COMPARE_CASES: list[tuple[str, int, int, str]] = [
    *[("qft", n, k, "all_to_all") for n in (16, 32) for k in (2, 4)],
    ("qft", 16, 4, "ring"),
    ("qft", 32, 4, "ring"),
    ("cp_fraction", 16, 2, "all_to_all"),
    ("cp_fraction", 32, 2, "all_to_all"),
    ("cp_fraction", 32, 4, "ring"),
    ("qv", 16, 2, "all_to_all"),
    ("qv", 24, 2, "all_to_all"),
    ("qv", 16, 4, "ring"),
    ("adder", 28, 4, "all_to_all"),
    ("adder", 28, 4, "ring"),
    ("ghz", 32, 4, "all_to_all"),
    ("ghz", 32, 4, "ring"),
    ("ising", 32, 4, "all_to_all"),
    ("ising", 32, 4, "ring"),
]
#: pytket-dqc's distributors, all run by default.
PYTKET_DQC_DISTRIBUTORS = (
    "PartitioningAnnealing",
    "PartitioningHeterogeneous",
    "PartitioningHeterogeneousEmbedding",
    "CoverEmbedding",
    "CoverEmbeddingSteiner",
    "CoverEmbeddingSteinerDetached",
)
_RUNNER = Path(__file__).with_name("_pytket_dqc_runner.py")


def _gate_list(circuit: QuantumCircuit) -> list[list[Any]]:
    gates: list[list[Any]] = []
    for instruction in circuit.data:
        op = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        params = [float(p) for p in op.params]
        if op.name == "u":
            gates.append(["u", qubits[0], *params])
        elif op.name == "cp":
            gates.append(["cp", qubits[0], qubits[1], params[0]])
        elif op.name not in ("measure", "barrier"):
            raise ValueError(f"unexpected gate {op.name!r} in a normalised circuit")
    return gates


def _network(topology: Any) -> tuple[list[list[int]], list[list[int]]]:
    """pytket-dqc's description of ``topology``: qubit ids per server, links."""
    servers, start = [], 0
    for cap in topology.data_qubits.tolist():
        servers.append(list(range(start, start + int(cap))))
        start += int(cap)
    return servers, [[int(u), int(v)] for u, v in topology.edges.tolist()]


def check_pytket_dqc(python: str) -> str | None:
    """Why ``python`` cannot run pytket-dqc, or ``None`` when it can."""
    try:
        done = subprocess.run(
            [python, "-c", "import pytket_dqc, kahypar"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python!r}: {exc}"
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        return f"{python!r} cannot import pytket_dqc and kahypar: {tail[0]}"
    return None


def run_pytket_dqc(
    python: str,
    result: CaseResult,
    seeds: list[int],
    distributor_seeds: list[int],
    distributors: list[str],
    timeout_s: float,
) -> None:
    """Run pytket-dqc on ``result``'s case; fill in its best distributor.

    Seeded circuits run with the circuit's seed, unseeded ones (QFT, GHZ,
    ...) once per distributor seed; a distributor's figure is its mean, and
    the best distributor is the one with the lowest mean.
    """
    topology = _topology(result.topology, result.k, math.ceil(result.n / result.k))
    servers, coupling = _network(topology)
    circuit_seeds = seeds if result.family in SEEDED else [0]
    cases = [
        {
            "id": f"s{s}",
            "num_qubits": result.n,
            "gates": _gate_list(_normalised(result.family, result.n, s)),
            "servers": servers,
            "coupling": coupling,
            "distributors": distributors,
            "seeds": [s] if result.family in SEEDED else distributor_seeds,
        }
        for s in circuit_seeds
    ]
    try:
        done = subprocess.run(
            [python, str(_RUNNER)],
            input=json.dumps({"cases": cases}),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        out = done.stdout
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or ""
        out = raw.decode() if isinstance(raw, bytes) else raw
        print(f"  pytket-dqc: {result.family}{result.n} timed out after {timeout_s:g} s")
    costs: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    for line in out.splitlines():
        row = json.loads(line)
        cpu[row["distributor"]] = cpu.get(row["distributor"], 0.0) + float(row["cpu_seconds"])
        if "ebits" in row:
            costs.setdefault(row["distributor"], []).append(float(row["ebits"]))
        else:
            print(f"  pytket-dqc {row['distributor']}: {row.get('error')}")
    expected = len(circuit_seeds) * (1 if result.family in SEEDED else len(distributor_seeds))
    means = {name: statistics.fmean(v) for name, v in costs.items() if len(v) == expected}
    result.pytket_dqc_all = means
    result.pytket_dqc_cpu_s = {name: round(t, 2) for name, t in cpu.items()}
    if means:
        best = min(means, key=lambda name: (means[name], name))
        result.pytket_dqc, result.pytket_dqc_distributor = means[best], best


def verify_case(
    family: str, n: int, k: int, allocator: str, seed: int, budget: float
) -> tuple[int, int, bool, float]:
    """Plan, lower and simulate one small case: (plan ebits, EPR pairs in the
    distributed circuit, verified, distance)."""
    from qdframe.distribute import compile_distributed
    from qdframe.planning import Plan
    from qdframe.verification import verify

    original = family_circuit(family, n, seed)
    circuit = normalize_circuit(original)
    topology = _topology("all_to_all", k, math.ceil(n / k))
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology, time_budget_s=budget)
    allocation = (
        default_plugins().registries.allocators.get(allocator)().allocate(problem, seed=seed)
    )
    report = evaluate(problem, allocation)
    plan = Plan(circuit, problem, allocation, report, allocation.allocator, "")
    program = compile_distributed(circuit, plan)
    result = verify(original, program)
    return report.ebits, program.ebits, result.verified, result.distance


def _row(result: CaseResult) -> str:
    best = "-" if result.best_known is None else f"{result.best_known:g}"
    ratio = "-" if result.ratio is None else f"{result.ratio:.2f}"
    used = (
        "" if set(result.used) == {result.allocator} else f" ({'/'.join(sorted(set(result.used)))})"
    )
    return (
        f"{result.family:<12}{result.n:>4}{result.k:>3} {result.topology:<11}"
        f"{result.allocator + used:<32}{result.mean:>9.1f}"
        f"{statistics.fmean(result.planned):>9.1f}{best:>8}{ratio:>7}"
        f"{statistics.fmean(result.seconds):>8.2f}{max(result.seconds):>8.2f}"
        f"{max(result.cpu_seconds):>8.2f}"
    )


def _compare_row(result: CaseResult) -> str:
    theirs = "-" if result.pytket_dqc is None else f"{result.pytket_dqc:.1f}"
    ratio = "-" if result.pytket_ratio is None else f"{result.pytket_ratio:.2f}"
    return f"{_row(result)}{theirs:>11}{ratio:>7}  {result.pytket_dqc_distributor or '-'}"


HEADER = (
    f"{'family':<12}{'n':>4}{'k':>3} {'network':<11}{'allocator':<32}{'ebits':>9}"
    f"{'planned':>9}{'best':>8}{'ratio':>7}{'mean s':>8}{'max s':>8}{'max cpu':>8}"
)
COMPARE_HEADER = f"{HEADER}{'pytket-dqc':>11}{'ratio':>7}  best distributor"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default=parser_default_families)
    parser.add_argument("--allocators", default="auto", help="comma list, or 'all'")
    parser.add_argument("--sizes", default=None, help="comma list of n (default: dqc.md)")
    parser.add_argument("--k", default=None, help="comma list of node counts")
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--budget", type=float, default=8.0, help="allocator seconds per case")
    parser.add_argument("--sparse", action="store_true", help="also run ring and torus")
    parser.add_argument("--sparse-only", action="store_true")
    parser.add_argument("--verify", action="store_true", help="also verify n <= 12 cases")
    parser.add_argument("--verify-only", action="store_true")
    parser.add_argument("--json", default=None, help="write results to this file")
    parser.add_argument(
        "--comm-qubits",
        type=int,
        default=None,
        help="communication qubits per node (default: the configuration's, 2)",
    )
    parser.add_argument("--compare", action="store_true", help="the side-by-side set only")
    parser.add_argument(
        "--pytket-dqc-python",
        default=os.environ.get("QDFRAME_PYTKET_DQC_PYTHON"),
        help="a Python with pytket-dqc (default: $QDFRAME_PYTKET_DQC_PYTHON)",
    )
    parser.add_argument("--pytket-dqc-seeds", default="0-2", help="distributor seeds")
    parser.add_argument(
        "--pytket-dqc-distributors",
        default=",".join(PYTKET_DQC_DISTRIBUTORS),
        help="comma list of pytket-dqc distributors",
    )
    parser.add_argument("--pytket-dqc-timeout", type=float, default=1800.0, help="seconds per case")
    args = parser.parse_args(argv)
    global COMM_QUBITS
    if args.comm_qubits is not None and args.comm_qubits < 1:
        print(f"--comm-qubits must be a positive integer, got {args.comm_qubits}", file=sys.stderr)
        return 2
    COMM_QUBITS = args.comm_qubits

    registry = default_plugins().registries.allocators
    allocators = registry.names() if args.allocators == "all" else args.allocators.split(",")
    unknown = sorted(set(allocators) - set(registry.names()))
    if unknown:
        print(
            f"unknown allocator(s) {', '.join(unknown)}; registered: {', '.join(registry.names())}",
            file=sys.stderr,
        )
        return 2
    if args.compare:
        return _compare(args, allocators)
    families = args.families.split(",")
    seeds = _seeds(args.seeds)
    sizes = None if args.sizes is None else {int(x) for x in args.sizes.split(",")}
    ks = None if args.k is None else {int(x) for x in args.k.split(",")}
    print(f"seeds {seeds}; budget {args.budget:g} s per case; allocators {allocators}")
    print(HEADER)
    results: list[CaseResult] = []

    def record(result: CaseResult) -> None:
        results.append(result)
        print(_row(result), flush=True)

    if args.verify or args.verify_only:
        _verify_all(allocators, args.budget)
        if args.verify_only:
            return 0
    if not args.sparse_only:
        for (family, k), table in BEST_KNOWN.items():
            if family not in families or (ks is not None and k not in ks):
                continue
            for n in sorted(table):
                if sizes is not None and n not in sizes:
                    continue
                for name in allocators:
                    record(run_case(family, n, k, "all_to_all", name, seeds, args.budget))
    if args.sparse or args.sparse_only:
        for family in families:
            n = SPARSE_SIZES[family]
            if sizes is not None:
                n = min(sizes)
            for kind in ("ring", "torus"):
                for k in sorted(ks or {4, 6, 9}):
                    for name in allocators:
                        record(run_case(family, n, k, kind, name, seeds, args.budget))

    _summary(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([{**asdict(r), "mean": r.mean, "ratio": r.ratio} for r in results], handle)
    return 0


def _compare(args: argparse.Namespace, allocators: list[str]) -> int:
    python = args.pytket_dqc_python
    distributors = [d for d in args.pytket_dqc_distributors.split(",") if d]
    bad = sorted(set(distributors) - set(PYTKET_DQC_DISTRIBUTORS))
    if bad:
        print(
            f"unknown pytket-dqc distributor(s) {', '.join(bad)}; "
            f"allowed: {', '.join(PYTKET_DQC_DISTRIBUTORS)}",
            file=sys.stderr,
        )
        return 2
    if python:
        problem = check_pytket_dqc(python)
        if problem:
            print(f"--pytket-dqc-python: {problem}", file=sys.stderr)
            return 2
    seeds = _seeds(args.seeds)
    families = None if args.families == parser_default_families else set(args.families.split(","))
    print(
        f"seeds {seeds}; safety cap {args.budget:g} s per case; allocators {allocators}; "
        + (
            f"pytket-dqc ({python}) distributors {distributors}, seeds {args.pytket_dqc_seeds}"
            if python
            else "pytket-dqc: not given (--pytket-dqc-python), its columns are skipped"
        )
    )
    print(COMPARE_HEADER)
    results: list[CaseResult] = []
    for family, n, k, kind in COMPARE_CASES:
        if families is not None and family not in families:
            continue
        for name in allocators:
            result = run_case(family, n, k, kind, name, seeds, args.budget)
            if python:
                run_pytket_dqc(
                    python,
                    result,
                    seeds,
                    _seeds(args.pytket_dqc_seeds),
                    distributors,
                    args.pytket_dqc_timeout,
                )
            results.append(result)
            print(_compare_row(result), flush=True)
    compared = [r for r in results if r.pytket_ratio is not None]
    if compared:
        ratios = [r.pytket_ratio for r in compared if r.pytket_ratio is not None]
        at_or_below = sum(1 for x in ratios if x <= 1.0)
        print(
            f"\nagainst pytket-dqc's best distributor: {at_or_below}/{len(ratios)} cases at or "
            f"below, geometric mean ratio {statistics.geometric_mean(ratios):.3f}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([{**asdict(r), "mean": r.mean} for r in results], handle)
    return 0


parser_default_families = "qft,qv,cp_fraction"


def _verify_all(allocators: list[str], budget: float) -> None:
    print("verification (lowered with qdframe.distribute, simulated exactly):")
    print(
        f"  {'family':<12}{'n':>4}{'k':>3} {'allocator':<16}{'plan ebits':>11}"
        f"{'EPR pairs':>10}  verified  distance"
    )
    for family, n, k in VERIFY_CASES:
        for name in allocators:
            plan_ebits, pairs, ok, distance = verify_case(family, n, k, name, 0, budget)
            print(
                f"  {family:<12}{n:>4}{k:>3} {name:<16}{plan_ebits:>11}{pairs:>10}  "
                f"{'yes' if ok else 'NO':<8}  {distance:.2e}",
                flush=True,
            )
    print()


def _summary(results: list[CaseResult]) -> None:
    print("\nsummary (all-to-all cases with a peer value):")
    by_key: dict[tuple[str, str], list[CaseResult]] = {}
    for r in results:
        if r.ratio is not None:
            by_key.setdefault((r.family, r.allocator), []).append(r)
    for (family, allocator), rows in sorted(by_key.items()):
        ratios = [r.ratio for r in rows if r.ratio is not None]
        at_or_below = sum(1 for x in ratios if x <= 1.0)
        slow = [r for r in rows if r.n <= 48 and max(r.seconds) >= 10.0]
        print(
            f"  {family:<12}{allocator:<16} mean ratio {statistics.fmean(ratios):.3f}; "
            f"{at_or_below}/{len(ratios)} cases at or below best known; "
            f"{len(slow)} cases with n <= 48 over 10 s"
        )


if __name__ == "__main__":
    sys.exit(main())
