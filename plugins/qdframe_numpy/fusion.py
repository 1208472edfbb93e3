"""Gate fusion: turn a run of gates into fewer, wider blocks.

Each pass over a large state costs a trip through memory, so applying one
5-qubit block is much cheaper than applying the ten gates it holds. The
planner walks the gates in order and puts each into the block that makes the
estimated total cost smallest:

* a gate may join any block that comes after every block already acting on
  one of its qubits (it then commutes past the blocks in between, which act on
  other qubits); it may also open a new block;
* a block of diagonal gates stays a diagonal (one multiply per amplitude, no
  matrix product) and may grow wider than a dense block;
* :class:`CostModel` prices a block from the state size, its width and
  whether it is diagonal, so that the width of blocks follows from the cost,
  not from a fixed rule; ``max_dense_qubits`` caps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qdframe_numpy.matrices import embed_diagonal, embed_matrix
from qdframe_numpy.program import Complex, DenseBlock, DiagonalBlock

__all__ = ["DEFAULT_MAX_DIAGONAL_QUBITS", "CostModel", "GateOp", "fuse"]

#: Widest diagonal block; its phase table has ``2**width`` entries.
DEFAULT_MAX_DIAGONAL_QUBITS = 10

#: How many of the most recent blocks a gate may join besides the earliest
#: legal one; keeps planning linear in the number of gates.
_LOOKBACK = 8


@dataclass(frozen=True)
class GateOp:
    """One gate in engine order: ``qubits`` descending, and either a dense
    ``matrix`` or, for diagonal gates, its ``phases``."""

    qubits: tuple[int, ...]
    matrix: Complex | None = None
    phases: Complex | None = None

    @property
    def diagonal(self) -> bool:
        return self.phases is not None

    def dense(self) -> Complex:
        if self.matrix is not None:
            return self.matrix
        assert self.phases is not None
        return np.diag(self.phases)


@dataclass(frozen=True)
class CostModel:
    """Estimated seconds to apply a block to a state.

    The defaults were measured on a two-core x86 machine with OpenBLAS
    (``benchmarks/simulators.py`` reports the numbers that matter); only the
    ratios between the terms change the plans.

    :param bandwidth_bytes_s: memory bandwidth of a streaming in-place pass.
    :param flops_s: complex128 matrix-product speed (complex64 is twice as fast).
    :param overhead_s: fixed cost of one block (Python and view set-up).
    :param dense_passes: memory passes of a dense block (gather, product, scatter).
    :param diagonal_passes: memory passes of a diagonal block.
    """

    bandwidth_bytes_s: float = 30e9
    flops_s: float = 60e9
    overhead_s: float = 2e-5
    dense_passes: float = 3.0
    diagonal_passes: float = 1.2

    def _pass(self, num_qubits: int, itemsize: int) -> float:
        return 2.0 * itemsize * (1 << num_qubits) / self.bandwidth_bytes_s

    def dense(self, width: int, num_qubits: int, itemsize: int) -> float:
        speed = self.flops_s * (2.0 if itemsize <= 8 else 1.0)
        flops = 8.0 * (1 << num_qubits) * (1 << width)
        return (
            self.overhead_s + self.dense_passes * self._pass(num_qubits, itemsize) + flops / speed
        )

    def diagonal(self, width: int, num_qubits: int, itemsize: int) -> float:
        del width  # one multiply per amplitude whatever the width
        return self.overhead_s + self.diagonal_passes * self._pass(num_qubits, itemsize)

    def block(self, width: int, diagonal: bool, num_qubits: int, itemsize: int) -> float:
        if diagonal:
            return self.diagonal(width, num_qubits, itemsize)
        return self.dense(width, num_qubits, itemsize)


@dataclass
class _Pending:
    qubits: set[int]
    diagonal: bool
    members: list[int] = field(default_factory=list)


def fuse(
    ops: Sequence[GateOp],
    num_qubits: int,
    *,
    itemsize: int = 16,
    max_dense_qubits: int = 5,
    max_diagonal_qubits: int = DEFAULT_MAX_DIAGONAL_QUBITS,
    cost: CostModel | None = None,
) -> list[DenseBlock | DiagonalBlock]:
    """Group ``ops`` into blocks whose product, in order, equals the ops' product.

    :param ops: gates in circuit order.
    :param num_qubits: width of the state (prices the blocks).
    :param itemsize: bytes per amplitude (16 for complex128, 8 for complex64).
    :param max_dense_qubits: widest dense block built by merging (a single
        gate wider than this still forms its own block).
    :param max_diagonal_qubits: widest diagonal block built by merging.
    :param cost: the cost model; the default when omitted.
    """
    model = cost if cost is not None else CostModel()

    def price(width: int, diagonal: bool) -> float:
        return model.block(width, diagonal, num_qubits, itemsize)

    pending: list[_Pending] = []
    last: dict[int, int] = {}
    for index, op in enumerate(ops):
        wanted = set(op.qubits)
        floor = max((last.get(q, -1) for q in wanted), default=-1)
        candidates = set(range(max(floor, len(pending) - _LOOKBACK, 0), len(pending)))
        if floor >= 0:
            candidates.add(floor)
        best: tuple[float, int, int] | None = None
        for b in candidates:
            block = pending[b]
            union = block.qubits | wanted
            diagonal = block.diagonal and op.diagonal
            limit = max_diagonal_qubits if diagonal else max_dense_qubits
            if len(union) > limit:
                continue
            delta = price(len(union), diagonal) - price(len(block.qubits), block.diagonal)
            key = (delta, 0 if union == block.qubits else 1, -b)
            if best is None or key < best:
                best = key
        if best is not None and best[0] <= price(len(wanted), op.diagonal):
            chosen = -best[2]
            block = pending[chosen]
            block.qubits |= wanted
            block.diagonal = block.diagonal and op.diagonal
            block.members.append(index)
        else:
            chosen = len(pending)
            pending.append(_Pending(set(wanted), op.diagonal, [index]))
        for q in wanted:
            last[q] = chosen
    return [_build(block, ops) for block in pending]


def _build(block: _Pending, ops: Sequence[GateOp]) -> DenseBlock | DiagonalBlock:
    qubits = tuple(sorted(block.qubits, reverse=True))
    members = [ops[i] for i in block.members]
    if block.diagonal:
        phases: Complex | None = None
        for op in members:
            assert op.phases is not None
            widened = embed_diagonal(op.phases, op.qubits, qubits)
            phases = widened.copy() if phases is None else phases * widened
        assert phases is not None
        return DiagonalBlock(qubits, phases, gates=len(members))
    if len(members) == 1 and members[0].qubits == qubits:
        return DenseBlock(qubits, members[0].dense(), gates=1)
    matrix: Complex = np.eye(1 << len(qubits), dtype=np.complex128)
    for op in members:
        if op.phases is not None:
            # A diagonal scales rows; no need for a matrix product.
            matrix = embed_diagonal(op.phases, op.qubits, qubits)[:, None] * matrix
        else:
            matrix = embed_matrix(op.dense(), op.qubits, qubits) @ matrix
    return DenseBlock(qubits, matrix, gates=len(members))
