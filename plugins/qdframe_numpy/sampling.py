"""Draw measurement outcomes from a statevector without copying it.

Sampling works in two levels so that no array as large as the state is
allocated: the probability mass of each chunk of amplitudes is summed first,
shots are assigned to chunks, and only chunks that received shots are expanded
into cumulative probabilities.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qdframe_numpy.program import Complex

__all__ = ["sample_indices"]


def _probabilities(block: Complex) -> npt.NDArray[np.float64]:
    real = block.real.astype(np.float64, copy=False)
    imag = block.imag.astype(np.float64, copy=False)
    return np.asarray(real * real + imag * imag, dtype=np.float64)


def sample_indices(
    state: Complex, shots: int, rng: np.random.Generator, chunk: int
) -> npt.NDArray[np.int64]:
    """``shots`` basis-state indices drawn with probabilities ``|state|**2``.

    :param state: the (normalised or not) statevector.
    :param shots: how many indices to draw.
    :param rng: source of randomness; one uniform number is drawn per shot, in
        shot order, so results are reproducible for a seed.
    :param chunk: amplitudes per chunk (bounds the temporary arrays).
    :returns: indices in shot order.
    """
    result = np.empty(shots, dtype=np.int64)
    if shots == 0:
        return result
    size = state.size
    step = min(size, max(1, chunk))
    starts = np.arange(0, size, step)
    masses = np.array(
        [float(np.vdot(state[s : s + step], state[s : s + step]).real) for s in starts]
    )
    bounds = np.cumsum(masses)
    draws = rng.random(shots) * bounds[-1]
    order = np.argsort(draws, kind="stable")
    sorted_draws = draws[order]
    owners = np.minimum(np.searchsorted(bounds, sorted_draws, side="right"), len(starts) - 1)
    # Shots that landed past the last chunk with mass (rounding) go to it.
    heavy = np.flatnonzero(masses > 0)
    owners = np.where(masses[owners] > 0, owners, heavy[np.searchsorted(heavy, owners) - 1])
    boundaries = np.flatnonzero(np.diff(owners)) + 1
    for group in np.split(np.arange(shots), boundaries):
        owner = int(owners[group[0]])
        start = int(starts[owner])
        local = _probabilities(state[start : start + step])
        cumulative = np.cumsum(local)
        offset = bounds[owner] - masses[owner]
        targets = (sorted_draws[group] - offset) * (cumulative[-1] / masses[owner])
        picks = np.searchsorted(cumulative, targets, side="right")
        nonzero = np.flatnonzero(local)
        picks = np.clip(picks, nonzero[0], nonzero[-1])
        # A pick on a zero-probability entry (rounding at an edge) moves to
        # the nearest entry below with probability.
        bad = local[picks] == 0
        if np.any(bad):
            below = np.searchsorted(nonzero, picks[bad], side="right") - 1
            picks[bad] = nonzero[np.maximum(below, 0)]
        result[order[group]] = start + picks
    return result
