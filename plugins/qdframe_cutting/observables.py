"""Observables in, Pauli strings out, and back.

Users give observables as :class:`~qiskit.quantum_info.SparsePauliOp`,
:class:`~qiskit.quantum_info.Pauli`, Pauli strings (``"ZZI"``, Qiskit order:
qubit 0 rightmost) or lists of these. Circuit cutting estimates Pauli
strings without phases; :func:`pauli_terms` collects the distinct strings of
all observables and :func:`combine` turns their estimates back into one
value per observable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qdframe.plugin import ConfigError

__all__ = ["as_observables", "combine", "pauli_terms"]


def as_observables(observables: Any, num_qubits: int) -> list[Any]:
    """The observables as a list of ``SparsePauliOp`` on ``num_qubits`` qubits.

    :raises ConfigError: an observable of the wrong width or not Hermitian,
        or something that is not an observable.
    """
    from qiskit.quantum_info import Pauli, PauliList, SparsePauliOp

    if isinstance(observables, str | Pauli | SparsePauliOp):
        items: list[Any] = [observables]
    elif isinstance(observables, PauliList | Sequence):
        items = list(observables)
    else:
        raise ConfigError(
            f"observables must be a SparsePauliOp, a Pauli string or a list of them, "
            f"got {type(observables).__name__}"
        )
    if not items:
        raise ConfigError("at least one observable is needed")
    result = []
    for item in items:
        try:
            op = item if isinstance(item, SparsePauliOp) else SparsePauliOp(item)
        except Exception as exc:
            raise ConfigError(f"not an observable: {item!r} ({exc})") from None
        if op.num_qubits != num_qubits:
            raise ConfigError(
                f"observable {item!s} acts on {op.num_qubits} qubits, the circuit has {num_qubits}"
            )
        if not np.allclose(op.coeffs.imag, 0.0, atol=1e-12):
            raise ConfigError(f"observable {item!s} has complex coefficients (not Hermitian)")
        result.append(op.simplify())
    return result


def pauli_terms(observables: Sequence[Any]) -> Any:
    """The distinct phase-free Pauli strings of ``observables``, as a ``PauliList``."""
    from qiskit.quantum_info import PauliList

    labels: list[str] = []
    for op in observables:
        for label in op.paulis.to_labels():
            bare = label.lstrip("-i")
            if bare not in labels:
                labels.append(bare)
    return PauliList(labels)


def combine(observables: Sequence[Any], terms: Any, values: Sequence[float]) -> list[float]:
    """Expectation of each observable from the estimates of its Pauli strings."""
    index = {label: i for i, label in enumerate(terms.to_labels())}
    out = []
    for op in observables:
        total = 0.0
        for label, coeff in zip(op.paulis.to_labels(), op.coeffs, strict=True):
            sign = -1.0 if label.startswith("-") else 1.0
            phase = 1j if "i" in label[:2] else 1.0
            total += float(np.real(coeff * sign * phase)) * values[index[label.lstrip("-i")]]
        out.append(total)
    return out
