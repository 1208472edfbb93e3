"""Euclidean projection onto the probability simplex."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["project_to_simplex"]


def project_to_simplex(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The probability vector nearest to ``values`` in Euclidean distance.

    Solves ``min ||p - values||`` subject to ``p >= 0`` and ``sum(p) == 1`` by
    the sort-and-threshold method: the answer is ``max(values - theta, 0)`` for
    the one ``theta`` that makes it sum to 1. A vector that is already a
    probability distribution is returned unchanged. O(n log n).

    :raises ValueError: ``values`` is empty, not one-dimensional or not finite.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"expected a non-empty 1-d vector, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("cannot project a vector with NaN or infinite entries")
    ordered = np.sort(v)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    ranks = np.arange(1, v.size + 1)
    # The support is the largest prefix of the sorted values that stays
    # positive after subtracting its own threshold.
    positive = ordered - cumulative / ranks > 0
    last = int(np.nonzero(positive)[0][-1])
    theta = cumulative[last] / (last + 1)
    projected: npt.NDArray[np.float64] = np.maximum(v - theta, 0.0)
    return projected
