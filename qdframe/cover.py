"""The exact burst cover of a fixed placement: tree bursts and detached gates.

For a fixed placement, every remote two-qubit gate between qubit ``a``
(segment ``s_a``, node ``A``) and ``b`` (segment ``s_b``, node ``B``) runs on
some node ``X`` that holds a cat-entangled copy of each qubit not living
there: ``X = A`` needs a copy of ``s_b`` on ``A``, ``X = B`` a copy of ``s_a``
on ``B``, and any other ``X`` (a *detached* gate) copies of both. One copy of
a segment on a node serves every gate of that segment run there.

The copies of one segment form a tree rooted at the qubit's home: each copy
is cat-entangled from the home qubit or from another copy of the same
segment on a neighbouring node one hop closer to home, so every copy costs
exactly one ebit (one raw pair on one link) and a segment fanned out to
several nodes costs the edges of its tree, not the sum of the hop distances.
Trees are *shortest-path trees*: a copy on a node ``h`` hops from home hangs
off a copy ``h - 1`` hops from home. On all-to-all networks, paths and rings
every Steiner tree of the terminals is of this kind; on tori and other
graphs with branch points off the home's shortest paths the optimum over
this class can exceed the Steiner optimum.

:func:`tree_cover` chooses the copies with a mixed-integer program solved by
HiGHS (``scipy.optimize.milp``): a binary ``y[s, n]`` per segment and node
(a copy of ``s`` on ``n``), a continuous ``z[g, X]`` per gate and third node
(``g`` detached on ``X``), minimise ``sum y`` subject to

* every remote gate is served: ``y[s_b, A] + y[s_a, B] + sum_X z[g, X] >= 1``;
* a detached gate has both copies: ``z[g, X] <= y[s_a, X]``, ``z[g, X] <= y[s_b, X]``;
* copies hang off copies: ``y[s, n] <= sum y[s, m]`` over the neighbours
  ``m`` of ``n`` one hop closer to the home (no constraint one hop from home);
* no worse than the single-node cover it is given (``sum y <= bound``).

``z`` need not be integral: with integral ``y`` a fractional ``z`` only ever
sits where both copies exist. The search is bounded by a number of
branch-and-bound nodes (the same answer on a busy machine as on an idle one)
and, as a safety net, by wall time; when neither bound lets it find a cover
better than the given one, that one is kept. The result says whether the
cover was proved optimal.

Small instances (at most :data:`qdframe._small_cover.MAX_COPY_VARIABLES`
possible copies) are first given to an exact branch and bound in
:mod:`qdframe._small_cover`, which proves the same optimum (or that no cover
exists within the bound and capacity) without importing ``scipy.optimize``
(the three searches of ``qdframe plan examples/qft8.qasm`` take it 0.03 s
of CPU, against 0.23 s of HiGHS solves plus 0.25 s to import
``scipy.optimize``, on a shared two-core machine); when its own budget of
search nodes runs out, the MILP solves the instance as above.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe._small_cover import MAX_COPY_VARIABLES, small_cover

if TYPE_CHECKING:
    from qdframe.topology import Topology

__all__ = ["DEFAULT_NODE_LIMIT", "DEFAULT_TIME_LIMIT_S", "MAX_VARIABLES", "TreeCover", "tree_cover"]

IntArray = npt.NDArray[np.int64]

#: Branch-and-bound nodes HiGHS may explore (the deterministic work budget).
DEFAULT_NODE_LIMIT = 2000
#: Wall-clock safety net for one solve, in seconds.
DEFAULT_TIME_LIMIT_S = 5.0
#: Instances with more variables than this are not given to the solver.
MAX_VARIABLES = 400_000


@dataclass(frozen=True)
class TreeCover:
    """Copies chosen for every segment, and which copies serve each gate.

    Copy ``i`` is a copy of segment ``copy_segment[i]`` (a segment id as
    given to :func:`tree_cover`) of qubit ``copy_qubit[i]``, living on
    ``copy_home[i]``, on node ``copy_node[i]``, made
    from copy ``copy_parent[i]`` (``-1``: from the home qubit). Remote gate
    ``g`` runs where copy ``gate_copy[g]`` lives, and, when detached, also
    uses copy ``gate_second[g]`` (else ``-1``); ``gate_side[g]`` is 0 when
    ``gate_copy[g]`` copies qubit ``a``, 1 when it copies ``b``.

    ``status`` is ``"optimal"`` (proved), ``"node_limit"`` or ``"time_limit"``
    (the search stopped; ``bound`` is the proved lower bound on the ebits).
    """

    copy_segment: IntArray
    copy_qubit: IntArray
    copy_home: IntArray
    copy_node: IntArray
    copy_parent: IntArray
    gate_copy: IntArray
    gate_second: IntArray
    gate_side: IntArray
    ebits: int
    status: str
    bound: float

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def detached(self) -> int:
        return int((self.gate_second >= 0).sum())


def tree_cover(
    topology: Topology,
    seg_a: IntArray,
    seg_b: IntArray,
    na: IntArray,
    nb: IntArray,
    qa: IntArray,
    qb: IntArray,
    *,
    bound: int | None = None,
    detached: bool = True,
    positions: IntArray | None = None,
    capacity: IntArray | None = None,
    node_limit: int = DEFAULT_NODE_LIMIT,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    small_search: bool = True,
) -> TreeCover | None:
    """The cheapest copies serving remote gates ``g`` (segment ``seg_a[g]`` of
    qubit ``qa[g]`` on node ``na[g]``, and ``seg_b[g]`` of ``qb[g]`` on
    ``nb[g]``), see the module docstring.

    :param bound: ebits of a known cover; the solver looks only for covers at
        most this expensive.
    :param detached: allow gates on a third node.
    :param positions: the gates' positions in the circuit (needed with ``capacity``).
    :param capacity: communication qubits per node: no node may hold more
        copies at once than it has, counting a copy as held from the first to
        the last remote gate of its segment (more than the lowering holds it,
        so this only ever rules covers out).
    :param small_search: first try :func:`qdframe._small_cover.small_cover`
        on instances with at most :data:`~qdframe._small_cover.MAX_COPY_VARIABLES`
        possible copies (it proves the same optimum without importing
        ``scipy.optimize``); the MILP solves what it leaves unproved.
    :returns: the cover, or ``None`` when the instance is too large
        (:data:`MAX_VARIABLES`) or the solver found no cover within its limits.
    """
    num_gates = len(seg_a)
    k = topology.num_nodes
    if num_gates == 0:
        empty = np.zeros(0, dtype=np.int64)
        return TreeCover(empty, empty, empty, empty, empty, empty, empty, empty, 0, "optimal", 0.0)
    segments, inverse = np.unique(np.concatenate([seg_a, seg_b]), return_inverse=True)
    la = inverse[:num_gates].astype(np.int64)
    lb = inverse[num_gates:].astype(np.int64)
    num_seg = len(segments)
    home = np.empty(num_seg, dtype=np.int64)
    home[la] = na
    home[lb] = nb
    owner = np.empty(num_seg, dtype=np.int64)
    owner[la] = qa
    owner[lb] = qb
    use_z = detached and k > 2
    num_y = num_seg * k
    num_vars = num_y + (num_gates * k if use_z else 0)
    if num_vars > MAX_VARIABLES:
        return None
    dist = topology.distances().astype(np.int64)
    made = None
    if capacity is not None and positions is not None:
        made = _capacity_rows(la, lb, positions, home, np.asarray(capacity, np.int64), k, 0)
        if made is None:
            return None
    if small_search and num_seg * (k - 1) <= MAX_COPY_VARIABLES:
        small = small_cover(
            k,
            dist,
            np.asarray(topology.edges, dtype=np.int64).reshape(-1, 2),
            home,
            la,
            lb,
            na,
            nb,
            detached=use_z,
            tree=not topology.is_complete,
            capacity_rows=[(c, float(hi[0])) for _, c, _, hi in made or ()],
            bound=bound,
        )
        if small.status == "infeasible":
            return None
        if small.copies is not None:
            ebits = int(small.copies.sum())
            return _extract(
                topology, dist, small.copies, segments, owner, home, la, lb, na, nb,
                "optimal", float(ebits),
            )  # fmt: skip
    sparse = importlib.import_module("scipy.sparse")
    optimize = importlib.import_module("scipy.optimize")

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[npt.NDArray[np.float64]] = []
    lower: list[npt.NDArray[np.float64]] = []
    upper: list[npt.NDArray[np.float64]] = []
    count = 0

    def add(r: IntArray, c: IntArray, v: npt.NDArray[np.float64]) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    gate_ids = np.arange(num_gates, dtype=np.int64)
    # Every remote gate is served.
    add(gate_ids, lb * k + na, np.ones(num_gates))
    add(gate_ids, la * k + nb, np.ones(num_gates))
    if use_z:
        third = np.arange(k, dtype=np.int64)[None, :].repeat(num_gates, axis=0)
        keep = (third != na[:, None]) & (third != nb[:, None])
        g_idx, x_idx = np.nonzero(keep)
        z = num_y + g_idx * k + x_idx
        add(g_idx.astype(np.int64), z.astype(np.int64), np.ones(len(z)))
    lower.append(np.ones(num_gates))
    upper.append(np.full(num_gates, np.inf))
    count += num_gates
    if use_z:
        # A detached gate has both copies on its node.
        n_z = len(z)
        for seg in (la, lb):
            r = count + np.arange(n_z, dtype=np.int64)
            add(r, z.astype(np.int64), np.ones(n_z))
            add(r, seg[g_idx] * k + x_idx, -np.ones(n_z))
            lower.append(np.full(n_z, -np.inf))
            upper.append(np.zeros(n_z))
            count += n_z
    if not topology.is_complete:
        # A copy h >= 2 hops from home hangs off one h - 1 hops from home.
        seg_ids = np.repeat(np.arange(num_seg, dtype=np.int64), k)
        nodes = np.tile(np.arange(k, dtype=np.int64), num_seg)
        far = dist[home[seg_ids], nodes] >= 2
        seg_ids, nodes = seg_ids[far], nodes[far]
        edges = topology.edges
        ends = np.concatenate([edges, edges[:, ::-1]])  # (node, neighbour) both ways
        for s, n in zip(seg_ids.tolist(), nodes.tolist(), strict=True):
            h = int(home[s])
            parents = ends[(ends[:, 0] == n) & (dist[h, ends[:, 1]] == dist[h, n] - 1), 1]
            r = np.full(len(parents) + 1, count, dtype=np.int64)
            c = np.concatenate([[s * k + n], s * k + parents]).astype(np.int64)
            add(r, c, np.concatenate([[1.0], -np.ones(len(parents))]))
            count += 1
        lower.append(np.full(len(seg_ids), -np.inf))
        upper.append(np.zeros(len(seg_ids)))
    cost = np.zeros(num_vars)
    cost[:num_y] = 1.0
    if made is not None:
        for r, c, lo_, hi_ in made:
            add(r + count, c, np.ones(len(c)))
            lower.append(lo_)
            upper.append(hi_)
        count += len(made)
    if bound is not None:
        add(np.full(num_y, count, dtype=np.int64), np.arange(num_y, dtype=np.int64), cost[:num_y])
        lower.append(np.array([-np.inf]))
        upper.append(np.array([float(bound)]))
        count += 1
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, num_vars),
    )
    ub = np.ones(num_vars)
    ub[np.arange(num_seg, dtype=np.int64) * k + home] = 0.0  # no copy at home
    if use_z:
        z_ub = np.zeros(num_gates * k)
        z_ub[z - num_y] = 1.0
        ub[num_y:] = z_ub
    integrality = np.zeros(num_vars)
    integrality[:num_y] = 1
    result: Any = optimize.milp(
        cost,
        integrality=integrality,
        bounds=optimize.Bounds(np.zeros(num_vars), ub),
        constraints=[
            optimize.LinearConstraint(matrix, np.concatenate(lower), np.concatenate(upper))
        ],
        options={
            "node_limit": int(node_limit),
            "time_limit": float(time_limit_s),
            "mip_rel_gap": 0.0,
            "presolve": True,
            "disp": False,
        },
    )
    if result.x is None:
        return None
    if result.status == 0:
        status = "optimal"
    elif "time" in str(result.message).lower():
        status = "time_limit"
    else:
        status = "node_limit"
    dual = getattr(result, "mip_dual_bound", None)
    proved = float(result.fun) if status == "optimal" else float(dual if dual is not None else 0)
    y = np.asarray(result.x[:num_y]).reshape(num_seg, k) > 0.5
    return _extract(topology, dist, y, segments, owner, home, la, lb, na, nb, status, proved)


#: Largest number of constraint entries :func:`_capacity_rows` builds.
_MAX_CAPACITY_ENTRIES = 2_000_000


def _capacity_rows(
    la: IntArray,
    lb: IntArray,
    rows: IntArray,
    home: IntArray,
    capacity: IntArray,
    k: int,
    first_row: int,
) -> list[tuple[IntArray, IntArray, npt.NDArray[np.float64], npt.NDArray[np.float64]]] | None:
    """``sum y[s, n] <= capacity[n]`` over the segments ``s`` whose remote
    gates span the start of another segment (where the number held can rise),
    for every node; only where more segments than that could be held."""
    num_seg = len(home)
    start = np.full(num_seg, np.iinfo(np.int64).max, dtype=np.int64)
    end = np.full(num_seg, -1, dtype=np.int64)
    for seg in (la, lb):
        np.minimum.at(start, seg, rows)
        np.maximum.at(end, seg, rows)
    order = np.argsort(start, kind="stable")
    made = []
    entries = 0
    row = first_row
    seen: set[bytes] = set()
    for s in order.tolist():
        t = start[s]
        live = np.flatnonzero((start <= t) & (end >= t))
        for n in range(k):
            members = live[home[live] != n]
            if len(members) <= capacity[n]:
                continue
            key = members.tobytes() + bytes([n % 256, n // 256])
            if key in seen:
                continue
            seen.add(key)
            entries += len(members)
            if entries > _MAX_CAPACITY_ENTRIES:
                return None
            made.append(
                (
                    np.full(len(members), row, dtype=np.int64),
                    (members * k + n).astype(np.int64),
                    np.array([-np.inf]),
                    np.array([float(capacity[n])]),
                )
            )
            row += 1
    return made


def _extract(
    topology: Topology,
    dist: IntArray,
    y: npt.NDArray[np.bool_],
    segments: IntArray,
    owner: IntArray,
    home: IntArray,
    la: IntArray,
    lb: IntArray,
    na: IntArray,
    nb: IntArray,
    status: str,
    proved: float,
) -> TreeCover:
    """Copies actually used (by a gate, or as a parent of one that is), and
    which copy serves each gate: a copy on one end before a detached one."""
    num_gates = len(la)
    primary = np.empty((num_gates, 2), dtype=np.int64)  # (segment, node)
    second = np.full((num_gates, 2), -1, dtype=np.int64)
    side = np.zeros(num_gates, dtype=np.int64)
    for g in range(num_gates):
        sa, sb, a_node, b_node = int(la[g]), int(lb[g]), int(na[g]), int(nb[g])
        if y[sb, a_node]:
            primary[g] = (sb, a_node)
            side[g] = 1
        elif y[sa, b_node]:
            primary[g] = (sa, b_node)
        else:
            both = np.flatnonzero(y[sa] & y[sb])
            if not len(both):  # pragma: no cover - the solver's constraints forbid it
                raise RuntimeError(f"internal: remote gate {g} left without a cover")
            x = int(both[0])
            primary[g] = (sa, x)
            second[g] = (sb, x)
    used: dict[tuple[int, int], int] = {}
    seg_l: list[int] = []
    node_l: list[int] = []
    parent_l: list[int] = []

    def need(s: int, n: int) -> int:
        key = (s, n)
        found = used.get(key)
        if found is not None:
            return found
        h = int(home[s])
        parent = -1
        if dist[h, n] >= 2:
            closer = [m for m in topology.neighbours(n) if dist[h, m] == dist[h, n] - 1 and y[s, m]]
            if not closer:  # pragma: no cover - the tree constraints forbid it
                raise RuntimeError(f"internal: copy of segment {s} on node {n} has no parent")
            parent = need(s, closer[0])
        index = len(seg_l)
        used[key] = index
        seg_l.append(s)
        node_l.append(n)
        parent_l.append(parent)
        return index

    gate_copy = np.array([need(int(s), int(n)) for s, n in primary.tolist()], dtype=np.int64)
    gate_second = np.array(
        [need(int(s), int(n)) if s >= 0 else -1 for s, n in second.tolist()], dtype=np.int64
    )
    return TreeCover(
        copy_segment=segments[np.asarray(seg_l, dtype=np.int64)].astype(np.int64),
        copy_qubit=owner[np.asarray(seg_l, dtype=np.int64)].astype(np.int64),
        copy_home=home[np.asarray(seg_l, dtype=np.int64)].astype(np.int64),
        copy_node=np.asarray(node_l, dtype=np.int64),
        copy_parent=np.asarray(parent_l, dtype=np.int64),
        gate_copy=gate_copy,
        gate_second=gate_second,
        gate_side=side,
        ebits=len(seg_l),
        status=status,
        bound=proved,
    )
