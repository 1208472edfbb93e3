"""Allocators search a budget of work, not of seconds: the same seed gives the
same allocation on an idle and on a busy machine, the work budget bounds the
work done, and the CPU-time cap is only a safety limit that is reported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from qdframe_allocators import (
    AnnealingAllocator,
    AutoAllocator,
    FMAllocator,
    TemporalAllocator,
    TopologyAwareAllocator,
)
from qdframe_allocators._base import Budget
from qdframe_allocators._catalog import make_allocator
from qdframe_topologies import build_all_to_all, build_ring

import qdframe
from qdframe.allocation import Allocation, AllocationProblem
from qdframe.errors import ConfigError
from qdframe.families import cp_fraction, quantum_volume

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "qdframe_allocators"


def _qv(n: int = 10, k: int = 2, *, cap_s: float = 60.0) -> AllocationProblem:
    topology = build_all_to_all(k, qubits_per_node=-(-n // k))
    return AllocationProblem.from_circuit(
        quantum_volume(n, n, seed=1), topology, time_budget_s=cap_s
    )


def _same(a: Allocation, b: Allocation) -> bool:
    return bool(
        np.array_equal(a.assignment, b.assignment)
        and np.array_equal(a.slice_starts, b.slice_starts)
    )


# ------------------------------------------------------------------ Budget


def test_budget_counts_units_and_sub_budgets_spend_their_parent() -> None:
    budget = Budget(10, 60.0)
    child = budget.sub(4)
    for _ in range(4):
        assert not child.expired()
        child.spend()
    assert child.expired() and not budget.expired()
    assert budget.used == 4 and budget.left() == 6
    half = budget.share(0.5)
    assert half.left() == 3
    budget.spend(6)
    assert budget.expired() and half.expired()  # a parent's end ends its children
    assert budget.notes() == {"work": 10, "work_budget": 10, "time_cap_hit": False}


def test_an_unlimited_budget_ends_only_at_its_cap_and_says_so() -> None:
    budget = Budget(None, 60.0)
    budget.spend(10**9)
    assert budget.left() is None and not budget.expired()
    capped = Budget(None, 0.0)
    assert capped.expired() and capped.cap_hit
    assert capped.sub(None).cap_hit  # children share the cap
    assert capped.notes()["time_cap_hit"] is True


@pytest.mark.parametrize("work", [0, -3, 2.5, "many", True])
def test_a_work_budget_that_is_not_a_positive_integer_is_refused(work: Any) -> None:
    with pytest.raises(ConfigError, match="work must be a positive integer"):
        FMAllocator(work=work).allocate(_qv(6), seed=0)


# ------------------------------------------------------------ work bounds


@pytest.mark.parametrize(
    "factory",
    [
        lambda w: FMAllocator(work=w),
        lambda w: TemporalAllocator(work=w),
        lambda w: AnnealingAllocator(work=w, start="greedy"),
    ],
    ids=["fm", "temporal", "annealing"],
)
def test_the_work_budget_bounds_the_work(factory: Any) -> None:
    problem = _qv()
    unbounded = factory(None).allocate(problem, seed=3)
    used = int(unbounded.notes["work"])
    limit = max(1, used // 10)
    bounded = factory(limit).allocate(problem, seed=3)
    assert used > limit  # the limit below really cuts the search short
    assert 0 < int(bounded.notes["work"]) <= limit
    assert bounded.notes["work_budget"] == limit
    assert bounded.notes["time_cap_hit"] is False


def test_temporal_stops_when_converged_not_at_its_cap() -> None:
    # A generous cap: a converging search ends long before it.
    problem = _qv(cap_s=600.0)
    allocation = TemporalAllocator().allocate(problem, seed=0)
    assert allocation.notes["time_cap_hit"] is False
    assert float(allocation.notes["time_s"]) < 60.0
    assert allocation.notes["work_budget"] is None


def test_a_hit_cap_is_reported_in_the_notes() -> None:
    problem = _qv(12, cap_s=1e-6)
    allocation = TemporalAllocator().allocate(problem, seed=0)
    assert allocation.notes["time_cap_hit"] is True
    allocation.check(problem)


# ------------------------------------------------------------ determinism


def _burn(count: int) -> list[subprocess.Popen[bytes]]:
    code = "import time\nend = time.time() + 120\nwhile time.time() < end:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_plan_on_a_busy_machine() -> None:
    problems = {
        "auto qv": (AutoAllocator, _qv(12, 3)),
        "auto cp-fraction": (
            AutoAllocator,
            AllocationProblem.from_circuit(
                cp_fraction(16, 16, 0.5, seed=2), build_all_to_all(2, qubits_per_node=8)
            ),
        ),
        "topology_aware ring": (
            TopologyAwareAllocator,
            AllocationProblem.from_circuit(
                quantum_volume(8, 8, seed=0), build_ring(4, qubits_per_node=2)
            ),
        ),
    }
    idle = {name: cls().allocate(p, seed=5) for name, (cls, p) in problems.items()}
    burners = _burn(3)
    try:
        busy = {name: cls().allocate(p, seed=5) for name, (cls, p) in problems.items()}
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    for name in problems:
        assert idle[name].notes["time_cap_hit"] is False, name
        assert _same(idle[name], busy[name]), name
        assert idle[name].notes["work"] == busy[name].notes["work"], name


# ---------------------------------------------------- catalog and plugins


class _FixedPlugin:
    """A third-party allocator: everything on node 0 and 1 in turn."""

    class Alternating:
        name = "alternating"

        def allocate(self, problem: AllocationProblem, *, seed: int | None = None) -> Allocation:
            return Allocation.static(np.arange(problem.num_qubits) % 2)

    @qdframe.hookimpl
    def qdframe_register_allocators(self, registry: Any) -> None:
        registry.add("alternating", self.Alternating)


def test_without_a_plugin_set_only_the_built_in_catalog_is_known() -> None:
    with pytest.raises(ConfigError, match="not in the built-in catalog") as info:
        make_allocator("alternating", plugins=None)
    assert "plugins" in str(info.value) and "temporal" in str(info.value)
    assert make_allocator("fm", plugins=None).name == "fm"


def test_a_start_from_the_runs_plugin_set_is_found_through_it() -> None:
    plugins = qdframe.load_plugins(autoload=False, plugins=[("third", _FixedPlugin())])
    problem = _qv(8)
    allocation = AnnealingAllocator(start="alternating", plugins=plugins, work=10).allocate(
        problem, seed=0
    )
    assert allocation.notes["start"] == "alternating"
    with pytest.raises(ConfigError, match="alternating"):
        # The built-ins are not in this plugin set: nothing falls back to them.
        AnnealingAllocator(start="temporal", plugins=plugins).allocate(problem, seed=0)


def _imports(path: Path) -> set[str]:
    """Modules of this package that ``path`` imports anywhere (any scope)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            local = parts[0] == "qdframe_allocators" and len(parts) > 1
            if local and (PACKAGE / f"{parts[1]}.py").exists():
                found.add(parts[1])
    return found


def test_the_allocator_package_has_no_import_cycle() -> None:
    graph = nx.DiGraph()
    for path in PACKAGE.glob("*.py"):
        if path.stem == "__init__":
            continue
        graph.add_node(path.stem)
        for target in _imports(path):
            if target != path.stem:
                graph.add_edge(path.stem, target)
    assert "_catalog" in graph and graph.number_of_edges() > 10
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles}"
