"""Pauli measurement for the Estimator: grouping, basis changes, estimates.

Pauli terms that commute qubit by qubit are measured together: one circuit
per group rotates each qubit of the group's basis into ``Z`` and measures it.
From the counts of a group, each shot gives ``v = sum_P c_P s_P`` over the
group's terms ``P`` an observable uses (``s_P = ±1`` the parity of ``P``'s
bits); the observable's estimate is the mean of ``v`` summed over groups, and
its variance ``Var(v) / shots`` summed over groups (the groups' shots are
independent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["MeasurementGroup", "group_moments", "group_paulis", "measurement_circuit"]


@dataclass(frozen=True)
class MeasurementGroup:
    """Terms measured together: ``basis[q]`` in ``IXYZ`` for every source qubit.

    ``support`` are the measured source qubits, in clbit order of the
    measurement register.
    """

    labels: tuple[str, ...]
    basis: tuple[str, ...]
    support: tuple[int, ...]


def group_paulis(labels: Iterable[str], *, abelian_grouping: bool = True) -> list[MeasurementGroup]:
    """Group non-identity Pauli ``labels`` (Qiskit order: last character is qubit 0).

    :raises QiskitError: a label is not a Pauli string.
    """
    from qiskit.quantum_info import PauliList

    unique = sorted({label for label in labels if set(label) - {"I"}})
    if not unique:
        return []
    paulis = PauliList(unique)
    members = paulis.group_commuting(qubit_wise=True) if abelian_grouping else list(paulis)
    groups = []
    for member in members:
        plist = member if isinstance(member, PauliList) else PauliList([member])
        z = np.logical_or.reduce(plist.z, axis=0)
        x = np.logical_or.reduce(plist.x, axis=0)
        basis = tuple("IZXY"[int(zq) + 2 * int(xq)] for zq, xq in zip(z, x, strict=True))
        support = tuple(q for q, b in enumerate(basis) if b != "I")
        groups.append(MeasurementGroup(tuple(p.to_label() for p in plist), basis, support))
    return groups


def measurement_circuit(
    circuit: object, group: MeasurementGroup, final: Sequence[int]
) -> tuple[object, tuple[int, ...]]:
    """``circuit`` with the group's basis change and measurements appended.

    :param final: physical qubit of each source qubit in ``circuit``.
    :returns: the new circuit and the positions of its measurement bits.
    """
    from qiskit import ClassicalRegister, QuantumCircuit

    assert isinstance(circuit, QuantumCircuit)
    measured = circuit.copy()
    register = ClassicalRegister(len(group.support), "qdframe_pauli")
    measured.add_register(register)
    for k, q in enumerate(group.support):
        physical = int(final[q])
        basis = group.basis[q]
        if basis == "X":
            measured.h(physical)
        elif basis == "Y":
            measured.sdg(physical)
            measured.h(physical)
        measured.measure(physical, register[k])
    positions = tuple(measured.find_bit(bit).index for bit in register)
    return measured, positions


def _signs(
    counts: Mapping[str, int], group: MeasurementGroup, labels: Sequence[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(keys, labels)`` table of ``±1`` and the count of each key."""
    keys = list(counts)
    width = len(group.support)
    bits = np.array([[ch == "1" for ch in reversed(key)] for key in keys], dtype=np.int64)
    bits = bits.reshape(len(keys), width)
    column = {q: k for k, q in enumerate(group.support)}
    signs = np.empty((len(keys), len(labels)), dtype=np.float64)
    for j, label in enumerate(labels):
        cols = [column[q] for q, p in enumerate(reversed(label)) if p != "I"]
        parity = bits[:, cols].sum(axis=1) % 2 if cols else np.zeros(len(keys), dtype=np.int64)
        signs[:, j] = 1.0 - 2.0 * parity
    weights = np.array([counts[key] for key in keys], dtype=np.float64)
    return signs, weights


def group_moments(
    counts: Mapping[str, int],
    group: MeasurementGroup,
    observables: Sequence[Mapping[str, float]],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """For each observable: the group's part of its estimate and of its variance.

    :returns: ``(means, variances_of_the_mean)``, one entry per observable.
    """
    labels = list(group.labels)
    signs, weights = _signs(counts, group, labels)
    shots = float(weights.sum())
    coefficients = np.array(
        [[float(obs.get(label, 0.0)) for label in labels] for obs in observables],
        dtype=np.float64,
    ).reshape(len(observables), len(labels))
    values = signs @ coefficients.T  # (keys, observables): v per outcome
    mean = weights @ values / shots
    second = weights @ (values * values) / shots
    variance = np.maximum(second - mean * mean, 0.0)
    if shots > 1:
        variance *= shots / (shots - 1)  # unbiased sample variance
    return mean, variance / shots
