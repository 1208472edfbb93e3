"""Pearson's chi-square goodness-of-fit test, without scipy.

The p-value is the upper tail of the chi-square distribution,
``Q(dof / 2, statistic / 2)``, where ``Q`` is the regularised upper
incomplete gamma function. ``Q`` is computed with its power series when
``x < a + 1`` and with its continued fraction (modified Lentz) otherwise; both
converge quickly in their region and agree with scipy to about 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ChiSquareResult", "chi_square_pvalue", "chi_square_test", "regularized_gamma_q"]

_EPS = 1e-15
_TINY = 1e-300
_MAX_TERMS = 10_000


def _lower_series(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x) by its power series."""
    term = 1.0 / a
    total = term
    denominator = a
    for _ in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_fraction(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) by its continued fraction."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    fraction = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        fraction *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * fraction


def regularized_gamma_q(a: float, x: float) -> float:
    """``Q(a, x) = Γ(a, x) / Γ(a)`` for ``a > 0`` and ``x >= 0``.

    :raises ValueError: ``a <= 0`` or ``x < 0``.
    """
    if a <= 0 or x < 0:
        raise ValueError(f"need a > 0 and x >= 0, got a={a}, x={x}")
    if x == 0:
        return 1.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _lower_series(a, x))
    return min(1.0, _upper_fraction(a, x))


def chi_square_pvalue(statistic: float, dof: int) -> float:
    """Probability that a chi-square variable with ``dof`` degrees of freedom
    is at least ``statistic``."""
    if dof < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {dof}")
    return regularized_gamma_q(dof / 2.0, max(0.0, statistic) / 2.0)


@dataclass(frozen=True)
class ChiSquareResult:
    """Outcome of :func:`chi_square_test`."""

    statistic: float
    dof: int
    pvalue: float


def chi_square_test(
    counts: Mapping[str, int],
    probabilities: Mapping[str, float],
    *,
    min_expected: float = 5.0,
) -> ChiSquareResult:
    """Test observed ``counts`` against expected ``probabilities``.

    Outcomes expected fewer than ``min_expected`` times are pooled into one
    bin (the usual validity condition of the test). An observed outcome with
    zero expected probability makes the p-value 0.

    :param counts: outcome → observed count.
    :param probabilities: outcome → expected probability (need not list
        outcomes of probability 0).
    """
    shots = sum(counts.values())
    if shots <= 0:
        raise ValueError("counts are empty")
    if any(probabilities.get(key, 0.0) <= 0.0 and n > 0 for key, n in counts.items()):
        return ChiSquareResult(math.inf, 1, 0.0)
    keys = sorted(set(probabilities) | set(counts))
    bins: list[tuple[float, int]] = []
    pooled_expected = 0.0
    pooled_observed = 0
    for key in keys:
        expected = shots * probabilities.get(key, 0.0)
        observed = counts.get(key, 0)
        if expected < min_expected:
            pooled_expected += expected
            pooled_observed += observed
        else:
            bins.append((expected, observed))
    if pooled_expected > 0:
        bins.append((pooled_expected, pooled_observed))
    if len(bins) < 2:
        return ChiSquareResult(0.0, 1, 1.0)
    statistic = sum((o - e) ** 2 / e for e, o in bins)
    dof = len(bins) - 1
    return ChiSquareResult(statistic, dof, chi_square_pvalue(statistic, dof))
