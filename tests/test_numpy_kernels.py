"""State kernels of the numpy backend against dense linear algebra."""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np
import pytest
from qdframe_numpy.kernels import (
    apply_diagonal,
    apply_matrix,
    prepare_dense,
    prepare_diagonal,
    project,
    qubit_probabilities,
    reduced_density,
    reset_from_one,
)
from qdframe_numpy.matrices import embed_matrix, to_engine_order
from qdframe_numpy.parallel import Runner
from qdframe_numpy.sampling import sample_indices

from qdframe.testing import chi_square_test

N = 9


def _random_state(rng: np.random.Generator, n: int = N) -> np.ndarray[Any, Any]:
    state = rng.normal(size=1 << n) + 1j * rng.normal(size=1 << n)
    return np.asarray(state / np.linalg.norm(state))


def _random_unitary(rng: np.random.Generator, k: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(1 << k, 1 << k)) + 1j * rng.normal(size=(1 << k, 1 << k)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _full(matrix: np.ndarray, qubits: tuple[int, ...], n: int = N) -> np.ndarray:
    """The 2**n matrix of ``matrix`` (engine order over ``qubits``) in index order."""
    return embed_matrix(matrix, qubits, tuple(range(n - 1, -1, -1)))


@pytest.mark.parametrize(
    ("qubits", "kind"),
    [
        ((2, 1, 0), "bottom"),
        ((8,), "window"),
        ((8, 7), "gather"),
        ((6, 5, 4), "gather"),
        ((8, 4, 0), "gather"),
        ((5,), "gather"),
        ((7, 3, 2, 1), "gather"),
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_dense_kernels_match_the_full_matrix(
    qubits: tuple[int, ...], kind: str, threads: int
) -> None:
    rng = np.random.default_rng(len(qubits) * 10 + qubits[0])
    state = _random_state(rng)
    matrix = _random_unitary(rng, len(qubits))
    chunk = 1 << 6  # several chunks per state
    plan = prepare_dense(N, qubits, chunk)
    assert plan.kind == kind
    expected = _full(matrix, qubits) @ state
    with Runner(np.complex128, chunk, threads) as runner:
        apply_matrix(state, matrix, plan, runner)
    assert np.max(np.abs(state - expected)) < 1e-12


@pytest.mark.parametrize("qubits", [(8, 0), (3,), (8, 7, 6), (1, 0), (5, 2)])
def test_diagonal_kernel_matches_the_full_matrix(qubits: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(qubits))
    state = _random_state(rng)
    phases = np.exp(1j * rng.uniform(0, 2 * np.pi, size=1 << len(qubits)))
    expected = _full(np.diag(phases), qubits) @ state
    plan = prepare_diagonal(N, qubits, phases)
    # Tables on low qubits are widened so the innermost loop is contiguous.
    assert min(plan.qubits) == 0 or min(qubits) >= 6
    with Runner(np.complex128, 1 << 5, 2) as runner:
        apply_diagonal(state, plan, runner)
    assert np.max(np.abs(state - expected)) < 1e-12


def test_engine_order_converts_qiskit_matrices() -> None:
    # CX with control 0 and target 2, as Qiskit writes it (little-endian over qargs).
    cx = np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=complex)
    qubits, matrix = to_engine_order(cx, [0, 2])
    assert qubits == (2, 0)
    state = np.zeros(8, dtype=complex)
    state[0b001] = 1  # control set
    out = _full(matrix, qubits, 3) @ state
    assert out[0b101] == 1


def test_qubit_probabilities_and_reduced_density() -> None:
    rng = np.random.default_rng(3)
    state = _random_state(rng)
    with Runner(np.complex128, 1 << 4) as runner:
        for qubit in range(N):
            p0, p1 = qubit_probabilities(state, qubit, runner.work)
            bits = (np.arange(1 << N) >> qubit) & 1
            assert p1 == pytest.approx(float(np.sum(np.abs(state[bits == 1]) ** 2)), abs=1e-12)
            assert p0 + p1 == pytest.approx(1.0, abs=1e-12)
            rho = reduced_density(state, qubit, runner.work)
            coherence = np.vdot(state[bits == 0], state[bits == 1])
            assert rho[0, 1] == pytest.approx(coherence, abs=1e-12)
            assert rho[1, 0] == pytest.approx(np.conj(coherence), abs=1e-12)


def test_project_and_reset_from_one() -> None:
    rng = np.random.default_rng(4)
    state = _random_state(rng)
    bits = (np.arange(1 << N) >> 3) & 1
    original = state.copy()
    project(state, 3, 1, 2.0)
    assert np.all(state[bits == 0] == 0)
    assert np.allclose(state[bits == 1], 2.0 * original[bits == 1])
    state = original.copy()
    reset_from_one(state, 3, 0.5)
    assert np.all(state[bits == 1] == 0)
    assert np.allclose(state[bits == 0], 0.5 * original[bits == 1])


def test_sampling_follows_the_born_rule_and_never_picks_impossible_outcomes() -> None:
    rng = np.random.default_rng(5)
    weights = rng.uniform(size=64) * (rng.uniform(size=64) > 0.5)
    state = np.sqrt(weights / weights.sum()).astype(complex) * np.exp(1j * rng.uniform(size=64))
    picks = sample_indices(state, 20000, np.random.default_rng(6), chunk=8)
    assert set(np.unique(picks)) <= set(np.flatnonzero(weights))
    counts = {str(i): int(n) for i, n in enumerate(np.bincount(picks, minlength=64)) if n}
    expected = {str(i): float(p) for i, p in enumerate(np.abs(state) ** 2) if p > 0}
    assert chi_square_test(counts, expected).pvalue > 1e-3


def test_sampling_is_reproducible_and_chunk_independent() -> None:
    state = _random_state(np.random.default_rng(7), 7)
    a = sample_indices(state, 500, np.random.default_rng(1), chunk=16)
    b = sample_indices(state, 500, np.random.default_rng(1), chunk=128)
    assert np.array_equal(a, b)


def test_runner_uses_every_thread_and_covers_every_piece() -> None:
    seen: list[int] = []
    with Runner(np.complex128, 16, threads=3) as runner:
        runner.run(50, lambda i, work: seen.append(i))
        assert len(runner.workspaces) == 3
    assert sorted(seen) == list(range(50))


def test_full_matrix_helper_is_consistent() -> None:
    # Guards the reference used above: X on qubit 0 flips the lowest index bit.
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    full = _full(x, (0,), 2)
    assert np.array_equal(full, reduce(np.kron, [np.eye(2), x]))
