"""Channel sampling for compression: counting keys gives what sorting them gives."""

from __future__ import annotations

import numpy as np
import pytest

from qdframe.schedule.messages import _sample_channels


def _by_sorting(sources: np.ndarray, targets: np.ndarray, limit: int, nodes: int) -> np.ndarray:
    sent = np.flatnonzero(sources != targets)
    if len(sent) <= limit:
        return sent
    key = sources[sent] * (nodes + 1) + targets[sent]
    channels, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    order = np.random.default_rng(1).permutation(len(channels))
    keep = order[: int(np.searchsorted(np.cumsum(counts[order]), limit)) + 1]
    mask = np.zeros(len(channels), dtype=bool)
    mask[keep] = True
    return sent[mask[inverse]]


@pytest.mark.parametrize(("nodes", "count"), [(16, 50_000), (40, 300_000), (1024, 60_000)])
def test_sampled_channels_are_the_same_either_way(nodes: int, count: int) -> None:
    rng = np.random.default_rng(nodes)
    sources = rng.integers(0, nodes, count)
    targets = rng.integers(0, nodes, count)
    got = _sample_channels(sources, targets, sources != targets, 2_000, nodes)
    want = _by_sorting(sources, targets, 2_000, nodes)
    assert np.array_equal(got, want)
    # Whole channels: every message of a picked channel is in.
    picked = set(zip(sources[got].tolist(), targets[got].tolist(), strict=True))
    sent = np.flatnonzero(sources != targets)
    whole = [m for m in sent.tolist() if (int(sources[m]), int(targets[m])) in picked]
    assert len(whole) == len(got) >= 2_000
