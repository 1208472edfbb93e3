"""Extrapolating expectation values measured at several noise scales to zero noise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qdframe_mitigation.errors import MitigationError

__all__ = ["EXTRAPOLATION_METHODS", "extrapolate", "richardson_weights"]

#: The extrapolation methods :func:`extrapolate` accepts.
EXTRAPOLATION_METHODS = ("linear", "richardson")


def _check(scales: Sequence[float], values: Sequence[float]) -> None:
    if len(scales) != len(values):
        raise MitigationError(f"{len(scales)} scales but {len(values)} values")
    if len(scales) < 2:
        raise MitigationError(f"extrapolation needs at least 2 noise scales, got {len(scales)}")
    if len(set(scales)) != len(scales):
        raise MitigationError(f"noise scales must be distinct, got {list(scales)}")


def richardson_weights(scales: Sequence[float]) -> list[float]:
    """Weights ``w_i`` with ``E(0) = Σ w_i E(λ_i)`` for the polynomial through all points.

    ``w_i = Π_{j≠i} λ_j / (λ_j - λ_i)`` (Lagrange interpolation evaluated at 0);
    they sum to 1.
    """
    _check(scales, scales)
    weights = []
    for i, li in enumerate(scales):
        w = 1.0
        for j, lj in enumerate(scales):
            if j != i:
                w *= lj / (lj - li)
        weights.append(w)
    return weights


def extrapolate(scales: Sequence[float], values: Sequence[float], method: str) -> float:
    """The zero-noise value of ``values`` measured at noise ``scales``.

    ``"linear"`` fits a least-squares line; ``"richardson"`` takes the
    polynomial of degree ``len(scales) - 1`` through every point.

    :raises MitigationError: unknown method, fewer than 2 points, repeated scales.
    """
    _check(scales, values)
    if method == "linear":
        _slope, intercept = np.polyfit(np.asarray(scales, float), np.asarray(values, float), 1)
        return float(intercept)
    if method == "richardson":
        weights = richardson_weights(scales)
        return float(sum(w * v for w, v in zip(weights, values, strict=True)))
    raise MitigationError(
        f"unknown extrapolation method {method!r}; allowed: {', '.join(EXTRAPOLATION_METHODS)}"
    )
