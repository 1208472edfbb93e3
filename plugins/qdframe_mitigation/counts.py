"""Counts as probabilities, and which qubit each classical bit measured."""

from __future__ import annotations

from collections.abc import Mapping

from qiskit import QuantumCircuit

from qdframe_mitigation.errors import MitigationError

__all__ = ["clbit_qubits", "normalise_counts"]


def normalise_counts(counts: Mapping[str, float]) -> dict[str, float]:
    """Counts (or weights) → probabilities, with register separators removed.

    :raises MitigationError: the counts are empty, negative, sum to zero, or
        their bitstrings differ in length or hold characters other than 0/1.
    """
    merged: dict[str, float] = {}
    width: int | None = None
    for key, value in counts.items():
        bits = key.replace(" ", "")
        if width is None:
            width = len(bits)
        if len(bits) != width or (bits and set(bits) - {"0", "1"}):
            raise MitigationError(
                f"bitstring {key!r} does not match the others: every key must be "
                f"{width} characters of 0 and 1"
            )
        if value < 0:
            raise MitigationError(f"bitstring {key!r} has a negative count {value}")
        merged[bits] = merged.get(bits, 0.0) + float(value)
    total = sum(merged.values())
    if total <= 0:
        raise MitigationError("the counts are empty; there is nothing to mitigate")
    return {bits: value / total for bits, value in merged.items()}


def clbit_qubits(circuit: QuantumCircuit) -> list[int]:
    """The qubit measured into each classical bit (clbit 0 first), from the last
    measurement into it.

    :raises MitigationError: a classical bit is never written by a measurement.
    """
    owner: dict[int, int] = {}
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            qubit = circuit.find_bit(instruction.qubits[0]).index
            clbit = circuit.find_bit(instruction.clbits[0]).index
            owner[clbit] = qubit
    missing = [c for c in range(circuit.num_clbits) if c not in owner]
    if missing:
        raise MitigationError(
            f"classical bit(s) {missing} of circuit {circuit.name!r} are never measured "
            "into, so their readout cannot be mitigated"
        )
    return [owner[c] for c in range(circuit.num_clbits)]
