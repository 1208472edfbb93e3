"""Gate fusion: blocks must multiply to the same operator, within the width limits."""

from __future__ import annotations

import numpy as np
import pytest
from qdframe_numpy.fusion import CostModel, GateOp, fuse
from qdframe_numpy.matrices import embed_diagonal, embed_matrix
from qdframe_numpy.program import DenseBlock, DiagonalBlock

N = 6
ALL = tuple(range(N - 1, -1, -1))


def _unitary(rng: np.random.Generator, k: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(1 << k, 1 << k)) + 1j * rng.normal(size=(1 << k, 1 << k)))
    return q


def _random_ops(seed: int, count: int) -> list[GateOp]:
    rng = np.random.default_rng(seed)
    ops: list[GateOp] = []
    for _ in range(count):
        k = int(rng.integers(1, 4))
        qubits = tuple(sorted(rng.choice(N, size=k, replace=False).tolist(), reverse=True))
        if rng.uniform() < 0.4:
            ops.append(GateOp(qubits, phases=np.exp(1j * rng.uniform(0, 6, size=1 << k))))
        else:
            ops.append(GateOp(qubits, matrix=_unitary(rng, k)))
    return ops


def _product(items: list[GateOp] | list[DenseBlock | DiagonalBlock]) -> np.ndarray:
    total = np.eye(1 << N, dtype=complex)
    for item in items:
        if isinstance(item, DiagonalBlock) or (isinstance(item, GateOp) and item.diagonal):
            phases = item.phases
            assert phases is not None
            total = embed_diagonal(phases, item.qubits, ALL)[:, None] * total
        else:
            matrix = item.matrix
            assert matrix is not None
            total = embed_matrix(matrix, item.qubits, ALL) @ total
    return total


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_dense", [1, 2, 4, 5])
def test_fused_blocks_multiply_to_the_circuit(seed: int, max_dense: int) -> None:
    ops = _random_ops(seed, 40)
    blocks = fuse(ops, N, max_dense_qubits=max_dense, max_diagonal_qubits=4)
    assert np.allclose(_product(blocks), _product(ops), atol=1e-10)
    assert sum(block.gates for block in blocks) == len(ops)


def test_width_limits_hold_for_merged_blocks() -> None:
    ops = _random_ops(11, 60)
    for block in fuse(ops, N, max_dense_qubits=3, max_diagonal_qubits=4):
        limit = 4 if isinstance(block, DiagonalBlock) else 3
        assert len(block.qubits) <= limit or block.gates == 1


def test_fusion_reduces_the_number_of_passes() -> None:
    ops = _random_ops(12, 60)
    assert len(fuse(ops, 20)) < len(ops) / 2


def test_diagonal_gates_stay_diagonal() -> None:
    rng = np.random.default_rng(1)
    ops = [
        GateOp((a, b), phases=np.exp(1j * rng.uniform(size=4))) for a in range(N) for b in range(a)
    ]
    blocks = fuse(ops, 20, max_diagonal_qubits=N)
    assert len(blocks) == 1 and isinstance(blocks[0], DiagonalBlock)
    assert np.allclose(_product(blocks), _product(ops))


def test_a_gate_does_not_pass_a_block_on_its_qubits() -> None:
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    h = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
    ops = [GateOp((0,), matrix=h), GateOp((1, 0), matrix=np.kron(x, np.eye(2))), GateOp((0,), x)]
    blocks = fuse(ops, N, max_dense_qubits=1)
    assert [b.qubits for b in blocks] == [(0,), (1, 0), (0,)]
    assert np.allclose(_product(blocks), _product(ops))


def test_cost_model_prices_width_and_diagonals() -> None:
    model = CostModel()
    assert model.dense(6, 24, 16) > model.dense(5, 24, 16) > model.dense(1, 24, 16)
    assert model.diagonal(10, 24, 16) < model.dense(2, 24, 16)
    assert model.dense(5, 24, 8) < model.dense(5, 24, 16)
    # At a tiny state only the fixed overhead matters, so merging is free.
    assert model.dense(5, 4, 16) == pytest.approx(model.dense(1, 4, 16), rel=1e-2)
