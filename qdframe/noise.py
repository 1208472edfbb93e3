"""A backend-independent noise model.

:class:`NoiseModel` describes gate errors (depolarizing, amplitude damping and
phase damping channels attached to gates by name, on all qubits or on given
qubits) and readout errors. It is plain data: it validates its numbers,
serialises to JSON and back, and each backend translates it to its own form
(the numpy backend samples quantum trajectories; Aer builds its own model).

Semantics, chosen to match Qiskit Aer's so that a translation is exact:

* A gate error acts right *after* the gate (``"reset"`` after a reset),
  except an error attached to ``"measure"``, which acts right *before* the
  measurement.
* :class:`DepolarizingError` acts jointly on all ``k`` qubits of the gate:
  ``E(ρ) = (1 - p) ρ + p Tr[ρ] I / 2^k``; ``p = 1`` leaves the maximally
  mixed state.
* :class:`AmplitudeDampingError` and :class:`PhaseDampingError` are
  single-qubit channels; on a ``k``-qubit gate each of its qubits gets one
  (their tensor product).
* An entry with ``qubits`` set applies only when the gate acts on exactly
  those qubits in that order, and it replaces the entries without ``qubits``
  for that gate there. Several entries that apply are composed in the order
  they were added.
* A readout error for a given qubit replaces the one for all qubits.
* Errors attach to the instructions of the circuit as it is run (including
  those inside ``if_test`` bodies); a composite gate is one instruction, so the
  gates of its definition get no errors of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AmplitudeDampingError",
    "DepolarizingError",
    "GateError",
    "NoiseModel",
    "PhaseDampingError",
    "QuantumError",
    "ReadoutError",
]

_Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DepolarizingError(_Frozen):
    """Depolarizing channel on all qubits of the gate it follows.

    :param probability: ``p`` in ``(1 - p) ρ + p I / 2^k``; 0 is no error and 1
        the completely depolarizing channel.
    """

    kind: Literal["depolarizing"] = "depolarizing"
    probability: _Probability


class AmplitudeDampingError(_Frozen):
    """Energy relaxation ``|1⟩ → |0⟩`` with probability ``gamma``, per qubit."""

    kind: Literal["amplitude_damping"] = "amplitude_damping"
    gamma: _Probability


class PhaseDampingError(_Frozen):
    """Loss of phase coherence, per qubit: off-diagonal terms scale by ``sqrt(1 - gamma)``."""

    kind: Literal["phase_damping"] = "phase_damping"
    gamma: _Probability


#: Any of the quantum error channels, told apart by their ``kind`` field.
QuantumError = Annotated[
    DepolarizingError | AmplitudeDampingError | PhaseDampingError,
    Field(discriminator="kind"),
]


class GateError(_Frozen):
    """An error channel attached to gates.

    :param gates: gate (instruction) names, as in ``QuantumCircuit.count_ops()``.
    :param qubits: ``None`` for every placement, or the exact qubit tuple.
    :param error: the channel.
    """

    gates: tuple[str, ...] = Field(min_length=1)
    qubits: tuple[Annotated[int, Field(ge=0)], ...] | None = None
    error: QuantumError

    @field_validator("gates")
    @classmethod
    def _names_are_plain(cls, gates: tuple[str, ...]) -> tuple[str, ...]:
        for name in gates:
            if not name or name != name.strip():
                raise ValueError(f"gate name {name!r} is empty or has surrounding spaces")
        return gates

    @field_validator("qubits")
    @classmethod
    def _qubits_distinct(cls, qubits: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if qubits is not None and (not qubits or len(set(qubits)) != len(qubits)):
            raise ValueError(f"qubits must be distinct and not empty, got {qubits}")
        return qubits


class ReadoutError(_Frozen):
    """Classical misreading of a measured bit.

    :param prob_meas1_prep0: probability of reading 1 when the qubit was 0.
    :param prob_meas0_prep1: probability of reading 0 when the qubit was 1.
    :param qubit: ``None`` for every qubit, or the one qubit it applies to.
    """

    prob_meas1_prep0: _Probability = 0.0
    prob_meas0_prep1: _Probability = 0.0
    qubit: Annotated[int, Field(ge=0)] | None = None

    @property
    def is_ideal(self) -> bool:
        return self.prob_meas1_prep0 == 0.0 and self.prob_meas0_prep1 == 0.0


class NoiseModel(_Frozen):
    """Gate errors and readout errors, independent of any simulator.

    Build one with the ``with_*`` methods (each returns a new model)::

        noise = (
            NoiseModel()
            .with_gate_error(DepolarizingError(probability=0.01), ["cx"])
            .with_gate_error(AmplitudeDampingError(gamma=0.001), ["h", "x"], qubits=[0])
            .with_readout_error(prob_meas1_prep0=0.02, prob_meas0_prep1=0.05)
        )
        text = noise.to_json()
        assert NoiseModel.from_json(text) == noise
    """

    gate_errors: tuple[GateError, ...] = ()
    readout_errors: tuple[ReadoutError, ...] = ()

    @model_validator(mode="after")
    def _one_readout_per_qubit(self) -> NoiseModel:
        seen: set[int | None] = set()
        for entry in self.readout_errors:
            if entry.qubit in seen:
                where = "all qubits" if entry.qubit is None else f"qubit {entry.qubit}"
                raise ValueError(f"more than one readout error for {where}")
            seen.add(entry.qubit)
        return self

    # -- building -----------------------------------------------------------

    def with_gate_error(
        self,
        error: DepolarizingError | AmplitudeDampingError | PhaseDampingError,
        gates: Iterable[str] | str,
        *,
        qubits: Sequence[int] | None = None,
    ) -> NoiseModel:
        """A copy with ``error`` attached after ``gates`` (on ``qubits`` only, if given)."""
        names = (gates,) if isinstance(gates, str) else tuple(gates)
        entry = GateError(
            gates=names, qubits=None if qubits is None else tuple(qubits), error=error
        )
        return self.model_copy(update={"gate_errors": (*self.gate_errors, entry)})

    def with_readout_error(
        self,
        *,
        prob_meas1_prep0: float = 0.0,
        prob_meas0_prep1: float = 0.0,
        qubit: int | None = None,
    ) -> NoiseModel:
        """A copy with a readout error on ``qubit`` (every qubit when ``None``)."""
        entry = ReadoutError(
            prob_meas1_prep0=prob_meas1_prep0, prob_meas0_prep1=prob_meas0_prep1, qubit=qubit
        )
        kept = tuple(e for e in self.readout_errors if e.qubit != qubit)
        return NoiseModel.model_validate(
            {"gate_errors": self.gate_errors, "readout_errors": (*kept, entry)}
        )

    # -- looking up ---------------------------------------------------------

    @property
    def is_ideal(self) -> bool:
        """Whether the model changes nothing."""
        return not self.gate_errors and all(e.is_ideal for e in self.readout_errors)

    @property
    def noisy_instructions(self) -> frozenset[str]:
        """Names of the instructions that carry a gate error."""
        return frozenset(name for entry in self.gate_errors for name in entry.gates)

    def errors_for(
        self, name: str, qubits: Sequence[int]
    ) -> tuple[DepolarizingError | AmplitudeDampingError | PhaseDampingError, ...]:
        """The channels applied to instruction ``name`` on ``qubits``, in order.

        Entries for exactly these qubits win over entries for all qubits.
        """
        placement = tuple(qubits)
        local = tuple(
            e.error for e in self.gate_errors if name in e.gates and e.qubits == placement
        )
        if local:
            return local
        return tuple(e.error for e in self.gate_errors if name in e.gates and e.qubits is None)

    def readout_for(self, qubit: int) -> ReadoutError | None:
        """The readout error of ``qubit``, or ``None`` when it reads perfectly."""
        general: ReadoutError | None = None
        for entry in self.readout_errors:
            if entry.qubit == qubit:
                return None if entry.is_ideal else entry
            if entry.qubit is None:
                general = entry
        return None if general is None or general.is_ideal else general

    # -- serialising --------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-compatible data."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> NoiseModel:
        """Rebuild from :meth:`to_dict` output.

        :raises pydantic.ValidationError: the data is not a valid model.
        """
        return cls.model_validate(data)

    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> NoiseModel:
        """Rebuild from :meth:`to_json` output.

        :raises pydantic.ValidationError: the text is not a valid model.
        """
        return cls.model_validate_json(text)
