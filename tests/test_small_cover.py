"""The small-instance tree cover search against the MILP, and an independent check of its covers."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from qdframe import cover as cover_module
from qdframe._small_cover import MAX_COPY_VARIABLES, small_cover
from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.cost import evaluate
from qdframe.cover import TreeCover, tree_cover
from qdframe.topology import Topology


def _network(kind: str, k: int) -> Topology:
    if kind == "all":
        edges = list(itertools.combinations(range(k), 2))
    elif kind == "ring":
        edges = [(i, (i + 1) % k) for i in range(k)]
    elif kind == "line":
        edges = [(i, i + 1) for i in range(k - 1)]
    elif kind == "torus":  # 2 x (k // 2): two shortest paths to the far corner
        cols = k // 2
        edges = [(r * cols + c, r * cols + (c + 1) % cols) for r in range(2) for c in range(cols)]
        edges += [(c, cols + c) for c in range(cols)]
    else:  # star: every path through node 0
        edges = [(0, i) for i in range(1, k)]
    return Topology(kind, k, edges, data_qubits=4, comm_qubits=2)


@dataclass(frozen=True)
class _Instance:
    topology: Topology
    seg_a: np.ndarray
    seg_b: np.ndarray
    na: np.ndarray
    nb: np.ndarray
    qa: np.ndarray
    qb: np.ndarray
    positions: np.ndarray
    capacity: np.ndarray | None
    detached: bool

    def solve(self, *, bound: int | None, small: bool) -> TreeCover | None:
        extra: dict[str, Any] = {}
        if self.capacity is not None:
            extra = {"positions": self.positions, "capacity": self.capacity}
        return tree_cover(
            self.topology,
            self.seg_a,
            self.seg_b,
            self.na,
            self.nb,
            self.qa,
            self.qb,
            bound=bound,
            detached=self.detached,
            node_limit=1_000_000,
            time_limit_s=60.0,
            small_search=small,
            **extra,
        )


def _instance(rng: np.random.Generator) -> _Instance:
    kind = str(rng.choice(["all", "ring", "line", "torus", "star"]))
    k = int(rng.choice([4, 6])) if kind == "torus" else int(rng.integers(3, 6))
    topology = _network(kind, k)
    num_seg = int(rng.integers(2, min(12, MAX_COPY_VARIABLES // (k - 1)) + 1))
    home = rng.integers(0, k, size=num_seg)
    home[:2] = rng.choice(k, size=2, replace=False)  # at least two nodes
    pairs = [(s, t) for s in range(num_seg) for t in range(num_seg) if home[s] != home[t]]
    picked = rng.integers(0, len(pairs), size=int(rng.integers(1, 15)))
    sa = np.array([pairs[i][0] for i in picked], dtype=np.int64)
    sb = np.array([pairs[i][1] for i in picked], dtype=np.int64)
    ids = 3 * np.arange(num_seg, dtype=np.int64) + 5  # segment ids need not be 0..n-1
    owner = np.arange(num_seg, dtype=np.int64) // 2
    capacity = rng.integers(1, 4, size=k).astype(np.int64) if rng.random() < 0.4 else None
    positions = np.sort(rng.choice(200, size=len(sa), replace=False)).astype(np.int64)
    return _Instance(
        topology, ids[sa], ids[sb], home[sa].astype(np.int64), home[sb].astype(np.int64),
        owner[sa], owner[sb], positions, capacity, bool(rng.random() < 0.7),
    )  # fmt: skip


def _check(instance: _Instance, found: TreeCover, bound: int | None) -> None:
    """Every gate served, every copy on a shortest-path tree from its home,
    at most ``capacity`` copies held at once on a node, within ``bound``;
    written from the problem statement, not from either solver."""
    topology = instance.topology
    dist = topology.distances()
    segment_home = {}
    for s, n in itertools.chain(
        zip(instance.seg_a.tolist(), instance.na.tolist(), strict=True),
        zip(instance.seg_b.tolist(), instance.nb.tolist(), strict=True),
    ):
        segment_home[s] = n
    copies = list(
        zip(
            found.copy_segment.tolist(),
            found.copy_node.tolist(),
            found.copy_parent.tolist(),
            strict=True,
        )
    )
    assert len(set((s, n) for s, n, _ in copies)) == len(copies) == found.ebits
    for s, n, parent in copies:
        h = segment_home[s]
        assert n != h and found.copy_home[copies.index((s, n, parent))] == h
        if dist[h, n] == 1 or topology.is_complete:
            assert parent == -1 or copies[parent][0] == s
        else:
            assert parent >= 0, f"copy of {s} on {n} has no parent"
            ps, pn, _ = copies[parent]
            assert ps == s and pn in topology.neighbours(n) and dist[h, pn] == dist[h, n] - 1
    for g in range(len(instance.seg_a)):
        sa, sb = int(instance.seg_a[g]), int(instance.seg_b[g])
        a_node, b_node = int(instance.na[g]), int(instance.nb[g])
        s, n, _ = copies[found.gate_copy[g]]
        if found.gate_second[g] < 0:
            assert (s, n) in ((sb, a_node), (sa, b_node))
        else:
            assert instance.detached and topology.num_nodes > 2
            s2, n2, _ = copies[found.gate_second[g]]
            assert n == n2 and n not in (a_node, b_node) and {s, s2} == {sa, sb}
    if instance.capacity is not None:
        for node in range(topology.num_nodes):
            spans = []
            for s, n, _ in copies:
                if n == node:
                    mine = instance.positions[(instance.seg_a == s) | (instance.seg_b == s)]
                    spans.append((int(mine.min()), int(mine.max())))
            for t, _ in spans:
                held = sum(lo <= t <= hi for lo, hi in spans)
                assert held <= instance.capacity[node]
    if bound is not None:
        assert found.ebits <= bound


def _unlimited(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Let the small search run to the end (the budget is tested apart), and
    record what it found, so a test knows it decided rather than the MILP."""
    statuses: list[str] = []
    original = small_cover

    def spy(*a: Any, **kw: Any) -> Any:
        result = original(*a, **{**kw, "max_nodes": 10**7})
        statuses.append(result.status)
        return result

    monkeypatch.setattr(cover_module, "small_cover", spy)
    return statuses


@pytest.mark.parametrize("seed", range(12))
def test_the_small_search_finds_the_milp_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = _unlimited(monkeypatch)
    rng = np.random.default_rng(seed)
    for _ in range(15):
        instance = _instance(rng)
        reference = instance.solve(bound=None, small=False)
        found = instance.solve(bound=None, small=True)
        if reference is None:
            assert found is None  # only capacity can leave no cover
            assert instance.capacity is not None
            continue
        assert reference.optimal
        assert found is not None and found.optimal
        assert found.ebits == reference.ebits == found.bound
        _check(instance, found, None)
        for delta in (-2, -1, 0, 1):
            bound = reference.ebits + delta
            limited = instance.solve(bound=bound, small=True)
            if delta < 0:
                assert limited is None
                assert instance.solve(bound=bound, small=False) is None
            else:
                assert limited is not None and limited.ebits == reference.ebits
                _check(instance, limited, bound)
    # 15 instances, 5 searches each (fewer where capacity leaves no cover).
    assert len(statuses) >= 15 and "budget" not in statuses


def test_the_search_proves_infeasibility_with_a_bound_or_capacity() -> None:
    """Segment 0 (node 0) meets segment 1 (node 1), then segment 2 (node 2):
    two copies are needed, so a bound of one, or no communication qubits,
    leaves no cover for either solver; one qubit per node is enough."""
    topology = _network("all", 3)
    seg_a = np.array([0, 0], dtype=np.int64)
    seg_b = np.array([1, 2], dtype=np.int64)
    na = np.array([0, 0], dtype=np.int64)
    nb = np.array([1, 2], dtype=np.int64)
    common = (topology, seg_a, seg_b, na, nb, seg_a, seg_b)
    positions = np.arange(2, dtype=np.int64)
    for small in (True, False):
        free = tree_cover(*common, small_search=small)
        assert free is not None and free.ebits == 2 and free.optimal
        assert tree_cover(*common, bound=1, small_search=small) is None
        none = np.zeros(3, dtype=np.int64)
        assert tree_cover(*common, positions=positions, capacity=none, small_search=small) is None
        one = np.ones(3, dtype=np.int64)
        held = tree_cover(*common, positions=positions, capacity=one, small_search=small)
        assert held is not None and held.ebits == 2


def test_a_search_out_of_nodes_falls_back_to_the_milp(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(99)
    instance = _instance(rng)
    while instance.capacity is not None:
        instance = _instance(rng)
    args = (
        instance.topology,
        instance.seg_a,
        instance.seg_b,
        instance.na,
        instance.nb,
        instance.qa,
    )
    statuses: list[str] = []
    original = small_cover

    def starved(*a: Any, **kw: Any) -> Any:
        result = original(*a, **{**kw, "max_nodes": 1})
        statuses.append(result.status)
        return result

    monkeypatch.setattr(cover_module, "small_cover", starved)
    found = tree_cover(*args, instance.qb, detached=instance.detached)
    reference = tree_cover(*args, instance.qb, detached=instance.detached, small_search=False)
    assert statuses == ["budget"]
    assert found is not None and reference is not None and found.ebits == reference.ebits


def test_the_checks_catch_a_search_without_the_tree_constraint() -> None:
    """Dropping the tree constraint (a copy two hops away without a parent)
    gives cheaper, invalid covers: the comparison with the MILP and the
    independent check both see it."""
    rng = np.random.default_rng(7)
    caught = 0
    for _ in range(60):
        instance = _instance(rng)
        if instance.topology.is_complete or instance.capacity is not None:
            continue
        reference = instance.solve(bound=None, small=False)
        assert reference is not None
        segments, inverse = np.unique(
            np.concatenate([instance.seg_a, instance.seg_b]), return_inverse=True
        )
        m = len(instance.seg_a)
        home = np.empty(len(segments), dtype=np.int64)
        home[inverse[:m]] = instance.na
        home[inverse[m:]] = instance.nb
        k = instance.topology.num_nodes
        mutant = small_cover(
            k, instance.topology.distances().astype(np.int64), instance.topology.edges, home,
            inverse[:m].astype(np.int64), inverse[m:].astype(np.int64), instance.na, instance.nb,
            detached=instance.detached and k > 2, tree=False,
        )  # fmt: skip
        assert mutant.copies is not None
        if int(mutant.copies.sum()) < reference.ebits:
            caught += 1
            # A cover built from the mutant's copies, each from its home: the check rejects it.
            nodes = np.flatnonzero(mutant.copies.ravel())
            forged = replace(
                reference,
                copy_segment=segments[nodes // k],
                copy_node=(nodes % k).astype(np.int64),
                copy_home=home[nodes // k],
                copy_parent=np.full(len(nodes), -1, dtype=np.int64),
                ebits=len(nodes),
            )
            with pytest.raises(AssertionError):
                _check(instance, forged, None)
    assert caught >= 3


def test_evaluate_reports_the_same_tree_optimum_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole cost reports on random small circuits: the optimum tree cover
    (``tree_ebits``) and its proof are the same with the small search as
    with the MILP alone."""
    rng = np.random.default_rng(3)
    reports = []
    for _ in range(25):
        k = int(rng.integers(3, 5))
        kind = str(rng.choice(["all", "ring", "line"]))
        n = int(rng.integers(4, 7))
        rows = []
        for _ in range(int(rng.integers(4, 12))):
            a, b = (int(x) for x in rng.choice(n, size=2, replace=False))
            rows.append((a, b) if rng.random() < 0.8 else (a, -1))
        gates = GateArray(n, np.array(rows), np.arange(len(rows)))
        cap = -(-n // k)
        topology = Topology(
            kind, k, _network(kind, k).edges.tolist(), data_qubits=cap, comm_qubits=4
        )
        problem = AllocationProblem(gates, topology)
        slots = np.repeat(np.arange(k), cap)
        reports.append((problem, Allocation.static(rng.permutation(slots)[:n])))
    small = [evaluate(p, a, cover="tree") for p, a in reports]
    monkeypatch.setattr(
        cover_module, "tree_cover", functools.partial(tree_cover, small_search=False)
    )
    milp = [evaluate(p, a, cover="tree") for p, a in reports]
    for one, other in zip(small, milp, strict=True):
        assert one.tree_ebits == other.tree_ebits
        assert one.cat_ebits == other.cat_ebits
        assert one.cover_status == other.cover_status
