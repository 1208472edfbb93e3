"""Readout-error mitigation with per-qubit assignment matrices, calibrated per node.

Model: each qubit is misread independently, with ``p(1|0)`` and ``p(0|1)``.
Its 2x2 assignment matrix ``A[measured, prepared]`` is
``[[1 - p(1|0), p(0|1)], [p(1|0), 1 - p(0|1)]]`` and the measured distribution
of ``m`` bits is ``(A_{m-1} ⊗ ... ⊗ A_0) p_true``. Mitigation applies the
tensored inverse to the measured distribution, then projects the result (a
quasi-probability vector, which may have negative entries) onto the nearest
probability distribution in Euclidean distance.

Calibration prepares ``|0…0⟩`` and ``|1…1⟩`` on the qubits of each node (two
circuits per node, as a node would calibrate its own readout) and reads each
qubit's error rates from the marginals.

Up to ``max_dense_bits`` classical bits the inverse acts on the full
``2**m`` vector. Beyond that it acts on the observed bitstrings only: the
assignment matrix restricted to them is solved exactly, which assumes the
true distribution lives on the outcomes seen (accurate when readout errors are
small and shots plentiful).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit

from qdframe.plugin import ConfigError, validate_shots
from qdframe_mitigation.calibration import QubitReadout, ReadoutCalibration

# Imported under another name: the methods below take a ``clbit_qubits`` argument.
from qdframe_mitigation.counts import clbit_qubits as _clbit_qubits_of
from qdframe_mitigation.counts import normalise_counts
from qdframe_mitigation.errors import MitigationError
from qdframe_mitigation.runner import CircuitRunner
from qdframe_mitigation.simplex import project_to_simplex

__all__ = ["ReadoutMitigator"]

FloatArray = npt.NDArray[np.float64]


def _calibration_circuit(
    node: int, qubits: Sequence[int], num_qubits: int, prepared: int
) -> QuantumCircuit:
    circuit = QuantumCircuit(num_qubits, len(qubits), name=f"readout_cal_node{node}_{prepared}")
    if prepared:
        circuit.x(list(qubits))
    circuit.measure(list(qubits), list(range(len(qubits))))
    return circuit


def _ones_per_bit(counts: Mapping[str, int], width: int) -> FloatArray:
    """Fraction of shots in which each clbit (clbit 0 first) read 1."""
    probabilities = normalise_counts(counts)
    ones = np.zeros(width)
    for bits, p in probabilities.items():
        if len(bits) != width:
            raise MitigationError(
                f"calibration counts have {len(bits)}-bit outcomes, expected {width}"
            )
        ones += p * np.array([bits[width - 1 - j] == "1" for j in range(width)], dtype=float)
    return ones


class ReadoutMitigator:
    """Readout-error mitigation (``kind = "counts"``).

    Usage::

        mitigator = ReadoutMitigator()
        mitigator.calibrate(runner, {0: [0, 1], 1: [2, 3]}, shots=4096, seed=7)
        probabilities = mitigator.apply(counts)

    :param shots: default shots per calibration circuit.
    :param max_dense_bits: up to this many classical bits, mitigate on the full
        ``2**m`` distribution; beyond, on the observed outcomes only.
    :param max_outcomes: most distinct observed outcomes accepted beyond
        ``max_dense_bits`` (the restricted matrix is ``max_outcomes**2``).
    :raises ConfigError: an option is out of range.
    """

    name = "readout"
    kind = "counts"

    def __init__(
        self, *, shots: int = 4096, max_dense_bits: int = 20, max_outcomes: int = 4096
    ) -> None:
        validate_shots(shots, minimum=1, name="readout mitigator option shots")
        for option, value, low in (
            ("max_dense_bits", max_dense_bits, 1),
            ("max_outcomes", max_outcomes, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(
                    f"readout mitigator option {option} must be an integer >= {low}, got {value!r}"
                )
        self.shots = shots
        self.max_dense_bits = max_dense_bits
        self.max_outcomes = max_outcomes
        self._calibration: ReadoutCalibration | None = None

    @classmethod
    def from_calibration(cls, calibration: ReadoutCalibration, **options: Any) -> ReadoutMitigator:
        """A mitigator that uses an existing calibration (e.g. loaded from a report)."""
        mitigator = cls(**options)
        mitigator._calibration = calibration
        return mitigator

    @property
    def calibration(self) -> ReadoutCalibration:
        """The current calibration.

        :raises MitigationError: :meth:`calibrate` has not run.
        """
        if self._calibration is None:
            raise MitigationError("the readout mitigator is not calibrated; call calibrate()")
        return self._calibration

    # -------------------------------------------------------------- calibrate

    @staticmethod
    def calibration_circuits(
        qubits_by_node: Mapping[int, Sequence[int]], num_qubits: int | None = None
    ) -> list[QuantumCircuit]:
        """Two circuits per node (all 0, then all 1 on its qubits), nodes ascending.

        Circuit ``2k`` prepares node ``k``'s qubits in 0 and ``2k + 1`` in 1;
        each measures the node's qubits, ascending, into clbits 0, 1, ...

        :raises MitigationError: a node has no qubits, a qubit is negative or is
            listed under two nodes, or ``num_qubits`` is too small.
        """
        seen: dict[int, int] = {}
        for node, qubits in qubits_by_node.items():
            if not qubits:
                raise MitigationError(f"node {node} lists no qubits to calibrate")
            for qubit in qubits:
                if qubit < 0:
                    raise MitigationError(f"node {node} lists a negative qubit {qubit}")
                if qubit in seen and seen[qubit] != node:
                    raise MitigationError(
                        f"qubit {qubit} is listed under node {seen[qubit]} and node {node}; "
                        "each qubit lives on one node"
                    )
                seen[qubit] = node
        if not seen:
            raise MitigationError("no qubits to calibrate: qubits_by_node is empty")
        width = max(seen) + 1 if num_qubits is None else num_qubits
        if width <= max(seen):
            raise MitigationError(
                f"num_qubits={num_qubits} is too small for qubit {max(seen)}; "
                f"it must be at least {max(seen) + 1}"
            )
        circuits = []
        for node, qubits in sorted(qubits_by_node.items()):
            ordered = sorted(set(qubits))
            circuits.append(_calibration_circuit(node, ordered, width, 0))
            circuits.append(_calibration_circuit(node, ordered, width, 1))
        return circuits

    def calibrate(
        self,
        run_fn: CircuitRunner,
        qubits_by_node: Mapping[int, Sequence[int]],
        *,
        shots: int | None = None,
        seed: int | None = None,
        num_qubits: int | None = None,
    ) -> ReadoutCalibration:
        """Measure the readout errors of every node's qubits and keep them.

        :param run_fn: runs the calibration circuits (see :class:`CircuitRunner`).
        :param qubits_by_node: node → the circuit qubits that live on it.
        :param shots: shots per calibration circuit (default: the ``shots`` option).
        :param seed: passed to ``run_fn``.
        :param num_qubits: width of the calibration circuits (default: just wide
            enough for the highest qubit); use the circuit's own width so that
            per-qubit noise applies to the same qubit indices.
        :returns: the calibration, also kept for :meth:`apply`.
        """
        shots = validate_shots(self.shots if shots is None else shots, minimum=1)
        circuits = self.calibration_circuits(qubits_by_node, num_qubits)
        counts = run_fn(circuits, shots=shots, seed=seed)
        if len(counts) != len(circuits):
            raise MitigationError(
                f"the runner returned {len(counts)} results for {len(circuits)} circuits"
            )
        readouts: dict[int, QubitReadout] = {}
        for position, (node, qubits) in enumerate(sorted(qubits_by_node.items())):
            ordered = sorted(set(qubits))
            ones_if_0 = _ones_per_bit(counts[2 * position], len(ordered))
            ones_if_1 = _ones_per_bit(counts[2 * position + 1], len(ordered))
            for j, qubit in enumerate(ordered):
                readouts[qubit] = QubitReadout(
                    node=node,
                    qubit=qubit,
                    prob_meas1_prep0=float(ones_if_0[j]),
                    prob_meas0_prep1=float(1.0 - ones_if_1[j]),
                )
        self._calibration = ReadoutCalibration(readouts, shots=shots)
        return self._calibration

    # ------------------------------------------------------------------ apply

    def quasi_probabilities(
        self,
        counts: Mapping[str, float],
        *,
        clbit_qubits: Sequence[int] | None = None,
        circuit: QuantumCircuit | None = None,
    ) -> dict[str, float]:
        """The tensored inverse applied to ``counts``: a quasi-distribution that
        sums to 1 and may have negative entries.

        :param counts: bitstring → count, clbit 0 rightmost.
        :param clbit_qubits: the qubit measured into each clbit, clbit 0 first.
        :param circuit: the circuit that produced ``counts``, to read
            ``clbit_qubits`` from its measurements when not given. Without
            either, clbit ``j`` is taken to measure qubit ``j``.
        :raises MitigationError: see :func:`normalise_counts`; a clbit's qubit
            was not calibrated; too many distinct outcomes to invert.
        """
        probabilities = normalise_counts(counts)
        width = len(next(iter(probabilities)))
        if clbit_qubits is None and circuit is not None:
            clbit_qubits = _clbit_qubits_of(circuit)
        qubits = list(range(width)) if clbit_qubits is None else list(clbit_qubits)
        if len(qubits) != width:
            raise MitigationError(
                f"clbit_qubits names {len(qubits)} qubits but the counts have {width} bits"
            )
        calibration = self.calibration
        if width == 0:
            return dict(probabilities)
        if width <= self.max_dense_bits:
            return _dense_inverse(probabilities, [calibration.inverse(q) for q in qubits])
        readouts = [calibration.readout(q) for q in qubits]
        return self._subspace_inverse(probabilities, [r.assignment_matrix for r in readouts])

    def apply(
        self,
        counts: Mapping[str, float],
        *,
        clbit_qubits: Sequence[int] | None = None,
        circuit: QuantumCircuit | None = None,
        project: bool = True,
    ) -> dict[str, float]:
        """Mitigated probabilities of ``counts`` (outcomes with probability 0 left out).

        With ``project=False`` this is :meth:`quasi_probabilities`; otherwise the
        quasi-distribution is projected onto the nearest probability
        distribution (Euclidean), so every value is in ``[0, 1]`` and they sum
        to 1. Other arguments as for :meth:`quasi_probabilities`.
        """
        quasi = self.quasi_probabilities(counts, clbit_qubits=clbit_qubits, circuit=circuit)
        if not project:
            return quasi
        keys = list(quasi)
        projected = project_to_simplex(np.fromiter(quasi.values(), dtype=float, count=len(keys)))
        return {k: float(p) for k, p in zip(keys, projected, strict=True) if p > 0.0}

    def summary(self) -> dict[str, Any]:
        """What the run report records: the calibration per qubit."""
        return {"name": self.name, "kind": self.kind, **self.calibration.to_dict()}

    def _subspace_inverse(
        self, probabilities: Mapping[str, float], assignments: Sequence[FloatArray]
    ) -> dict[str, float]:
        keys = list(probabilities)
        if len(keys) > self.max_outcomes:
            raise MitigationError(
                f"{len(keys)} distinct outcomes over {len(assignments)} bits exceed "
                f"max_outcomes={self.max_outcomes}; raise it, measure fewer bits, or "
                "take fewer shots"
            )
        width = len(assignments)
        # bits[i, j] is clbit j of outcome i.
        bits = np.array([[k[width - 1 - j] == "1" for j in range(width)] for k in keys], dtype=int)
        # restricted[i, k] = P(read outcome i | outcome k was true), on the observed outcomes.
        restricted = np.ones((len(keys), len(keys)))
        for j, assignment in enumerate(assignments):
            restricted *= assignment[bits[:, j][:, None], bits[:, j][None, :]]
        measured = np.array([probabilities[k] for k in keys])
        solved = np.linalg.solve(restricted, measured)
        solved /= solved.sum()
        return {k: float(v) for k, v in zip(keys, solved, strict=True)}


def _dense_inverse(
    probabilities: Mapping[str, float], inverses: Sequence[FloatArray]
) -> dict[str, float]:
    width = len(inverses)
    vector = np.zeros(1 << width)
    for bits, p in probabilities.items():
        vector[int(bits, 2)] = p
    # In C order the first axis is the most significant bit, i.e. clbit width-1.
    tensor = vector.reshape((2,) * width)
    for j, inverse in enumerate(inverses):
        axis = width - 1 - j
        tensor = np.moveaxis(np.tensordot(inverse, tensor, axes=([1], [axis])), 0, axis)
    flat = tensor.reshape(-1)
    nonzero = np.nonzero(np.abs(flat) > 1e-15)[0]
    return {format(int(i), f"0{width}b"): float(flat[i]) for i in nonzero}
