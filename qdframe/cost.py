"""The ebit cost of an allocation: cat-entanglement bursts, teleportation, swapping.

Counting rules:

* A **segment** of qubit ``q`` is a maximal run of its gates between two
  gates that act non-diagonally on ``q`` (a ``u`` with ``theta != 0``), or a
  teleportation of ``q``. Controlled-phase gates are diagonal, so they never
  end a segment; gates on other qubits never do either.
* A two-qubit gate between ``q`` on node ``A`` and ``r`` on node ``B != A``
  is *remote*. It runs on a node that holds a cat-entangled copy of every
  one of its qubits that does not live there. One copy of a segment on a
  node (a **burst**) serves every gate of that segment run on that node.
* Each teleported qubit costs one ebit (``h`` over ``h`` hops).

Two cover models say which copies exist (``cover=``):

``"pairwise"``
    Every remote gate runs on ``A`` or ``B``, and a burst is one copy made
    straight from the home qubit: ``h`` ebits when the nodes are ``h`` hops
    apart (``h`` raw pairs joined by ``h - 1`` entanglement swaps). Choosing
    the sides is a minimum vertex cover in a bipartite graph - a vertex per
    possible burst ``(qubit, segment, remote node)``, an edge per remote
    gate - which splits by node pair; every burst of a component costs the
    same ``hops(A, B)``, so König's theorem gives the exact optimum from a
    maximum matching in ``O(m log m)`` for ``m`` gates.
``"tree"``
    Copies of a segment form a tree over the network rooted at its home:
    each copy is made from the home qubit or from another copy on a
    neighbouring node (one ebit each), so a segment fanned out to several
    nodes costs its tree's edges; and a gate may run *detached* on a third
    node holding copies of both its qubits. The cover is chosen by the
    integer program of :mod:`qdframe.cover` under a work limit, never worse
    than the pairwise one (which is kept when the search finds nothing
    better); :attr:`CostReport.cover_status` says whether it was proved
    optimal.
``"auto"``
    ``"tree"`` where it applies - at most :data:`AUTO_MAX_NODES` nodes, at
    most :data:`AUTO_MAX_REMOTE_GATES` remote gates, and at least two
    communication qubits on every node (a copy made from a copy, and a
    detached gate, hold two on one node) - and pays once lowered with the
    network's communication qubits (re-opened bursts cost their ebits again;
    when the optimum re-opens some, covers that hold fewer copies at once
    are searched too, and the one with the fewest lowered EPR pairs is
    kept); else ``"pairwise"``.

On an all-to-all network the pairwise count equals pytket-dqc's
``Distribution.cost()`` for hyperedges whose gates sit on the home node of
one of their qubits and are not embedded; the tree model adds its Steiner
trees (restricted to shortest-path trees, see :mod:`qdframe.cover`) and
detached gates. Neither model embeds across non-diagonal gates.

:func:`evaluate` returns a per-burst record (qubit, home, node the copy is
made from, remote node, gate rows, circuit instructions) that the lowering
consumes: the number of EPR pairs it emits equals :attr:`CostReport.ebits`.

Classical bits: two per burst (the cat-entangling and cat-disentangling
measurements), two per teleportation and two per entanglement swap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe._bipartite import SMALL_EDGES, small_covers
from qdframe.allocation import Allocation, AllocationProblem, Migrations

__all__ = [
    "AUTO_MAX_NODES",
    "AUTO_MAX_REMOTE_GATES",
    "COVERS",
    "BurstRecord",
    "Bursts",
    "CostReport",
    "Teleportations",
    "ebit_count",
    "evaluate",
]

IntArray = npt.NDArray[np.int64]

#: The cover models :func:`evaluate` accepts.
COVERS = ("auto", "pairwise", "tree")
#: ``cover="auto"`` uses the tree model on networks of at most this many nodes ...
AUTO_MAX_NODES = 16
#: ... and circuits with at most this many remote gates (under the pairwise cover).
AUTO_MAX_REMOTE_GATES = 6000


@dataclass(frozen=True)
class BurstRecord:
    """One cat-entanglement: ``qubit`` (living on ``home``) linked into ``remote``.

    ``gates`` are the gate rows (of the problem's :class:`GateArray`) it serves,
    ascending; ``instructions`` the matching instruction indices in the
    normalised circuit. It consumes ``hops`` ebits and ``hops - 1`` swaps.
    The copy is made on ``source``: the home qubit itself when ``parent`` is
    -1, else the copy of burst ``parent`` (tree cover). ``seconds[i]`` is
    the burst whose copy is the other operand of ``gates[i]`` when that gate
    is detached (runs away from both its qubits' homes), else -1.
    """

    qubit: int
    home: int
    remote: int
    hops: int
    gates: tuple[int, ...]
    instructions: tuple[int, ...]
    source: int = -1
    parent: int = -1
    seconds: tuple[int, ...] = ()


@dataclass(frozen=True)
class Bursts:
    """All bursts, as parallel arrays (``gate_ptr`` indexes ``gate_rows``).

    Tree covers also give ``parent`` (the burst whose copy this one is made
    from, -1 for the home qubit), ``source`` (the node it is made on) and
    ``gate_second`` (aligned with ``gate_rows``: the burst holding the other
    operand of a detached gate, else -1); pairwise covers leave them ``None``
    (read them through :attr:`parents`, :attr:`sources`, :attr:`seconds`).
    Parents come before their children.
    """

    qubit: IntArray
    home: IntArray
    remote: IntArray
    hops: IntArray
    gate_ptr: IntArray
    gate_rows: IntArray
    instructions: IntArray
    parent: IntArray | None = None
    source: IntArray | None = None
    gate_second: IntArray | None = None

    def __len__(self) -> int:
        return len(self.qubit)

    @property
    def parents(self) -> IntArray:
        return self.parent if self.parent is not None else np.full(len(self), -1, np.int64)

    @property
    def sources(self) -> IntArray:
        return self.source if self.source is not None else self.home

    @property
    def seconds(self) -> IntArray:
        if self.gate_second is not None:
            return self.gate_second
        return np.full(len(self.gate_rows), -1, np.int64)

    @property
    def is_tree(self) -> bool:
        """Whether any burst is made from a copy or serves a detached gate."""
        return bool(
            (self.parent is not None and (self.parent >= 0).any())
            or (self.gate_second is not None and (self.gate_second >= 0).any())
        )

    def independent(self) -> npt.NDArray[np.bool_]:
        """Bursts that no other burst depends on and that depend on none
        (what hybrid mode may replace by cutting)."""
        free = self.parents < 0
        parent = self.parents
        free[parent[parent >= 0]] = False
        second = self.seconds
        owner = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.gate_ptr))
        free[second[second >= 0]] = False
        free[owner[second >= 0]] = False
        return free

    def __getitem__(self, i: int) -> BurstRecord:
        lo, hi = int(self.gate_ptr[i]), int(self.gate_ptr[i + 1])
        return BurstRecord(
            qubit=int(self.qubit[i]),
            home=int(self.home[i]),
            remote=int(self.remote[i]),
            hops=int(self.hops[i]),
            gates=tuple(int(g) for g in self.gate_rows[lo:hi]),
            instructions=tuple(int(g) for g in self.instructions[lo:hi]),
            source=int(self.sources[i]),
            parent=int(self.parents[i]),
            seconds=tuple(int(g) for g in self.seconds[lo:hi]),
        )

    def __iter__(self) -> Iterator[BurstRecord]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True)
class Teleportations:
    """Every migration with its hop count (``hops`` ebits each)."""

    moves: Migrations
    hops: IntArray

    def __len__(self) -> int:
        return len(self.moves)


@dataclass(frozen=True)
class CostReport:
    """What an allocation costs on its topology.

    ``ebits == cat_ebits + teleport_ebits``; on an all-to-all network
    ``cat_ebits`` is the number of bursts and ``teleport_ebits`` the number of
    teleportations. ``gate_side[i]`` says, for the ``i``-th two-qubit gate
    row, which of its qubits is cat-entangled (0 or 1; -1 when local or
    detached). ``cover`` is the model used (``"pairwise"`` or ``"tree"``);
    ``cover_status`` is ``"optimal"`` when the integer program proved the
    cover optimal for this placement, ``"node_limit"`` / ``"time_limit"``
    when its search stopped (``cover_bound`` is then the proved lower bound
    on the tree cover's ebits), ``"comm_limited"`` when ``cover="auto"``
    took a tree cover searched under restrictions (holding at most as many
    copies at once as a node has communication qubits, or no detached gates)
    because the optimum would re-open bursts, and ``"koenig"`` for the
    pairwise model alone (exact within that model). ``pairwise_ebits`` and ``tree_ebits``
    are the bursts' ebits under each model (``tree_ebits`` is ``None`` where
    the tree cover was not searched), before any limit on communication
    qubits.
    """

    ebits: int
    cat_ebits: int
    teleport_ebits: int
    num_bursts: int
    num_teleportations: int
    swaps: int
    max_hops: int
    classical_bits: int
    two_qubit_gates: int
    remote_gates: int
    bursts: Bursts | None
    teleportations: Teleportations | None
    gate_side: npt.NDArray[np.int8] | None
    cover: str = "pairwise"
    cover_status: str = "koenig"
    cover_bound: float | None = None
    detached_gates: int = 0
    pairwise_ebits: int | None = None
    tree_ebits: int | None = None

    def summary(self) -> dict[str, Any]:
        """The scalar figures, JSON-ready."""
        return {
            "ebits": self.ebits,
            "cat_ebits": self.cat_ebits,
            "teleport_ebits": self.teleport_ebits,
            "bursts": self.num_bursts,
            "teleportations": self.num_teleportations,
            "swaps": self.swaps,
            "max_hops": self.max_hops,
            "classical_bits": self.classical_bits,
            "two_qubit_gates": self.two_qubit_gates,
            "remote_gates": self.remote_gates,
            "cover": self.cover,
            "cover_status": self.cover_status,
            "detached_gates": self.detached_gates,
        }


def ebit_count(
    problem: AllocationProblem, allocation: Allocation, *, cover: str = "pairwise"
) -> int:
    """Total ebits only (no records): the figure allocators minimise.

    Pairwise by default: it is fast, exact within its model and an upper
    bound on the tree cover's figure for the same allocation.
    """
    return evaluate(problem, allocation, records=False, cover=cover).ebits


def evaluate(
    problem: AllocationProblem,
    allocation: Allocation,
    *,
    records: bool = True,
    check: bool = True,
    cover: str = "auto",
    node_limit: int | None = None,
    time_limit_s: float | None = None,
) -> CostReport:
    """Count ebits, swaps and classical bits of ``allocation`` for ``problem``.

    :param records: also return per-burst and per-teleport records.
    :param check: verify capacities first (raises ``ResourceError``).
    :param cover: ``"auto"``, ``"pairwise"`` or ``"tree"`` (module docstring).
    :param node_limit: branch-and-bound nodes for the tree cover's search
        (:data:`qdframe.cover.DEFAULT_NODE_LIMIT` by default).
    :param time_limit_s: its wall-clock safety net
        (:data:`qdframe.cover.DEFAULT_TIME_LIMIT_S` by default).
    :raises ConfigError: ``cover`` is not one of :data:`COVERS`.
    """
    if cover not in COVERS:
        from qdframe.errors import ConfigError

        raise ConfigError(f"cover must be one of {', '.join(COVERS)}; got {cover!r}")
    if check:
        allocation.check(problem)
    gates = problem.gates
    topology = problem.topology
    rows = gates.pair_rows
    a = gates.qubits[rows, 0].astype(np.int64)
    b = gates.qubits[rows, 1].astype(np.int64)
    table = allocation.assignment
    if allocation.is_static:
        na = table[0, a].astype(np.int64)
        nb = table[0, b].astype(np.int64)
    else:
        slices = allocation.slice_of_gate(rows)
        na = table[slices, a].astype(np.int64)
        nb = table[slices, b].astype(np.int64)
    remote = np.flatnonzero(na != nb)
    moves = allocation.migrations()

    seg_a, seg_b = _segments(problem, moves, rows[remote], a[remote], b[remote])
    side = _cover_sides(seg_a, seg_b, na[remote], nb[remote], topology.num_nodes, rows[remote])
    # side == 0: qubit a is cat-entangled into b's node; 1: b into a's node.
    burst_seg = np.where(side == 0, seg_a, seg_b)
    burst_remote = np.where(side == 0, nb[remote], na[remote])
    burst_key = burst_seg * topology.num_nodes + burst_remote
    keys, first, inverse = np.unique(burst_key, return_index=True, return_inverse=True)
    burst_qubit = np.where(side == 0, a[remote], b[remote])[first]
    burst_home = np.where(side == 0, na[remote], nb[remote])[first]
    burst_target = burst_remote[first]
    burst_hops = topology.hops(burst_home, burst_target).astype(np.int64)
    tele_hops = topology.hops(moves.source, moves.target).astype(np.int64)
    pairwise_ebits = int(burst_hops.sum())

    found = None
    status, bound, tree_ebits = "koenig", None, None
    if _use_tree(cover, topology, len(remote)):
        from qdframe.cover import DEFAULT_NODE_LIMIT, DEFAULT_TIME_LIMIT_S, tree_cover

        def search(bound: int = pairwise_ebits, **restrict: Any) -> Any:
            return tree_cover(
                topology,
                seg_a,
                seg_b,
                na[remote],
                nb[remote],
                a[remote],
                b[remote],
                bound=bound,
                node_limit=DEFAULT_NODE_LIMIT if node_limit is None else node_limit,
                time_limit_s=DEFAULT_TIME_LIMIT_S if time_limit_s is None else time_limit_s,
                **restrict,
            )

        # Two cases where the pairwise cover is already a minimum tree cover:
        # every segment meets one other segment only (each such pair needs a
        # copy of its own, at the hops between them); or two nodes, where no
        # gate can be detached and every copy goes to the one other node, so
        # tree covers are the vertex covers König's construction minimises.
        pairwise_optimal = topology.num_nodes == 2 or _pairs_only(seg_a, seg_b)
        found = None if pairwise_optimal else search()
        if pairwise_optimal:
            status, bound, tree_ebits = "optimal", float(pairwise_ebits), pairwise_ebits
        if found is not None:
            status, bound, tree_ebits = found.status, found.bound, found.ebits
            if found.ebits >= pairwise_ebits:
                found = None  # the pairwise cover is as good (and proved so if optimal)
            elif cover == "auto":
                restricted = (
                    # Only covers cheaper than the pairwise one are of use.
                    lambda: search(
                        pairwise_ebits - 1, positions=rows[remote], capacity=topology.comm_qubits
                    ),
                    lambda: search(pairwise_ebits - 1, detached=False),
                )
                chosen = _fewest_pairs(problem, allocation, rows[remote], found, restricted)
                if chosen is None:
                    # Too few communication qubits for any tree cover to pay.
                    found, status, bound = None, "koenig", None
                elif chosen is not found:
                    found, status = chosen, "comm_limited"

    teleport_ebits = int(tele_hops.sum())
    teleportations: Teleportations | None = Teleportations(moves, tele_hops) if records else None
    gate_side: npt.NDArray[np.int8] | None = None
    report_bursts: Bursts | None = None
    if found is not None:
        cat_ebits = found.ebits
        num_bursts = found.ebits
        swaps = int(np.maximum(tele_hops - 1, 0).sum())
        max_hops = int(max(1 if found.ebits else 0, tele_hops.max(initial=0)))
        if records:
            report_bursts = _tree_records(problem, rows[remote], found)
            gate_side = np.full(len(rows), -1, dtype=np.int8)
            gate_side[remote] = np.where(found.gate_second >= 0, -1, found.gate_side).astype(
                np.int8
            )
        model, detached = "tree", found.detached
    else:
        cat_ebits = pairwise_ebits
        num_bursts = len(keys)
        swaps = int(np.maximum(burst_hops - 1, 0).sum() + np.maximum(tele_hops - 1, 0).sum())
        max_hops = int(max(burst_hops.max(initial=0), tele_hops.max(initial=0)))
        if records:
            report_bursts = _burst_records(
                problem,
                rows[remote],
                inverse.reshape(-1),
                first,
                burst_qubit,
                burst_home,
                burst_target,
                burst_hops,
            )
            gate_side = np.full(len(rows), -1, dtype=np.int8)
            gate_side[remote] = side.astype(np.int8)
        model, detached = "pairwise", 0
    return CostReport(
        ebits=cat_ebits + teleport_ebits,
        cat_ebits=cat_ebits,
        teleport_ebits=teleport_ebits,
        num_bursts=num_bursts,
        num_teleportations=len(moves),
        swaps=swaps,
        max_hops=max_hops,
        classical_bits=2 * (num_bursts + len(moves) + swaps),
        two_qubit_gates=len(rows),
        remote_gates=len(remote),
        bursts=report_bursts,
        teleportations=teleportations,
        gate_side=gate_side,
        cover=model,
        cover_status=status,
        cover_bound=bound,
        detached_gates=detached,
        pairwise_ebits=pairwise_ebits,
        tree_ebits=tree_ebits,
    )


def _fewest_pairs(
    problem: AllocationProblem,
    allocation: Allocation,
    remote_rows: IntArray,
    found: Any,
    restricted: tuple[Any, ...],
) -> Any:
    """The tree cover that uses fewest EPR pairs once lowered with the
    network's communication qubits, if fewer than the pairwise cover's; else
    ``None``.

    Tree covers tend to gather many copies on one node at once (where
    detached gates meet); where a node holds fewer communication qubits than
    that, the lowering re-opens bursts, and each re-opening costs its ebits
    again. ``found`` is the unrestricted optimum; ``restricted`` make covers
    that hold fewer copies at once (searched only when ``found`` re-opens).
    """
    from qdframe.distribute.lower import ebit_account

    pairwise = evaluate(problem, allocation, check=False, cover="pairwise")

    def pairs(cover: Any) -> int:
        tree = replace(pairwise, bursts=_tree_records(problem, remote_rows, cover))
        return ebit_account(problem, allocation, cost=tree).ebits

    best, best_pairs = None, ebit_account(problem, allocation, cost=pairwise).ebits
    first = pairs(found)
    if first < best_pairs:
        best, best_pairs = found, first
    if first == found.ebits:
        return best  # nothing re-opened: no restriction can do better
    for make in restricted:
        other = make()
        if other is None or other.ebits >= pairwise.cat_ebits:
            continue
        count = pairs(other)
        if count < best_pairs:
            best, best_pairs = other, count
    return best


def _pairs_only(seg_a: IntArray, seg_b: IntArray) -> bool:
    """Whether every segment's remote gates all have the same partner segment."""
    pairs = np.unique(np.stack([seg_a, seg_b], axis=1), axis=0)
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    return len(np.unique(ends)) == len(ends)


def _use_tree(cover: str, topology: Any, remote_gates: int) -> bool:
    if cover == "pairwise" or remote_gates == 0:
        return False
    if cover == "tree":
        return True
    return (
        topology.num_nodes <= AUTO_MAX_NODES
        and remote_gates <= AUTO_MAX_REMOTE_GATES
        and bool((np.asarray(topology.comm_qubits) >= 2).all())
    )


def _tree_records(problem: AllocationProblem, remote_rows: IntArray, found: Any) -> Bursts:
    """Bursts of a tree cover, ordered by the first gate they (or a copy made
    from them) serve, so a parent always comes before its children."""
    n = len(found.copy_node)
    key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(key, found.gate_copy, remote_rows)
    detached = found.gate_second >= 0
    np.minimum.at(key, found.gate_second[detached], remote_rows[detached])
    parent = found.copy_parent
    for i in range(n - 1, -1, -1):  # children have larger indices than their parents
        if parent[i] >= 0 and key[i] < key[parent[i]]:
            key[parent[i]] = key[i]
    # Ties: the parent (smaller index) first.
    order = np.lexsort((np.arange(n), key))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    home = found.copy_home
    source = np.where(parent >= 0, found.copy_node[np.maximum(parent, 0)], home)
    new_parent = np.where(parent >= 0, rank[np.maximum(parent, 0)], -1)
    hops = problem.topology.hops(source, found.copy_node).astype(np.int64)
    burst_of_gate = rank[found.gate_copy]
    by_burst = np.lexsort((remote_rows, burst_of_gate))
    counts = np.bincount(burst_of_gate, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    second = np.where(detached, rank[np.maximum(found.gate_second, 0)], -1)
    gate_rows = remote_rows[by_burst]
    return Bursts(
        qubit=found.copy_qubit[order].astype(np.int64),
        home=home[order].astype(np.int64),
        remote=found.copy_node[order].astype(np.int64),
        hops=hops[order],
        gate_ptr=ptr,
        gate_rows=gate_rows,
        instructions=problem.gates.source_index[gate_rows],
        parent=new_parent[order].astype(np.int64),
        source=source[order].astype(np.int64),
        gate_second=second[by_burst].astype(np.int64),
    )


def _segments(
    problem: AllocationProblem, moves: Migrations, rows: IntArray, a: IntArray, b: IntArray
) -> tuple[IntArray, IntArray]:
    """Globally unique segment ids of both endpoints of the given gate rows.

    Events that end a segment are non-diagonal single-qubit gates (at ``2 *
    row``) and teleports (at ``2 * before_gate - 1``). Counting a qubit's
    events before a position, plus the qubit's own index, numbers its
    segments so no two qubits share an id.
    """
    gates = problem.gates
    span = 2 * gates.num_gates + 2
    break_rows = np.flatnonzero(~gates.is_pair).astype(np.int64)
    break_qubits = gates.qubits[break_rows, 0].astype(np.int64)
    events = np.concatenate(
        [break_qubits * span + 2 * break_rows, moves.qubit * span + 2 * moves.before_gate - 1]
    )
    events.sort()
    seg_a = np.searchsorted(events, a * span + 2 * rows) + a
    seg_b = np.searchsorted(events, b * span + 2 * rows) + b
    return seg_a.astype(np.int64), seg_b.astype(np.int64)


def _cover_sides(
    seg_a: IntArray, seg_b: IntArray, na: IntArray, nb: IntArray, num_nodes: int, rows: IntArray
) -> npt.NDArray[np.int64]:
    """For each remote gate, which endpoint's burst serves it (minimum cover).

    A graph often has several minimum covers (a complete bipartite one has
    both sides). König's construction from either side gives one each; per
    connected component the one whose bursts span fewer gate rows in total is
    kept, so bursts stay short and fewer are open at once (which is what
    limits communication qubits when the plan is lowered).
    """
    if len(seg_a) == 0:
        return np.zeros(0, dtype=np.int64)
    key_a = seg_a * num_nodes + nb  # a's burst into b's node (home na)
    key_b = seg_b * num_nodes + na  # b's burst into a's node (home nb)
    a_is_left = na < nb
    left, left_id = np.unique(np.where(a_is_left, key_a, key_b), return_inverse=True)
    right, right_id = np.unique(np.where(a_is_left, key_b, key_a), return_inverse=True)
    left_id = left_id.reshape(-1).astype(np.int64)
    right_id = right_id.reshape(-1).astype(np.int64)
    n_left, n_right = len(left), len(right)
    if len(left_id) <= SMALL_EDGES:
        edges = np.unique(left_id * n_right + right_id)
        cover_l1, cover_r1, cover_l2, cover_r2, component = small_covers(
            edges // n_right, edges % n_right, n_left, n_right
        )
        count = int(component.max()) + 1
    else:
        # scipy's sparse constructor merges repeated edges faster than np.unique.
        cover_l1, cover_r1, cover_l2, cover_r2, component, count = _scipy_covers(
            left_id, right_id, n_left, n_right
        )

    # Row span of each possible burst, from the gates it could serve.
    first_l = np.full(n_left, np.iinfo(np.int64).max, dtype=np.int64)
    last_l = np.full(n_left, -1, dtype=np.int64)
    first_r = np.full(n_right, np.iinfo(np.int64).max, dtype=np.int64)
    last_r = np.full(n_right, -1, dtype=np.int64)
    np.minimum.at(first_l, left_id, rows)
    np.maximum.at(last_l, left_id, rows)
    np.minimum.at(first_r, right_id, rows)
    np.maximum.at(last_r, right_id, rows)
    span_l = (last_l - first_l + 1).astype(np.float64)
    span_r = (last_r - first_r + 1).astype(np.float64)
    comp_l, comp_r = component[:n_left], component[n_left:]
    cost1 = np.bincount(comp_l, span_l * cover_l1, count) + np.bincount(
        comp_r, span_r * cover_r1, count
    )
    cost2 = np.bincount(comp_l, span_l * cover_l2, count) + np.bincount(
        comp_r, span_r * cover_r2, count
    )
    left_cover = np.where((cost2 < cost1)[comp_l], cover_l2, cover_l1)
    # An edge whose left end is outside the cover has its right end inside it.
    left_serves = left_cover[left_id]
    return np.where(left_serves == a_is_left, 0, 1).astype(np.int64)


def _scipy_covers(
    rows_l: IntArray, cols_r: IntArray, n_left: int, n_right: int
) -> tuple[
    npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
    IntArray,
    int,
]:
    """:func:`qdframe._bipartite.small_covers` for large graphs, through scipy
    (repeated edges allowed)."""
    # Imported by name: scipy ships without type information.
    sparse = importlib.import_module("scipy.sparse")
    csgraph = importlib.import_module("scipy.sparse.csgraph")
    graph = sparse.csr_matrix(
        (np.ones(len(rows_l), dtype=np.int8), (rows_l, cols_r)), shape=(n_left, n_right)
    )
    graph.sum_duplicates()
    coo = graph.tocoo()
    rows_l, cols_r = coo.row.astype(np.int64), coo.col.astype(np.int64)
    match_left = np.asarray(
        csgraph.maximum_bipartite_matching(graph, perm_type="column"), dtype=np.int64
    )
    matched = np.flatnonzero(match_left >= 0)
    match_right = np.full(n_right, -1, dtype=np.int64)
    match_right[match_left[matched]] = matched
    cover_l1, cover_r1 = _koenig(rows_l, cols_r, match_left, match_right, n_left, n_right, csgraph)
    cover_r2, cover_l2 = _koenig(cols_r, rows_l, match_right, match_left, n_right, n_left, csgraph)
    both = sparse.bmat([[None, graph], [graph.T, None]]).tocsr()
    count, component = csgraph.connected_components(both, directed=False)
    return cover_l1, cover_r1, cover_l2, cover_r2, component.astype(np.int64), int(count)


def _koenig(
    edge_from: IntArray,
    edge_to: IntArray,
    match_from: IntArray,
    match_to: IntArray,
    n_from: int,
    n_to: int,
    csgraph: Any,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """A minimum vertex cover from a maximum matching (König's theorem).

    Vertices reachable from unmatched ``from`` vertices by alternating paths
    (any edge forward, matching edges back): the cover is the unreached
    ``from`` vertices plus the reached ``to`` vertices.
    """
    sparse = importlib.import_module("scipy.sparse")
    source = n_from + n_to
    unmatched = np.flatnonzero(match_from < 0)
    matched_to = np.flatnonzero(match_to >= 0)
    src = np.concatenate(
        [edge_from, n_from + matched_to, np.full(len(unmatched), source, dtype=np.int64)]
    )
    dst = np.concatenate([n_from + edge_to, match_to[matched_to], unmatched])
    size = source + 1
    walk = sparse.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    reached = np.zeros(size, dtype=bool)
    order = csgraph.breadth_first_order(walk, source, directed=True, return_predecessors=False)
    reached[order] = True
    return ~reached[:n_from], reached[n_from:source]


def _burst_records(
    problem: AllocationProblem,
    remote_rows: IntArray,
    burst_of_gate: IntArray,
    first: IntArray,
    qubit: IntArray,
    home: IntArray,
    remote: IntArray,
    hops: IntArray,
) -> Bursts:
    """Bursts ordered by their first gate, with their gate rows as CSR."""
    n_bursts = len(first)
    first_row = np.full(n_bursts, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_row, burst_of_gate, remote_rows)
    order = np.argsort(first_row, kind="stable")
    rank = np.empty(n_bursts, dtype=np.int64)
    rank[order] = np.arange(n_bursts, dtype=np.int64)
    gate_rank = rank[burst_of_gate]
    by_burst = np.lexsort((remote_rows, gate_rank))
    counts = np.bincount(gate_rank, minlength=n_bursts)
    ptr = np.zeros(n_bursts + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    gate_rows = remote_rows[by_burst]
    return Bursts(
        qubit=qubit[order],
        home=home[order],
        remote=remote[order],
        hops=hops[order],
        gate_ptr=ptr,
        gate_rows=gate_rows,
        instructions=problem.gates.source_index[gate_rows],
    )
