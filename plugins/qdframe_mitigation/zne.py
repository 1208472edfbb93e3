"""Zero-noise extrapolation of expectation values.

The circuit is folded to several noise scales (see
:mod:`qdframe_mitigation.folding`), the observable is measured at each, and the
values are extrapolated to zero noise (see
:mod:`qdframe_mitigation.extrapolate`). The extrapolation uses the scales the
folding actually achieved, which differ from the requested ones when a
fractional scale cannot be met exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qiskit import QuantumCircuit

from qdframe.plugin import ConfigError, validate_shots
from qdframe_mitigation.counts import normalise_counts
from qdframe_mitigation.errors import MitigationError
from qdframe_mitigation.extrapolate import EXTRAPOLATION_METHODS, extrapolate
from qdframe_mitigation.folding import FOLDING_METHODS, fold
from qdframe_mitigation.observables import (
    Observable,
    expectation_from_probabilities,
    group_terms,
    measurement_circuit,
    pauli_terms,
    unitary_part,
)
from qdframe_mitigation.readout import ReadoutMitigator
from qdframe_mitigation.runner import CircuitRunner

__all__ = ["ZNEMitigator", "ZNEResult"]


@dataclass(frozen=True)
class ZNEResult:
    """One zero-noise estimate and how it was reached.

    :param value: the extrapolated (mitigated) expectation value.
    :param raw_value: the value measured at the lowest noise scale (the
        unmitigated estimate when that scale is 1).
    :param scales: the requested noise scales.
    :param achieved_scales: the scales the folding achieved (used to extrapolate).
    :param values: the measured expectation value at each scale.
    :param std_errors: shot-noise standard error at each scale (treating the
        terms as independent, so approximate for grouped terms).
    :param method: the extrapolation method.
    :param folding: the folding method.
    :param observable: the observable's terms, ``{label: coefficient}``.
    :param shots: shots per measured circuit.
    """

    value: float
    raw_value: float
    scales: tuple[float, ...]
    achieved_scales: tuple[float, ...]
    values: tuple[float, ...]
    std_errors: tuple[float, ...]
    method: str
    folding: str
    observable: dict[str, float]
    shots: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as the run report stores it."""
        data = asdict(self)
        for key in ("scales", "achieved_scales", "values", "std_errors"):
            data[key] = list(data[key])
        return data


class ZNEMitigator:
    """Zero-noise extrapolation (``kind = "expectation"``).

    Usage::

        zne = ZNEMitigator(scales=(1, 3, 5), method="richardson", folding="global")
        result = zne.estimate(circuit, "ZZI", runner, shots=8192, seed=7)
        result.value, result.raw_value

    :param scales: noise scale factors, each >= 1, at least two, distinct.
    :param method: ``"richardson"`` or ``"linear"``.
    :param folding: ``"global"`` or ``"local"``.
    :param shots: default shots per measured circuit.
    :raises ConfigError: an option is invalid; the message says what is allowed.
    """

    name = "zne"
    kind = "expectation"

    def __init__(
        self,
        *,
        scales: Sequence[float] = (1.0, 3.0, 5.0),
        method: str = "richardson",
        folding: str = "global",
        shots: int = 8192,
    ) -> None:
        values = tuple(float(s) for s in scales)
        if len(values) < 2:
            raise ConfigError(
                f"zne option scales needs at least 2 noise scale factors, got {list(values)}",
                allowed="e.g. [1, 3, 5]",
            )
        if any(not math.isfinite(s) or s < 1.0 for s in values) or len(set(values)) != len(values):
            raise ConfigError(
                f"zne option scales must be distinct numbers >= 1, got {list(values)}",
                allowed="e.g. [1, 3, 5] or [1, 1.5, 2]",
            )
        if method not in EXTRAPOLATION_METHODS:
            raise ConfigError(
                f"unknown zne option method {method!r}", allowed=", ".join(EXTRAPOLATION_METHODS)
            )
        if folding not in FOLDING_METHODS:
            raise ConfigError(
                f"unknown zne option folding {folding!r}", allowed=", ".join(FOLDING_METHODS)
            )
        validate_shots(shots, minimum=1, name="zne option shots")
        self.scales = values
        self.method = method
        self.folding = folding
        self.shots = shots

    def folded_circuits(self, circuit: QuantumCircuit) -> list[tuple[QuantumCircuit, float]]:
        """The unitary part of ``circuit`` folded to each scale, with the achieved scale."""
        unitary = unitary_part(circuit)
        return [fold(unitary, scale, self.folding) for scale in self.scales]

    def estimate(
        self,
        circuit: QuantumCircuit,
        observable: Observable,
        run_fn: CircuitRunner,
        *,
        shots: int | None = None,
        seed: int | None = None,
        readout: ReadoutMitigator | None = None,
    ) -> ZNEResult:
        """The zero-noise expectation value of ``observable`` after ``circuit``.

        :param circuit: a unitary circuit; final measurements are removed.
        :param observable: see :data:`qdframe_mitigation.observables.Observable`.
        :param run_fn: runs the folded measurement circuits (with the noise).
        :param shots: shots per circuit (default: the ``shots`` option).
        :param seed: passed to ``run_fn``.
        :param readout: a calibrated readout mitigator to correct each circuit's
            counts first (clbit ``j`` measures qubit ``j``).
        :raises MitigationError: the circuit is not unitary, the observable is
            malformed, or the runner returned the wrong number of results.
        """
        shots = validate_shots(self.shots if shots is None else shots, minimum=1)
        unitary = unitary_part(circuit)
        terms = pauli_terms(observable, unitary.num_qubits)
        constant = sum(c for label, c in terms if set(label) == {"I"})
        groups = group_terms(terms)
        folded = [fold(unitary, scale, self.folding) for scale in self.scales]
        circuits = [measurement_circuit(f, group.basis) for f, _ in folded for group in groups]
        counts = run_fn(circuits, shots=shots, seed=seed) if circuits else []
        if len(counts) != len(circuits):
            raise MitigationError(
                f"the runner returned {len(counts)} results for {len(circuits)} circuits"
            )
        values: list[float] = []
        errors: list[float] = []
        for i in range(len(folded)):
            value, variance = constant, 0.0
            for g, group in enumerate(groups):
                probabilities = self._probabilities(counts[i * len(groups) + g], readout)
                for label, coefficient in group.terms:
                    expectation = expectation_from_probabilities(probabilities, label)
                    value += coefficient * expectation
                    variance += coefficient**2 * max(0.0, 1.0 - expectation**2) / shots
            values.append(value)
            errors.append(math.sqrt(variance))
        achieved = tuple(scale for _, scale in folded)
        if len(set(achieved)) != len(achieved):
            raise MitigationError(
                f"noise scales {list(self.scales)} fold circuit {circuit.name!r} "
                f"({len(unitary.data)} instructions) to the same scales {list(achieved)}; "
                "choose scale factors further apart"
            )
        lowest = min(range(len(achieved)), key=achieved.__getitem__)
        return ZNEResult(
            value=extrapolate(achieved, values, self.method),
            raw_value=values[lowest],
            scales=self.scales,
            achieved_scales=achieved,
            values=tuple(values),
            std_errors=tuple(errors),
            method=self.method,
            folding=self.folding,
            observable=dict(terms),
            shots=shots,
        )

    @staticmethod
    def _probabilities(
        counts: Mapping[str, int], readout: ReadoutMitigator | None
    ) -> Mapping[str, float]:
        if readout is None:
            return normalise_counts(counts)
        return readout.apply(counts)
