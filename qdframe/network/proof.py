"""Proof of work for registering an installation (hashcash style).

A server may ask each new installation to find a nonce such that
``sha256(challenge + ":" + nonce)`` starts with ``bits`` zero bits. Checking
costs one hash; finding costs about ``2**bits`` hashes, so creating many
installations costs real CPU time while one registration stays cheap.
Both sides live here, with the standard library only.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Final

__all__ = ["MAX_BITS", "leading_zero_bits", "satisfies", "solve"]

#: Hardest puzzle a client will attempt (about 16 million hashes, a few seconds).
MAX_BITS: Final = 24


def leading_zero_bits(digest: bytes) -> int:
    """Number of leading zero bits of ``digest``."""
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def _digest(challenge: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def satisfies(challenge: str, nonce: str, bits: int) -> bool:
    """Whether ``nonce`` solves ``challenge`` at difficulty ``bits``."""
    return bits <= 0 or leading_zero_bits(_digest(challenge, nonce)) >= bits


def solve(challenge: str, bits: int, *, max_bits: int = MAX_BITS) -> str:
    """The first decimal nonce that solves ``challenge``.

    :raises ValueError: ``bits`` exceeds ``max_bits`` (a server asking for more
        would keep the client busy for minutes or hours).
    """
    if bits > max_bits:
        raise ValueError(
            f"the server asks for a {bits}-bit proof of work; this client solves at most "
            f"{max_bits} bits"
        )
    for candidate in itertools.count():
        nonce = str(candidate)
        if satisfies(challenge, nonce, bits):
            return nonce
    raise AssertionError("unreachable")  # pragma: no cover
