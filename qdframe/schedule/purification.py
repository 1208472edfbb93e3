"""DEJMPS entanglement purification of the raw pairs of a link.

A raw pair of fidelity ``F`` is taken as a Werner state: Bell-diagonal with
coefficients ``(A, B, C, D) = (F, (1-F)/3, (1-F)/3, (1-F)/3)``. One DEJMPS
round (Deutsch et al., 1996) takes two pairs, applies local rotations and
bilateral CNOTs, measures the target pair and keeps the source pair when the
two outcomes agree. With ``N = (A + B)**2 + (C + D)**2`` the success
probability::

    A' = (A**2 + B**2) / N      B' = 2 C D / N
    C' = (C**2 + D**2) / N      D' = 2 A B / N

``r`` rounds of the recurrence protocol consume on average
``E_r = prod_k 2 / N_k`` raw pairs per purified pair. Each round also costs
one two-qubit gate and one measurement on both ends and one classical
exchange (the link's latency) to compare the outcomes. The rounds run in the
link's own memories, before the pair is handed to communication qubits.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PurifiedPair", "dejmps_round", "purify"]


def dejmps_round(
    coefficients: tuple[float, float, float, float],
) -> tuple[tuple[float, float, float, float], float]:
    """One DEJMPS round: the new Bell coefficients and the success probability."""
    a, b, c, d = coefficients
    success = (a + b) ** 2 + (c + d) ** 2
    updated = ((a * a + b * b) / success, 2 * c * d / success, (c * c + d * d) / success,
               2 * a * b / success)  # fmt: skip
    return updated, success


@dataclass(frozen=True)
class PurifiedPair:
    """A link's pair after ``rounds`` rounds.

    ``raw_pairs`` is the expected number of raw pairs consumed per purified
    pair; ``fidelity`` the purified pair's fidelity.
    """

    rounds: int
    fidelity: float
    raw_pairs: float


def purify(fidelity: float, rounds: int) -> PurifiedPair:
    """Apply ``rounds`` DEJMPS rounds to Werner pairs of ``fidelity``."""
    other = (1.0 - fidelity) / 3.0
    state = (fidelity, other, other, other)
    raw = 1.0
    for _ in range(rounds):
        state, success = dejmps_round(state)
        raw = 2.0 * raw / success
    return PurifiedPair(rounds, state[0], raw)
