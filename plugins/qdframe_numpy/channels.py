"""Noise channels of a :class:`qdframe.noise.NoiseModel` as engine instructions.

Channels whose outcome probabilities do not depend on the state (depolarizing
as a uniform Pauli mixture, phase damping as a Z mixture) become
:class:`~qdframe_numpy.program.UnitaryMixture`; amplitude damping, whose
probabilities do, becomes a :class:`~qdframe_numpy.program.KrausChannel`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import reduce

import numpy as np

from qdframe.plugin import (
    AmplitudeDampingError,
    DepolarizingError,
    InvalidCircuitError,
    PhaseDampingError,
)
from qdframe_numpy.program import Complex, KrausChannel, UnitaryMixture

__all__ = ["MAX_DEPOLARIZING_QUBITS", "channel_instructions"]

#: Widest depolarizing channel: it mixes ``4**k`` Pauli operators.
MAX_DEPOLARIZING_QUBITS = 3

_PAULIS: tuple[Complex, ...] = (
    np.eye(2, dtype=np.complex128),
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
)


def _depolarizing(probability: float, qubits: tuple[int, ...], backend: str) -> UnitaryMixture:
    k = len(qubits)
    if k > MAX_DEPOLARIZING_QUBITS:
        raise InvalidCircuitError(
            f"backend {backend!r}: depolarizing noise on a {k}-qubit instruction is not "
            f"supported (at most {MAX_DEPOLARIZING_QUBITS} qubits)"
        )
    terms = 4**k
    unitaries: list[Complex | None] = []
    for labels in itertools.product(range(4), repeat=k):
        if not any(labels):
            unitaries.append(None)
        else:
            # ``qubits`` is descending, so the Kronecker product is in engine order.
            unitaries.append(reduce(np.kron, (_PAULIS[label] for label in labels)))
    probabilities = [probability / terms] * terms
    probabilities[0] = 1.0 - probability + probability / terms
    return UnitaryMixture(qubits, tuple(unitaries), tuple(probabilities))


def _phase_damping(gamma: float, qubit: int) -> UnitaryMixture:
    # Scaling coherences by sqrt(1 - gamma) equals applying Z with probability
    # (1 - sqrt(1 - gamma)) / 2.
    flip = (1.0 - math.sqrt(1.0 - gamma)) / 2.0
    return UnitaryMixture((qubit,), (None, _PAULIS[3]), (1.0 - flip, flip))


def _amplitude_damping(gamma: float, qubit: int) -> KrausChannel:
    keep = np.array([[1, 0], [0, math.sqrt(1.0 - gamma)]], dtype=np.complex128)
    decay = np.array([[0, math.sqrt(gamma)], [0, 0]], dtype=np.complex128)
    return KrausChannel(qubit, (keep, decay))


def channel_instructions(
    errors: Sequence[DepolarizingError | AmplitudeDampingError | PhaseDampingError],
    qubits: Sequence[int],
    backend: str,
) -> list[UnitaryMixture | KrausChannel]:
    """Instructions for ``errors`` acting on ``qubits`` (the instruction's qubits)."""
    placed = tuple(sorted(qubits, reverse=True))
    out: list[UnitaryMixture | KrausChannel] = []
    for error in errors:
        if isinstance(error, DepolarizingError):
            if error.probability > 0 and placed:
                out.append(_depolarizing(error.probability, placed, backend))
        elif isinstance(error, PhaseDampingError):
            if error.gamma > 0:
                out.extend(_phase_damping(error.gamma, q) for q in placed)
        elif error.gamma > 0:
            out.extend(_amplitude_damping(error.gamma, q) for q in placed)
    return out
