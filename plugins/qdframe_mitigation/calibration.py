"""Per-qubit readout errors measured by calibration, grouped by node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe_mitigation.errors import MitigationError

__all__ = ["QubitReadout", "ReadoutCalibration"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class QubitReadout:
    """The measured readout error of one qubit.

    :param node: the node the qubit lives on.
    :param qubit: the circuit qubit.
    :param prob_meas1_prep0: how often a prepared 0 read as 1.
    :param prob_meas0_prep1: how often a prepared 1 read as 0.
    """

    node: int
    qubit: int
    prob_meas1_prep0: float
    prob_meas0_prep1: float

    @property
    def assignment_matrix(self) -> FloatArray:
        """``A[measured, prepared]``; each column sums to 1."""
        p10, p01 = self.prob_meas1_prep0, self.prob_meas0_prep1
        return np.array([[1.0 - p10, p01], [p10, 1.0 - p01]])

    @property
    def fidelity(self) -> float:
        """Average probability of reading the prepared value."""
        return 1.0 - (self.prob_meas1_prep0 + self.prob_meas0_prep1) / 2.0


@dataclass(frozen=True)
class ReadoutCalibration:
    """Per-qubit readout errors, grouped by node.

    :param qubits: the calibration of each calibrated qubit.
    :param shots: shots per calibration circuit.
    """

    qubits: Mapping[int, QubitReadout]
    shots: int
    _inverses: dict[int, FloatArray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inverses = {}
        for qubit, readout in self.qubits.items():
            if qubit != readout.qubit:
                raise MitigationError(
                    f"calibration entry for qubit {qubit} describes qubit {readout.qubit}"
                )
            gap = 1.0 - readout.prob_meas1_prep0 - readout.prob_meas0_prep1
            if gap <= 1e-9:
                raise MitigationError(
                    f"the readout of qubit {qubit} (node {readout.node}) is too noisy to "
                    f"invert: p(1|0) + p(0|1) = {1.0 - gap:.4g}, which must stay below 1"
                )
            inverses[qubit] = np.linalg.inv(readout.assignment_matrix)
        # Frozen dataclass: the cache is set once, here.
        object.__setattr__(self, "_inverses", inverses)

    @property
    def nodes(self) -> dict[int, tuple[int, ...]]:
        """Node → its calibrated qubits, ascending."""
        grouped: dict[int, list[int]] = {}
        for qubit, readout in sorted(self.qubits.items()):
            grouped.setdefault(readout.node, []).append(qubit)
        return {node: tuple(qs) for node, qs in sorted(grouped.items())}

    def readout(self, qubit: int) -> QubitReadout:
        """The calibration of ``qubit``.

        :raises MitigationError: ``qubit`` was not calibrated.
        """
        try:
            return self.qubits[qubit]
        except KeyError:
            known = ", ".join(str(q) for q in sorted(self.qubits)) or "none"
            raise MitigationError(
                f"qubit {qubit} has no readout calibration; calibrated qubits: {known}"
            ) from None

    def inverse(self, qubit: int) -> FloatArray:
        """The inverse assignment matrix of ``qubit``.

        :raises MitigationError: ``qubit`` was not calibrated.
        """
        self.readout(qubit)
        return self._inverses[qubit]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as the run report stores it."""
        return {
            "shots": self.shots,
            "qubits": [
                {
                    "node": r.node,
                    "qubit": r.qubit,
                    "prob_meas1_prep0": r.prob_meas1_prep0,
                    "prob_meas0_prep1": r.prob_meas0_prep1,
                }
                for _, r in sorted(self.qubits.items())
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReadoutCalibration:
        """Rebuild from :meth:`to_dict` output."""
        readouts = [QubitReadout(**entry) for entry in data["qubits"]]
        return cls({r.qubit: r for r in readouts}, shots=int(data["shots"]))
