"""Regular topologies with closed-form hop distances.

Every builder takes the node count, the per-node capacities and the default
link, plus its own shape parameters; a size that does not fit the shape raises
:class:`qdframe.errors.ConfigError` naming sizes (or shapes) that do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.plugin import ConfigError, LinkSpec, Topology
from qdframe_topologies._common import (
    factor_pairs,
    finish,
    nearby_sizes,
    reject_unknown,
    require_positive,
)

__all__ = [
    "build_all_to_all",
    "build_grid",
    "build_hypercube",
    "build_line",
    "build_ring",
    "build_star",
    "build_torus",
    "build_tree",
    "default_torus_dims",
]

IntArray = npt.NDArray[np.int64]
LinkArg = LinkSpec | Mapping[str, Any] | None


def _torus_fits(n: int) -> bool:
    return bool(factor_pairs(n, minimum=2))


def default_torus_dims(num_nodes: int) -> tuple[int, int]:
    """The most square ``rows x cols`` with both sides >= 2 (1024 → 32 x 32).

    :raises ConfigError: ``num_nodes`` has no such factorisation (it is prime
        or below 4); the message lists nearby sizes that fit.
    """
    pairs = factor_pairs(num_nodes, minimum=2)
    if not pairs:
        sizes = ", ".join(str(s) for s in nearby_sizes(num_nodes, _torus_fits))
        raise ConfigError(
            f"{num_nodes} nodes cannot form a 2D torus (each side needs >= 2 nodes); "
            f"sizes that fit nearby: {sizes}; or give dims, or use a ring"
        )
    return pairs[-1]


def _check_dims(kind: str, num_nodes: int, dims: Sequence[int], minimum: int) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind} dims must be a list of integers, got {dims!r}") from None
    if len(shape) not in (2, 3):
        raise ConfigError(f"{kind} dims must have 2 or 3 entries, got {len(shape)}")
    if any(d < minimum for d in shape):
        raise ConfigError(f"{kind} dims {list(shape)}: every side needs >= {minimum} nodes")
    if int(np.prod(shape)) != num_nodes:
        options = [f"[{a}, {b}]" for a, b in factor_pairs(num_nodes, minimum=minimum)]
        hint = (
            f"dims that fit {num_nodes} nodes: {', '.join(options[-4:])}"
            if options
            else f"no 2D dims fit {num_nodes} nodes"
        )
        raise ConfigError(
            f"{kind} dims {list(shape)} hold {int(np.prod(shape))} nodes, not {num_nodes}; {hint}"
        )
    return shape


def _mesh_edges(shape: tuple[int, ...], wrap: bool) -> list[tuple[int, int]]:
    n = int(np.prod(shape))
    index = np.arange(n).reshape(shape)
    edges: list[tuple[int, int]] = []
    for axis, size in enumerate(shape):
        if size < 2:
            continue
        shifted = np.roll(index, -1, axis=axis)
        a = index
        b = shifted
        if not wrap:
            keep = [slice(None)] * len(shape)
            keep[axis] = slice(0, size - 1)
            a, b = index[tuple(keep)], shifted[tuple(keep)]
        edges.extend(zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
    return edges


class _MeshHops:
    """Hop distance on a grid (Manhattan) or torus (wrapped) of a given shape."""

    def __init__(self, shape: tuple[int, ...], wrap: bool) -> None:
        self.sizes = [int(s) for s in shape]
        self.wrap = wrap

    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        total = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.int64)
        ra, rb = a, b
        for size in self.sizes[::-1]:
            d = np.abs(ra % size - rb % size)
            total += np.minimum(d, size - d) if self.wrap else d
            ra, rb = ra // size, rb // size
        return total


class _RingHops:
    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        d = np.abs(a - b)
        return np.asarray(np.minimum(d, self.n - d), dtype=np.int64)


class _LineHops:
    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        return np.asarray(np.abs(a - b), dtype=np.int64)


class _StarHops:
    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        spoke = np.where((a == 0) | (b == 0), 1, 2)
        return np.asarray(np.where(a == b, 0, spoke), dtype=np.int64)


class _CompleteHops:
    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        return np.asarray(a != b, dtype=np.int64)


class _TreeHops:
    """Level-order numbering: a larger index is never shallower, so stepping
    the larger of the two towards the root meets at the common ancestor."""

    def __init__(self, arity: int) -> None:
        self.k = arity

    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        x, y = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        x, y = x.copy(), y.copy()
        steps = np.zeros(x.shape, dtype=np.int64)
        while True:
            differ = x != y
            if not differ.any():
                return steps
            hi = np.maximum(x, y)
            lo = np.minimum(x, y)
            hi = np.where(differ, (hi - 1) // self.k, hi)
            steps += differ
            x, y = lo, hi


class _CubeHops:
    def __call__(self, a: IntArray, b: IntArray) -> IntArray:
        return _popcount(np.bitwise_xor(a, b))


def build_torus(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    dims: Sequence[int] | None = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A torus: 2D by default (the most square shape), 3D when ``dims`` has 3 entries.

    Node ``i`` sits at the row-major coordinates of ``i`` in ``dims``; each
    node links to its neighbours along every axis, wrapping around.
    """
    reject_unknown("torus", unknown, ("dims",))
    require_positive("torus", num_nodes)
    shape = _check_dims("torus", num_nodes, dims, 2) if dims else default_torus_dims(num_nodes)
    return finish(
        "torus",
        num_nodes,
        _mesh_edges(shape, wrap=True),
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_MeshHops(shape, wrap=True),
        params={"dims": list(shape)},
    )


def build_grid(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    dims: Sequence[int] | None = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A 2D (or 3D, with ``dims``) grid without wrap-around links.

    The default shape is the most square factorisation (a prime size gives a
    single row).
    """
    reject_unknown("grid", unknown, ("dims",))
    require_positive("grid", num_nodes)
    shape = _check_dims("grid", num_nodes, dims, 1) if dims else factor_pairs(num_nodes, 1)[-1]
    return finish(
        "grid",
        num_nodes,
        _mesh_edges(shape, wrap=False),
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_MeshHops(shape, wrap=False),
        params={"dims": list(shape)},
    )


def build_ring(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """Nodes on a cycle: ``i`` links to ``i + 1 (mod n)``."""
    reject_unknown("ring", unknown, ())
    require_positive("ring", num_nodes)
    n = num_nodes
    edges = [(i, (i + 1) % n) for i in range(n)] if n > 1 else []
    return finish(
        "ring",
        n,
        edges,
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_RingHops(n),
    )


def build_line(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """Nodes on a path: ``i`` links to ``i + 1``."""
    reject_unknown("line", unknown, ())
    require_positive("line", num_nodes)

    return finish(
        "line",
        num_nodes,
        [(i, i + 1) for i in range(num_nodes - 1)],
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_LineHops(),
    )


def build_star(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A hub (node 0) linked to every other node."""
    reject_unknown("star", unknown, ())
    require_positive("star", num_nodes)

    return finish(
        "star",
        num_nodes,
        [(0, i) for i in range(1, num_nodes)],
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_StarHops(),
    )


def build_all_to_all(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A complete graph: every pair of nodes shares a link."""
    reject_unknown("all_to_all", unknown, ())
    require_positive("all_to_all", num_nodes)
    upper = np.triu_indices(num_nodes, k=1)
    edges = np.stack(upper, axis=1)

    return finish(
        "all_to_all",
        num_nodes,
        edges,
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_CompleteHops(),
    )


def build_tree(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    arity: int = 2,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A rooted tree filled level by level: node ``i > 0`` links to ``(i - 1) // arity``."""
    reject_unknown("tree", unknown, ("arity",))
    require_positive("tree", num_nodes)
    if int(arity) < 1:
        raise ConfigError(f"tree arity must be >= 1, got {arity}")
    k = int(arity)
    return finish(
        "tree",
        num_nodes,
        [((i - 1) // k, i) for i in range(1, num_nodes)],
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_TreeHops(k),
        params={"arity": k},
    )


def _popcount(x: IntArray) -> IntArray:
    count = np.zeros(x.shape, dtype=np.int64)
    while x.any():
        count += x & 1
        x = x >> 1
    return count


def build_hypercube(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A hypercube of dimension ``d`` (``2**d`` nodes): nodes differing in one bit link."""
    reject_unknown("hypercube", unknown, ())
    require_positive("hypercube", num_nodes)
    if num_nodes & (num_nodes - 1):
        below = 1 << (num_nodes.bit_length() - 1)
        raise ConfigError(
            f"a hypercube needs a power of two nodes, got {num_nodes}; "
            f"sizes that fit: {below} or {below * 2}"
        )
    d = num_nodes.bit_length() - 1
    edges = [(i, i ^ (1 << j)) for i in range(num_nodes) for j in range(d) if i < i ^ (1 << j)]

    return finish(
        "hypercube",
        num_nodes,
        edges,
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        hop_function=_CubeHops(),
        params={"dimension": d},
    )
