"""Observables as sums of Pauli strings, measured from counts.

An observable is a real combination of Pauli strings in Qiskit's label order
(the rightmost character acts on qubit 0). It may be given as a label
(``"ZZI"``), a ``{label: coefficient}`` mapping, a Qiskit ``Pauli`` or a
``SparsePauliOp``. Terms are measured in groups that agree qubit by qubit
(qubit-wise commuting), one circuit per group: the circuit's unitary part,
then a basis change per qubit (``X``: H; ``Y``: S† then H), then a measurement
of every qubit into the clbit of the same index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from qiskit import QuantumCircuit
from qiskit.quantum_info import Pauli, SparsePauliOp

from qdframe_mitigation.errors import MitigationError

__all__ = [
    "MeasurementGroup",
    "Observable",
    "expectation_from_probabilities",
    "group_terms",
    "measurement_circuit",
    "pauli_terms",
    "unitary_part",
]

#: What an observable may be given as.
Observable: TypeAlias = str | Mapping[str, float] | Pauli | SparsePauliOp

_PAULI = frozenset("IXYZ")


def pauli_terms(observable: Observable, num_qubits: int) -> list[tuple[str, float]]:
    """``[(label, coefficient), ...]`` of ``observable`` on ``num_qubits`` qubits.

    :raises MitigationError: an unknown type, a label of the wrong length or
        with letters other than I, X, Y, Z, or a complex coefficient.
    """
    raw: list[tuple[str, complex]]
    if isinstance(observable, str):
        raw = [(observable, 1.0)]
    elif isinstance(observable, Mapping):
        raw = [(str(label), complex(c)) for label, c in observable.items()]
    elif isinstance(observable, Pauli | SparsePauliOp):
        raw = [(str(label), complex(c)) for label, c in SparsePauliOp(observable).to_list()]
    else:
        raise MitigationError(
            f"cannot read an observable from {type(observable).__name__}; give a Pauli label "
            "such as 'ZZI', a {label: coefficient} mapping, a Pauli or a SparsePauliOp"
        )
    if not raw:
        raise MitigationError("the observable has no terms")
    terms: dict[str, float] = {}
    for label, coefficient in raw:
        if len(label) != num_qubits or set(label) - _PAULI:
            raise MitigationError(
                f"Pauli label {label!r} must be {num_qubits} characters from I, X, Y, Z "
                f"(one per qubit of the circuit, qubit 0 rightmost)"
            )
        if abs(coefficient.imag) > 1e-12:
            raise MitigationError(
                f"term {label!r} has complex coefficient {coefficient}; an observable "
                "must be Hermitian (real coefficients)"
            )
        terms[label] = terms.get(label, 0.0) + coefficient.real
    return list(terms.items())


@dataclass(frozen=True)
class MeasurementGroup:
    """Terms measured by one circuit.

    :param basis: per-qubit measurement basis as a label (``I`` where no term
        needs the qubit, measured in Z).
    :param terms: ``(label, coefficient)`` of each term in the group.
    """

    basis: str
    terms: tuple[tuple[str, float], ...]


def group_terms(terms: Sequence[tuple[str, float]]) -> list[MeasurementGroup]:
    """Greedy qubit-wise commuting groups of the non-identity terms, in order."""
    groups: list[tuple[list[str], list[tuple[str, float]]]] = []
    for label, coefficient in terms:
        if set(label) == {"I"}:
            continue
        for basis, members in groups:
            if all(a == "I" or b == "I" or a == b for a, b in zip(basis, label, strict=True)):
                for i, letter in enumerate(label):
                    if letter != "I":
                        basis[i] = letter
                members.append((label, coefficient))
                break
        else:
            groups.append((list(label), [(label, coefficient)]))
    return [MeasurementGroup("".join(basis), tuple(members)) for basis, members in groups]


def unitary_part(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` without its final measurements (and the registers they used).

    :raises MitigationError: measurements, resets or classical control remain.
    """
    stripped = circuit.remove_final_measurements(inplace=False)
    assert stripped is not None
    for instruction in stripped.data:
        if instruction.operation.name in {"measure", "reset"} or instruction.clbits:
            raise MitigationError(
                f"circuit {circuit.name!r} has a mid-circuit {instruction.operation.name!r}; "
                "zero-noise extrapolation needs a unitary circuit with final measurements only"
            )
    return stripped


def measurement_circuit(unitary: QuantumCircuit, basis: str) -> QuantumCircuit:
    """``unitary`` followed by a change to ``basis`` and a measurement of every qubit."""
    n = unitary.num_qubits
    circuit = QuantumCircuit(n, n, name=f"{unitary.name}_meas_{basis}")
    circuit.global_phase = unitary.global_phase
    # Copy gate by gate: the unitary may still declare classical bits it never uses.
    for instruction in unitary.data:
        qubits = [circuit.qubits[unitary.find_bit(q).index] for q in instruction.qubits]
        circuit.append(instruction.operation, qubits)
    for qubit in range(n):
        letter = basis[n - 1 - qubit]
        if letter == "X":
            circuit.h(qubit)
        elif letter == "Y":
            circuit.sdg(qubit)
            circuit.h(qubit)
    circuit.measure(range(n), range(n))
    return circuit


def expectation_from_probabilities(probabilities: Mapping[str, float], label: str) -> float:
    """``⟨P⟩`` for the Pauli string ``label`` from outcomes measured in its basis.

    Outcome and label share the same order (qubit 0 rightmost), so the
    eigenvalue of an outcome is ``(-1)**(ones where the label is not I)``.
    """
    support = [i for i, letter in enumerate(label) if letter != "I"]
    total = 0.0
    for bits, p in probabilities.items():
        ones = sum(1 for i in support if bits[i] == "1")
        total += -p if ones % 2 else p
    return total
