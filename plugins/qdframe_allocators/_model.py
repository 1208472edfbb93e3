"""From an allocation problem to the nets the local-search engine works on.

Each two-qubit gate is served by a burst of one of its qubits (its *side*).
With sides fixed, the gates served by qubit ``q`` within one of its segments
form a net: root ``q``, leaves the partners. Time-sliced models use one vertex
per (slice, qubit), numbered ``slice * num_qubits + qubit``; a gate's pins are
the vertices of its slice, and a segment spread over several slices also has
the root qubit's later vertices as leaves (a qubit teleported mid-segment pays
for a new burst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qdframe.plugin import Allocation, AllocationProblem, evaluate

__all__ = [
    "NetModel",
    "build_nets",
    "default_sides",
    "distance_lists",
    "exact_sides",
    "pair_segments",
]

IntArray = npt.NDArray[np.int64]


def distance_lists(problem: AllocationProblem) -> list[list[int]]:
    """The hop-distance matrix as nested lists (fast element access in loops)."""
    matrix: list[list[int]] = problem.topology.distances().astype(np.int64).tolist()
    return matrix


def pair_segments(problem: AllocationProblem) -> tuple[IntArray, IntArray]:
    """Segment id (unique over all qubits) of both qubits of every two-qubit gate.

    Only non-diagonal single-qubit gates end segments here; teleportation is
    priced by the nets of time-sliced models instead.
    """
    gates = problem.gates
    rows = gates.pair_rows
    span = gates.num_gates + 1
    break_rows = np.flatnonzero(~gates.is_pair).astype(np.int64)
    keys = gates.qubits[break_rows, 0].astype(np.int64) * span + break_rows
    keys.sort()
    a = gates.qubits[rows, 0].astype(np.int64)
    b = gates.qubits[rows, 1].astype(np.int64)
    # Breaks of the qubit before the row, plus the qubit index: unique ids.
    seg_a = np.searchsorted(keys, a * span + rows) + a
    seg_b = np.searchsorted(keys, b * span + rows) + b
    return seg_a.astype(np.int64), seg_b.astype(np.int64)


def default_sides(problem: AllocationProblem, seg_a: IntArray, seg_b: IntArray) -> IntArray:
    """A side for every gate: the qubit whose segment holds more gates (it is
    the likelier one to serve several gates with one burst)."""
    sizes = np.bincount(np.concatenate([seg_a, seg_b]))
    return (sizes[seg_b] > sizes[seg_a]).astype(np.int64)


def exact_sides(
    problem: AllocationProblem, allocation: Allocation, fallback: IntArray
) -> tuple[IntArray, int]:
    """Sides chosen by the exact pairwise cost model (fallback for local gates)
    and its ebits.

    The pairwise cover is what the nets model, and it is found exactly
    without a search limit, so the search stays deterministic; the tree
    cover of the final plan can only be lower.
    """
    report = evaluate(problem, allocation, records=True, check=False, cover="pairwise")
    assert report.gate_side is not None
    side = report.gate_side.astype(np.int64)
    return np.where(side >= 0, side, fallback), report.ebits


@dataclass
class NetModel:
    """Nets over vertices ``slice * num_qubits + qubit`` (one slice when static)."""

    num_qubits: int
    num_slices: int
    roots: list[int]
    leaves: list[list[int]]
    weights: list[int]


def build_nets(
    problem: AllocationProblem,
    sides: IntArray,
    seg_a: IntArray,
    seg_b: IntArray,
    gate_slice: IntArray | None = None,
    num_slices: int = 1,
    stride: int | None = None,
) -> NetModel:
    """Group gates into nets: one per (serving qubit, segment).

    Vertex ids are ``slice * stride + qubit`` (``stride`` defaults to the
    number of qubits; a larger one leaves room for empty-slot vertices).
    """
    gates = problem.gates
    n = gates.num_qubits if stride is None else stride
    rows = gates.pair_rows
    a = gates.qubits[rows, 0].astype(np.int64)
    b = gates.qubits[rows, 1].astype(np.int64)
    if gate_slice is None:
        gate_slice = np.zeros(len(rows), dtype=np.int64)
    root_q = np.where(sides == 0, a, b)
    leaf_q = np.where(sides == 0, b, a)
    net_seg = np.where(sides == 0, seg_a, seg_b)
    order = np.lexsort((gate_slice, net_seg))
    seg_sorted = net_seg[order]
    if not len(order):
        return NetModel(n, num_slices, [], [], [])
    starts = np.flatnonzero(np.r_[True, seg_sorted[1:] != seg_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    root_v = (gate_slice * n + root_q)[order].tolist()
    leaf_v = (gate_slice * n + leaf_q)[order].tolist()
    roots: list[int] = []
    leaves: list[list[int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        root = root_v[s]
        pins = leaf_v[s:e]
        extra = {v for v in root_v[s + 1 : e] if v != root}
        if extra:
            pins = pins + sorted(extra)
        roots.append(root)
        leaves.append(pins)
    return NetModel(n, num_slices, roots, leaves, [1] * len(roots))
