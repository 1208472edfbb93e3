"""Counts over a circuit's classical bits → one packed bit array per register.

A run returns counts; a ``BitArray`` holds one row per shot. The shots of
one parameter set are independent and identically distributed, so given the
counts every order of them is equally likely: the rows are the counted
outcomes in a uniformly random order, which is exactly the distribution of
independently drawn shots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["RegisterBits", "counts_to_rows", "pack_register", "register_bits"]


@dataclass(frozen=True)
class RegisterBits:
    """A classical register: its name and the circuit clbit index of each of its bits."""

    name: str
    clbits: tuple[int, ...]

    @property
    def num_bytes(self) -> int:
        return -(-len(self.clbits) // 8)


def register_bits(circuit: object) -> list[RegisterBits]:
    """The registers of ``circuit`` (a ``QuantumCircuit``), in declaration order."""
    from qiskit import QuantumCircuit

    assert isinstance(circuit, QuantumCircuit)
    return [
        RegisterBits(creg.name, tuple(circuit.find_bit(bit).index for bit in creg))
        for creg in circuit.cregs
    ]


def counts_to_rows(
    counts: Mapping[str, int], num_clbits: int, shots: int, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """``(shots, num_clbits)`` 0/1 table, column ``c`` = clbit ``c``, rows shuffled.

    :raises ValueError: the counts do not add up to ``shots`` or a key has
        the wrong width.
    """
    total = sum(counts.values())
    if total != shots:
        raise ValueError(f"counts hold {total} shots, expected {shots}")
    rows = np.zeros((shots, num_clbits), dtype=np.uint8)
    if num_clbits == 0 or shots == 0:
        return rows
    keys = list(counts)
    if any(len(key) != num_clbits for key in keys):
        raise ValueError(f"count keys must have {num_clbits} bits, got {keys[:3]}")
    # Key characters run from clbit num_clbits - 1 (left) down to clbit 0.
    table = np.array([[ch == "1" for ch in reversed(key)] for key in keys], dtype=np.uint8)
    repeats = np.array([counts[key] for key in keys], dtype=np.int64)
    order = np.repeat(np.arange(len(keys)), repeats)
    rng.shuffle(order)
    rows[:] = table[order]
    return rows


def pack_register(rows: npt.NDArray[np.uint8], register: RegisterBits) -> npt.NDArray[np.uint8]:
    """``(shots, num_bytes)`` big-endian bytes, register bit 0 least significant (as BitArray)."""
    if not register.clbits:
        return np.zeros((rows.shape[0], 0), dtype=np.uint8)
    bits = rows[:, list(register.clbits)][:, ::-1]
    pad = -len(register.clbits) % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (pad, 0)))
    packed: npt.NDArray[np.uint8] = np.packbits(bits, axis=-1)
    return packed
