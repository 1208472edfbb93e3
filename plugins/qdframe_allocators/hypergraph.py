"""``hypergraph``: KaHyPar on the burst hypergraph (Andres-Martinez & Heunen, 2019).

Vertices are the qubits and the two-qubit gates; each (qubit, segment) with
gates is a hyperedge joining the qubit to those gates. A gate placed on a
node is carried out there, so the connectivity-minus-one of a hyperedge is
the number of bursts its qubit needs: KaHyPar's ``km1`` objective is the ebit
count. Gates take no data qubit, yet KaHyPar rejects weight-0 vertices, so a
gate weighs 1 and a qubit weighs more than all gates together; a node's
target weight is then its capacity in qubits plus every gate, which bounds
the qubits exactly while letting gates go anywhere.

Needs the optional ``kahypar`` package (``pip install "qdframe[partition]"``);
its configuration ships in ``data/kahypar_km1.ini``.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from qdframe.plugin import Allocation, AllocationProblem, ebit_count
from qdframe_allocators._base import BaseAllocator, fill_in_order, node_order
from qdframe_allocators._model import pair_segments

__all__ = ["CONFIG_FILE", "HypergraphAllocator", "kahypar_available", "kahypar_partition"]

CONFIG_FILE = "kahypar_km1.ini"


def kahypar_available() -> bool:
    """Whether the optional ``kahypar`` module imports."""
    try:
        import kahypar  # noqa: F401
    except ImportError:
        return False
    return True


def _repair(part: np.ndarray, caps: np.ndarray, order: list[int]) -> np.ndarray:
    """Move qubits off over-full nodes into the first nodes with room."""
    loads = np.bincount(part, minlength=len(caps))
    for node in np.flatnonzero(loads > caps):
        extra = np.flatnonzero(part == node)[caps[node] :]
        for q in extra:
            loads = np.bincount(part, minlength=len(caps))
            target = next(x for x in order if loads[x] < caps[x])
            part[q] = target
    return part


def kahypar_partition(
    problem: AllocationProblem,
    seed: int,
    *,
    epsilon: float = 0.03,
    config: str | None = None,
) -> tuple[np.ndarray, int | None]:
    """KaHyPar's static partition of ``problem`` (qubit → node) and its km1
    objective (``None`` when there was nothing to partition).

    :raises ImportError: ``kahypar`` is not installed.
    """
    import kahypar

    n, k = problem.num_qubits, problem.num_nodes
    caps = problem.capacities.astype(np.int64)
    order = node_order(problem.topology)
    if k < 2 or problem.gates.num_two_qubit == 0:
        return fill_in_order(n, caps, order), None
    gates = problem.gates
    rows = gates.pair_rows
    num_gates = len(rows)
    seg_a, seg_b = pair_segments(problem)
    seg = np.concatenate([seg_a, seg_b])
    owner = np.concatenate([gates.qubits[rows, 0], gates.qubits[rows, 1]]).astype(np.int64)
    gate_vertex = n + np.concatenate([np.arange(num_gates), np.arange(num_gates)])
    order_idx = np.argsort(seg, kind="stable")
    seg_sorted = seg[order_idx]
    starts = np.flatnonzero(np.r_[True, seg_sorted[1:] != seg_sorted[:-1]])
    ends = np.r_[starts[1:], len(order_idx)]
    index = [0]
    pins: list[int] = []
    owners = owner[order_idx].tolist()
    members = gate_vertex[order_idx].tolist()
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        pins.append(owners[s])
        pins.extend(members[s:e])
        index.append(len(pins))
    qubit_weight = num_gates + 1
    weights = [qubit_weight] * n + [1] * num_gates
    hypergraph = kahypar.Hypergraph(n + num_gates, len(index) - 1, index, pins, k, [], weights)
    context = kahypar.Context()
    with contextlib.ExitStack() as stack:
        if config is None:
            path = stack.enter_context(
                resources.as_file(resources.files("qdframe_allocators") / "data" / CONFIG_FILE)
            )
            context.loadINIconfiguration(str(path))
        else:
            context.loadINIconfiguration(str(config))
    context.setK(k)
    context.setEpsilon(float(epsilon))
    context.setCustomTargetBlockWeights([int(c) * qubit_weight + num_gates for c in caps])
    context.setSeed(int(seed))
    context.suppressOutput(True)
    kahypar.partition(hypergraph, context)
    part = np.asarray([hypergraph.blockID(v) for v in range(n)], dtype=np.int64)
    part = _repair(part, caps, order)
    return part, int(kahypar.connectivityMinusOne(hypergraph))


class HypergraphAllocator(BaseAllocator):
    """KaHyPar ``km1`` partitioning of the qubit/gate hypergraph (static).

    Options: ``epsilon`` (KaHyPar imbalance, only used without custom
    weights), ``config`` (path to another KaHyPar ``.ini``).
    """

    name: ClassVar[str] = "hypergraph"
    OPTIONS: ClassVar[dict[str, Any]] = {"epsilon": 0.03, "config": None}

    def _allocate(self, problem: AllocationProblem, seed: int) -> Allocation:
        part, km1 = kahypar_partition(
            problem, seed, epsilon=float(self.options["epsilon"]), config=self.options["config"]
        )
        allocation = Allocation.static(part)
        if km1 is None:
            return allocation
        return allocation.with_notes(ebits=ebit_count(problem, allocation), km1=km1)
