"""Unitary gate folding: the same circuit with its noise scaled up.

Folding replaces a unitary ``G`` by ``G (G† G)^k``, which is the same
operation but runs ``2k + 1`` times as many noisy gates. Global folding folds
the whole circuit ``U``; local folding folds each gate on its own. Scale
factors need not be odd integers: after ``k = floor((λ - 1) / 2)`` full folds,
``s = round(n (λ - 1) / 2 - n k)`` of the ``n`` gates get one more fold (the
last ``s`` gates for global folding, ``s`` gates spread evenly for local), so
the achieved scale is ``1 + 2k + 2s / n``, returned with the circuit.

Folded circuits must run as they are: a transpiler pass that cancels ``G†G``
would undo the folding. Barriers are kept and never folded.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction, Gate

from qdframe_mitigation.errors import MitigationError

__all__ = ["FOLDING_METHODS", "fold", "fold_global", "fold_local"]

#: The folding methods :func:`fold` accepts.
FOLDING_METHODS = ("global", "local")


def _gates(circuit: QuantumCircuit) -> list[CircuitInstruction]:
    """The circuit's gates (barriers skipped).

    :raises MitigationError: the circuit holds a non-unitary instruction.
    """
    gates = []
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == "barrier":
            continue
        if not isinstance(operation, Gate):
            raise MitigationError(
                f"cannot fold circuit {circuit.name!r}: {operation.name!r} is not a unitary "
                "gate; remove measurements, resets and classical control first"
            )
        gates.append(instruction)
    return gates


def _fold_counts(scale: float, num_gates: int) -> tuple[int, int]:
    """``(k, s)``: full folds, and gates that get one extra fold."""
    if not math.isfinite(scale) or scale < 1.0:
        raise MitigationError(f"a noise scale factor must be a finite number >= 1, got {scale}")
    k = int((scale - 1.0) // 2)
    s = round(num_gates * ((scale - 1.0) / 2 - k))
    if s == num_gates:  # rounding reached a full extra fold
        k, s = k + 1, 0
    return k, s


def _inverse(instruction: CircuitInstruction) -> CircuitInstruction:
    return instruction.replace(operation=instruction.operation.inverse())


def _achieved(num_gates: int, folded: QuantumCircuit) -> float:
    return len(_gates(folded)) / num_gates if num_gates else 1.0


def fold_global(circuit: QuantumCircuit, scale: float) -> tuple[QuantumCircuit, float]:
    """``U (U† U)^k`` followed by a partial fold of the last gates.

    :returns: the folded circuit and the scale it achieves.
    :raises MitigationError: ``scale < 1`` or the circuit is not unitary.
    """
    gates = _gates(circuit)
    k, s = _fold_counts(scale, len(gates))
    folded = circuit.copy()
    for _ in range(k):
        for instruction in reversed(gates):
            folded.append(_inverse(instruction))
        for instruction in gates:
            folded.append(instruction)
    if s:
        tail = gates[-s:]
        for instruction in reversed(tail):
            folded.append(_inverse(instruction))
        for instruction in tail:
            folded.append(instruction)
    return folded, _achieved(len(gates), folded)


def _spread(count: int, total: int) -> set[int]:
    """``count`` distinct indices in ``range(total)``, evenly spaced."""
    if count <= 0:
        return set()
    return {int(i) for i in np.round(np.linspace(0, total - 1, count))}


def fold_local(circuit: QuantumCircuit, scale: float) -> tuple[QuantumCircuit, float]:
    """Each gate ``G`` becomes ``G (G† G)^k``; ``s`` evenly spread gates fold once more.

    :returns: the folded circuit and the scale it achieves.
    :raises MitigationError: ``scale < 1`` or the circuit is not unitary.
    """
    gates = _gates(circuit)
    k, s = _fold_counts(scale, len(gates))
    extra = _spread(s, len(gates))
    folded = circuit.copy_empty_like()
    position = 0
    for instruction in circuit.data:
        folded.append(instruction)
        if instruction.operation.name == "barrier":
            continue
        inverse = _inverse(instruction)
        for _ in range(k + (1 if position in extra else 0)):
            folded.append(inverse)
            folded.append(instruction)
        position += 1
    return folded, _achieved(len(gates), folded)


def fold(
    circuit: QuantumCircuit, scale: float, method: str = "global"
) -> tuple[QuantumCircuit, float]:
    """Fold ``circuit`` to noise scale ``scale`` with ``method`` (``"global"`` or ``"local"``).

    :raises MitigationError: unknown method, ``scale < 1`` or a non-unitary circuit.
    """
    if method == "global":
        return fold_global(circuit, scale)
    if method == "local":
        return fold_local(circuit, scale)
    raise MitigationError(
        f"unknown folding method {method!r}; allowed: {', '.join(FOLDING_METHODS)}"
    )
