"""Gate matrices in the engine's qubit order, and how to combine them.

Qiskit gives a gate's matrix in little-endian order over its arguments (bit
``j`` of an index is ``qargs[j]``). The engine orders qubits descending and
reads indices big-endian (see :mod:`qdframe_numpy.program`), so every matrix is
converted once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit.circuit import Gate, Instruction
from qiskit.circuit.library import get_standard_gate_name_mapping

from qdframe_numpy.program import Complex

__all__ = [
    "UNITARY_ATOL",
    "diagonal_of",
    "embed_diagonal",
    "embed_matrix",
    "gate_matrix",
    "is_trusted",
    "is_unitary",
    "to_engine_order",
]

#: Tolerance of the unitarity check on user-supplied matrices.
UNITARY_ATOL = 1e-8

_STANDARD_TYPES = frozenset(type(op) for op in get_standard_gate_name_mapping().values())


def _cache_key(op: Instruction) -> tuple[Any, ...] | None:
    if type(op) not in _STANDARD_TYPES:
        return None
    params: list[float] = []
    for param in op.params:
        try:
            params.append(float(param))
        except (TypeError, ValueError):
            return None
    return (type(op), tuple(params), getattr(op, "ctrl_state", None))


_CACHE_LIMIT = 4096
_cache: dict[tuple[Any, ...], Complex] = {}


def is_trusted(op: Instruction) -> bool:
    """Whether ``op`` is a standard gate with numeric parameters (unitary by construction)."""
    return _cache_key(op) is not None


def gate_matrix(op: Instruction) -> Complex | None:
    """The matrix of ``op`` in Qiskit's order, or ``None`` if it has none.

    Standard gates with numeric parameters are cached.
    """
    key = _cache_key(op)
    if key is not None:
        cached = _cache.get(key)
        if cached is None:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            cached = np.asarray(op.to_matrix(), dtype=np.complex128)
            cached.setflags(write=False)
            _cache[key] = cached
        return cached
    if not isinstance(op, Gate):
        return None
    try:
        return np.asarray(op.to_matrix(), dtype=np.complex128)
    except Exception:  # a gate without a matrix definition is decomposed instead
        return None


def is_unitary(matrix: Complex, atol: float = UNITARY_ATOL) -> bool:
    """Whether ``matrix`` is square and unitary to ``atol``."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        return False
    product = matrix.conj().T @ matrix
    return bool(np.allclose(product, np.eye(matrix.shape[0]), atol=atol, rtol=0.0))


def to_engine_order(matrix: Complex, qargs: Sequence[int]) -> tuple[tuple[int, ...], Complex]:
    """Convert a Qiskit-ordered matrix on ``qargs`` to the engine's order.

    :returns: the qubits in descending order and the matrix indexed big-endian
        over them.
    """
    k = len(qargs)
    qubits = tuple(sorted(qargs, reverse=True))
    if k <= 1:
        return qubits, matrix
    # After reshaping, row axis ``a`` holds bit ``k - 1 - a``, i.e. qargs[k - 1 - a].
    axis_of = {q: k - 1 - j for j, q in enumerate(qargs)}
    perm = [axis_of[q] for q in qubits]
    tensor = matrix.reshape((2,) * (2 * k)).transpose(perm + [p + k for p in perm])
    return qubits, np.ascontiguousarray(tensor.reshape(1 << k, 1 << k))


def diagonal_of(matrix: Complex) -> Complex | None:
    """The diagonal of ``matrix`` if every off-diagonal entry is exactly zero."""
    diagonal = np.diagonal(matrix).copy()
    if np.count_nonzero(matrix) == np.count_nonzero(diagonal):
        return diagonal
    return None


def _placement(sub: Sequence[int], full: Sequence[int]) -> list[int]:
    position = {q: i for i, q in enumerate(full)}
    try:
        return [position[q] for q in sub]
    except KeyError as missing:
        raise ValueError(f"qubit {missing} of {tuple(sub)} is not in {tuple(full)}") from None


def embed_matrix(matrix: Complex, sub: Sequence[int], full: Sequence[int]) -> Complex:
    """Extend ``matrix`` on ``sub`` (descending) to ``full`` (descending, ⊇ sub)."""
    if tuple(sub) == tuple(full):
        return matrix
    k = len(full)
    rest = [q for q in full if q not in set(sub)]
    extended = np.kron(matrix, np.eye(1 << len(rest), dtype=matrix.dtype))
    # Axes of ``extended`` are (sub..., rest...); move each to its place in ``full``.
    order = [*sub, *rest]
    source_of = {q: i for i, q in enumerate(order)}
    perm = [source_of[q] for q in full]
    tensor = extended.reshape((2,) * (2 * k)).transpose(perm + [p + k for p in perm])
    return np.ascontiguousarray(tensor.reshape(1 << k, 1 << k))


def embed_diagonal(phases: Complex, sub: Sequence[int], full: Sequence[int]) -> Complex:
    """Extend the diagonal ``phases`` on ``sub`` to ``full`` (both descending)."""
    if tuple(sub) == tuple(full):
        return phases
    positions = _placement(sub, full)
    shape = [1] * len(full)
    for p in positions:
        shape[p] = 2
    # ``sub`` is descending like ``full``, so its axes keep their relative order.
    tensor = phases.reshape((2,) * len(sub)).reshape(shape)
    return np.ascontiguousarray(np.broadcast_to(tensor, (2,) * len(full)).reshape(-1))
