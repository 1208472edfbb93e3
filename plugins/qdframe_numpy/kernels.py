"""In-place operations on a statevector.

The state is a one-dimensional array of ``2**n`` amplitudes; bit ``q`` of an
index is the value of qubit ``q``. A kernel reshapes it into a tensor whose
axes are runs of qubits (highest first) and works through it in chunks that
fit in cache, so no operation allocates a second whole state:

* a dense ``k``-qubit block gathers each chunk into a ``2**k x R`` matrix,
  multiplies it with one BLAS call and scatters it back; when the targets are
  the lowest qubits, or a run of qubits above long contiguous stretches, the
  matrix product reads the state in place and only the write goes through a
  buffer;
* a diagonal block multiplies the state by a broadcast phase table; tables
  over high qubits are widened with the lowest qubits so that the innermost
  loop runs over a contiguous stretch instead of two elements.

Plans (shapes and axis orders) depend only on the state width and the qubits,
so they are computed once per block by :func:`prepare`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from qdframe_numpy.matrices import embed_diagonal
from qdframe_numpy.parallel import Runner, Workspace
from qdframe_numpy.program import Complex

__all__ = [
    "CHUNK_QUBITS",
    "DIAGONAL_LOW_QUBITS",
    "DensePlan",
    "DiagonalPlan",
    "Workspace",
    "apply_diagonal",
    "apply_matrix",
    "diagonal_table_entries",
    "prepare_dense",
    "prepare_diagonal",
    "project",
    "qubit_probabilities",
    "reduced_density",
    "reset_from_one",
    "workspace_elements",
]

#: log2 of the amplitudes one chunk holds (2**16 x 16 B = 1 MiB at complex128).
CHUNK_QUBITS = 16

#: Diagonal tables touching a qubit below this are widened to all qubits below it.
DIAGONAL_LOW_QUBITS = 6

#: Untouched low qubits below a block's targets are copied as one element
#: when there are at most this many of them.
_ELEMENT_MAX_QUBITS = 6

#: A run of target qubits is multiplied in place only above this many amplitudes
#: of contiguous memory; below it, gathering is faster.
_WINDOW_MIN_QUBITS = 8


def workspace_elements(num_qubits: int, widest_block: int, chunk_qubits: int) -> int:
    """Chunk buffer size for a state of ``num_qubits`` and blocks up to ``widest_block``."""
    return 1 << min(num_qubits, max(chunk_qubits, widest_block))


def _runs(num_qubits: int, targets: tuple[int, ...]) -> list[tuple[int, bool]]:
    """Axes of the state tensor, highest first, as (log2 size, is_target)."""
    axes: list[tuple[int, bool]] = []
    previous = num_qubits
    for t in targets:
        gap = previous - t - 1
        if gap:
            axes.append((gap, False))
        if axes and axes[-1][1]:
            axes[-1] = (axes[-1][0] + 1, True)
        else:
            axes.append((1, True))
        previous = t
    if previous:
        axes.append((previous, False))
    return axes


@dataclass(frozen=True)
class DensePlan:
    """How to apply a dense matrix to given qubits of a state of given width."""

    kind: str  # "bottom", "window" or "gather"
    qubits: tuple[int, ...]
    shape: tuple[int, ...]
    transpose: tuple[int, ...] = ()
    outer: tuple[int, ...] = ()
    gather: tuple[int, ...] = ()
    scatter: tuple[int, ...] = ()
    gathered_shape: tuple[int, ...] = ()
    columns: int = 0
    element_qubits: int = 0

    @cached_property
    def _indices(self) -> list[tuple[int, ...]]:
        return list(np.ndindex(*self.outer))

    def chunk_indices(self) -> list[tuple[int, ...]]:
        """Index of every chunk into the transposed view (gather plans)."""
        return self._indices


def prepare_dense(num_qubits: int, qubits: tuple[int, ...], chunk: int) -> DensePlan:
    """Plan a dense block on ``qubits`` (descending) for chunks of ``chunk`` amplitudes."""
    k = len(qubits)
    size = 1 << k
    lowest = qubits[-1]
    contiguous = qubits[0] - lowest == k - 1
    if contiguous and lowest == 0:
        return DensePlan("bottom", qubits, (1 << (num_qubits - k), size))
    if contiguous and lowest >= _WINDOW_MIN_QUBITS and (1 << lowest) >= chunk // size:
        above = 1 << (num_qubits - qubits[0] - 1)
        return DensePlan("window", qubits, (above, size, 1 << lowest))

    inner_budget = max(0, min(num_qubits - k, chunk.bit_length() - 1 - k))
    # Split each gap between an outer part (iterated over) and an inner part
    # (inside a chunk), filling the chunk from the lowest qubits up.
    roles: list[tuple[int, str]] = []
    remaining = inner_budget
    for log2, is_target in reversed(_runs(num_qubits, qubits)):
        if is_target:
            roles.append((log2, "t"))
            continue
        take = min(log2, remaining)
        remaining -= take
        if take:
            roles.append((take, "i"))
        if log2 - take:
            roles.append((log2 - take, "o"))
    roles.reverse()
    merged: list[tuple[int, str]] = []
    for log2, role in roles:
        if merged and merged[-1][1] == role and role != "t":
            merged[-1] = (merged[-1][0] + log2, role)
        else:
            merged.append((log2, role))
    # Copies with a short innermost run are slow; treat a short run of
    # untouched low qubits as one wide element instead.
    element_qubits = 0
    if merged[-1][1] == "i" and merged[-1][0] <= _ELEMENT_MAX_QUBITS:
        element_qubits = merged.pop()[0]
    shape = tuple(1 << log2 for log2, _ in merged)
    outer_axes = [i for i, (_, role) in enumerate(merged) if role == "o"]
    inner_axes = [i for i, (_, role) in enumerate(merged) if role != "o"]
    gather = [j for j, a in enumerate(inner_axes) if merged[a][1] == "t"] + [
        j for j, a in enumerate(inner_axes) if merged[a][1] == "i"
    ]
    scatter = tuple(int(i) for i in np.argsort(gather))
    gathered_shape = tuple(shape[inner_axes[j]] for j in gather)
    return DensePlan(
        "gather",
        qubits,
        shape,
        transpose=tuple(outer_axes + inner_axes),
        outer=tuple(shape[a] for a in outer_axes),
        gather=tuple(gather),
        scatter=scatter,
        gathered_shape=gathered_shape,
        columns=1 << inner_budget,
        element_qubits=element_qubits,
    )


def apply_matrix(state: Complex, matrix: Complex, plan: DensePlan, runner: Runner) -> None:
    """Apply ``matrix`` (engine order over ``plan.qubits``) to ``state`` in place."""
    size = matrix.shape[0]
    if plan.kind == "bottom":
        _apply_bottom(state, matrix, plan, runner)
    elif plan.kind == "window":
        _apply_window(state, matrix, plan, runner)
    else:
        _apply_gathered(state, matrix, plan, runner, size)


def _apply_bottom(state: Complex, matrix: Complex, plan: DensePlan, runner: Runner) -> None:
    rows_total, size = plan.shape
    view = state.reshape(plan.shape)
    step = max(1, runner.elements // size)
    transposed = matrix.T

    def piece(i: int, work: Workspace) -> None:
        block = view[i * step : (i + 1) * step]
        out = work.product[: block.shape[0] * size].reshape(block.shape)
        np.matmul(block, transposed, out=out)
        block[...] = out

    runner.run(-(-rows_total // step), piece)


def _apply_window(state: Complex, matrix: Complex, plan: DensePlan, runner: Runner) -> None:
    above, size, below = plan.shape
    view = state.reshape(plan.shape)
    step = min(below, max(1, runner.elements // size))
    per_row = -(-below // step)

    def piece(i: int, work: Workspace) -> None:
        a, j = divmod(i, per_row)
        block = view[a, :, j * step : (j + 1) * step]
        out = work.product[: size * block.shape[1]].reshape(size, block.shape[1])
        np.matmul(matrix, block, out=out)
        block[...] = out

    runner.run(above * per_row, piece)


def _apply_gathered(
    state: Complex, matrix: Complex, plan: DensePlan, runner: Runner, size: int
) -> None:
    count = size * plan.columns
    # Copies move elements of 2**element_qubits amplitudes; the product sees
    # the same memory as a (size, columns) complex matrix.
    element = np.dtype((np.void, state.itemsize << plan.element_qubits))
    view = state.view(element).reshape(plan.shape).transpose(plan.transpose)
    indices = plan.chunk_indices()
    shape = plan.gathered_shape

    def piece(i: int, work: Workspace) -> None:
        gathered = work.gathered[:count]
        product = work.product[:count]
        chunk = view[indices[i]]
        np.copyto(gathered.view(element).reshape(shape), chunk.transpose(plan.gather))
        np.matmul(matrix, gathered.reshape(size, -1), out=product.reshape(size, -1))
        np.copyto(chunk, product.view(element).reshape(shape).transpose(plan.scatter))

    runner.run(len(indices), piece)


@dataclass(frozen=True)
class DiagonalPlan:
    """A diagonal widened to ``qubits`` and shaped to broadcast over the state."""

    qubits: tuple[int, ...]
    shape: tuple[int, ...]
    table: Complex


def _widened(num_qubits: int, qubits: tuple[int, ...]) -> tuple[int, ...]:
    low = min(num_qubits, DIAGONAL_LOW_QUBITS)
    if qubits[-1] < low:
        return tuple(sorted(set(qubits) | set(range(low)), reverse=True))
    return qubits


def diagonal_table_entries(num_qubits: int, qubits: tuple[int, ...]) -> int:
    """Entries of the phase table :func:`prepare_diagonal` builds."""
    return 1 << len(_widened(num_qubits, qubits))


def prepare_diagonal(num_qubits: int, qubits: tuple[int, ...], phases: Complex) -> DiagonalPlan:
    """Plan a diagonal block; the returned table is ready to multiply."""
    widened = _widened(num_qubits, qubits)
    if widened != qubits:
        phases = embed_diagonal(phases, qubits, widened)
    runs = _runs(num_qubits, widened)
    shape = tuple(1 << log2 for log2, _ in runs)
    table_shape = tuple(1 << log2 if is_target else 1 for log2, is_target in runs)
    table = np.ascontiguousarray(phases).reshape(table_shape)
    return DiagonalPlan(widened, shape, table)


def apply_diagonal(state: Complex, plan: DiagonalPlan, runner: Runner) -> None:
    """Multiply ``state`` by the planned diagonal, in place."""
    view = state.reshape(plan.shape)
    table = plan.table
    # Split along the leading axes into pieces of about one chunk each.
    lead = 0
    pieces = 1
    while lead < len(plan.shape) - 1 and state.size // (pieces * plan.shape[lead]) >= (
        runner.elements
    ):
        pieces *= plan.shape[lead]
        lead += 1
    if pieces == 1:
        np.multiply(view, table, out=view)
        return
    leading = plan.shape[:lead]
    broadcast = tuple(s > 1 for s in table.shape[:lead])

    def piece(i: int, work: Workspace) -> None:
        index = np.unravel_index(i, leading)
        part = view[index]
        own = tuple(int(x) if b else 0 for x, b in zip(index, broadcast, strict=True))
        np.multiply(part, table[own], out=part)

    runner.run(pieces, piece)


# --------------------------------------------------------------------------
# Measurement support
# --------------------------------------------------------------------------


def _halves(state: Complex, qubit: int, elements: int) -> Iterator[tuple[Complex, Complex]]:
    """Matching pieces of the ``|0⟩`` and ``|1⟩`` halves of ``qubit``, chunk by chunk."""
    half = 1 << qubit
    view = state.reshape(-1, 2, half)
    if 2 * half <= elements:
        step = elements // (2 * half)
        for row in range(0, view.shape[0], step):
            yield view[row : row + step, 0, :], view[row : row + step, 1, :]
        return
    step = max(1, elements // 2)
    for row in range(view.shape[0]):
        for column in range(0, half, step):
            yield view[row, 0, column : column + step], view[row, 1, column : column + step]


def qubit_probabilities(state: Complex, qubit: int, work: Workspace) -> tuple[float, float]:
    """Unnormalised probabilities of ``qubit`` being 0 and 1."""
    p0 = p1 = 0.0
    for zero, one in _halves(state, qubit, work.elements):
        p0 += float(np.vdot(zero, zero).real)
        p1 += float(np.vdot(one, one).real)
    return p0, p1


def reduced_density(state: Complex, qubit: int, work: Workspace) -> npt.NDArray[np.complex128]:
    """The 2x2 reduced density matrix of ``qubit`` (unnormalised)."""
    rho = np.zeros((2, 2), dtype=np.complex128)
    for zero, one in _halves(state, qubit, work.elements):
        rho[0, 0] += np.vdot(zero, zero)
        rho[1, 1] += np.vdot(one, one)
        rho[0, 1] += np.vdot(zero, one)
    rho[1, 0] = np.conj(rho[0, 1])
    return rho


def project(state: Complex, qubit: int, outcome: int, scale: float) -> None:
    """Keep the ``outcome`` half of ``qubit``, scaled by ``scale``; zero the other."""
    view = state.reshape(-1, 2, 1 << qubit)
    view[:, 1 - outcome, :] = 0
    kept = view[:, outcome, :]
    np.multiply(kept, scale, out=kept)


def reset_from_one(state: Complex, qubit: int, scale: float) -> None:
    """Move the ``|1⟩`` half of ``qubit`` to ``|0⟩`` (scaled) and zero the ``|1⟩`` half."""
    view = state.reshape(-1, 2, 1 << qubit)
    np.multiply(view[:, 1, :], scale, out=view[:, 0, :])
    view[:, 1, :] = 0
