"""Translating qdframe's :class:`~qdframe.noise.NoiseModel` to an Aer noise model.

The translation is built for the circuits about to run: every gate placement
(instruction name and qubits, inside control-flow blocks too) gets exactly the
channels :meth:`NoiseModel.errors_for` gives it, and every qubit the readout
error :meth:`NoiseModel.readout_for` gives it. Going placement by placement
keeps qdframe's rule "an entry for these qubits replaces the entries for all
qubits" exact even where the specific entry is error-free, which Aer's own
all-qubit/local layering cannot express (it drops ideal errors).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from qdframe.plugin import AmplitudeDampingError, DepolarizingError, NoiseModel, PhaseDampingError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Qubit

__all__ = ["placements", "to_aer_noise_model"]

_Channel = DepolarizingError | AmplitudeDampingError | PhaseDampingError
_NOT_NOISY = frozenset({"barrier", "delay"})


def placements(circuit: QuantumCircuit) -> set[tuple[str, tuple[int, ...]]]:
    """Every ``(instruction name, qubit indices)`` in ``circuit``, blocks included."""
    index = {qubit: i for i, qubit in enumerate(circuit.qubits)}
    return set(_walk(circuit, index))


def _walk(
    circuit: QuantumCircuit, index: dict[Qubit, int]
) -> Iterator[tuple[str, tuple[int, ...]]]:
    for instruction in circuit.data:
        operation = instruction.operation
        qubits = tuple(index[q] for q in instruction.qubits)
        blocks = getattr(operation, "blocks", ())
        if blocks:
            for block in blocks:
                inner = {bq: qubits[i] for i, bq in enumerate(block.qubits)}
                yield from _walk(block, inner)
        elif operation.name not in _NOT_NOISY:
            yield operation.name, qubits


def _aer_channel(channel: _Channel, num_qubits: int) -> Any:
    from qiskit_aer.noise import (
        amplitude_damping_error,
        depolarizing_error,
        phase_damping_error,
    )

    if isinstance(channel, DepolarizingError):
        return depolarizing_error(channel.probability, num_qubits)
    one = (
        amplitude_damping_error(channel.gamma)
        if isinstance(channel, AmplitudeDampingError)
        else phase_damping_error(channel.gamma)
    )
    error = one
    for _ in range(num_qubits - 1):
        error = error.tensor(one)
    return error


def _composed(channels: Sequence[_Channel], num_qubits: int) -> Any:
    error = _aer_channel(channels[0], num_qubits)
    for channel in channels[1:]:
        error = error.compose(_aer_channel(channel, num_qubits))
    return error


def to_aer_noise_model(model: NoiseModel, circuits: Iterable[QuantumCircuit]) -> Any:
    """An Aer ``NoiseModel`` equivalent to ``model`` on ``circuits``.

    :param model: the backend-independent model.
    :param circuits: the circuits it will be used with (their gate placements
        and qubit counts decide which entries are needed).
    """
    from qiskit_aer.noise import NoiseModel as AerNoiseModel
    from qiskit_aer.noise import ReadoutError as AerReadoutError

    circuits = list(circuits)
    aer = AerNoiseModel()
    noisy = model.noisy_instructions
    used: set[tuple[str, tuple[int, ...]]] = set()
    for circuit in circuits:
        used |= {p for p in placements(circuit) if p[0] in noisy}
    for name, qubits in sorted(used):
        channels = model.errors_for(name, qubits)
        if channels:
            aer.add_quantum_error(_composed(channels, len(qubits)), name, list(qubits))
    width = max((c.num_qubits for c in circuits), default=0)
    for qubit in range(width):
        readout = model.readout_for(qubit)
        if readout is not None:
            p10, p01 = readout.prob_meas1_prep0, readout.prob_meas0_prep1
            matrix = [[1.0 - p10, p10], [p01, 1.0 - p01]]
            aer.add_readout_error(AerReadoutError(matrix), [qubit])
    return aer
