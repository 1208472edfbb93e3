"""Seeds of one primitive call: reproducible for an integer seed, fresh otherwise.

An integer seed gives the same results on every call, as Qiskit's reference
primitives do; a ``numpy`` generator is drawn from once per call; ``None``
takes fresh entropy. Every PUB, parameter set and shot batch then derives its
own seed from the call's entropy and its position alone.
"""

from __future__ import annotations

import secrets

import numpy as np

__all__ = ["SeedLike", "call_entropy", "derived_seed", "validate_seed"]

SeedLike = int | np.random.Generator | None


def validate_seed(seed: object) -> SeedLike:
    """``seed`` if it is an int >= 0, a ``numpy.random.Generator`` or ``None``.

    :raises TypeError: another type.
    :raises ValueError: a negative integer.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"seed must be an int >= 0, a numpy.random.Generator or None, got {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


def call_entropy(seed: SeedLike) -> int:
    """The entropy of one call."""
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    return seed


def derived_seed(entropy: int, *key: int) -> int:
    """A 31-bit seed for position ``key`` (e.g. PUB, role, parameter set)."""
    state = np.random.SeedSequence(entropy, spawn_key=key).generate_state(1, np.uint32)
    return int(state[0]) >> 1
