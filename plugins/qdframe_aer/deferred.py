"""A distributed circuit in deferred-measurement form, for one Aer simulation.

A distributed circuit (built by ``DistributedProgram.to_circuit()``,
recognised by its ``metadata["qdframe"]`` layout) measures communication
qubits and corrects the outcomes with ``if_else`` blocks. Measuring a qubit
commutes with gates it controls, so ``measure q -> c; if (c == v) U`` is
the same channel as ``controlled-U`` from ``q`` with the measurement left to
the end, where tracing ``q`` out replaces it. :func:`deferred_form` rewrites
every protocol measurement that way; nothing random is left in the circuit
except the protocol qubits' resets.

A reset is deterministic when the qubit is in a product state with the rest:
whichever outcome the simulator draws, the state after it is the same. A
correct program leaves every measured protocol qubit unentangled, so one
shot of the rewritten circuit is the exact final state; a wrong one (a
missing or wrong correction) leaves one entangled. :func:`with_saves`
releases each such qubit in one of two ways, and :func:`resets_are_pure`
checks after the run that each release was deterministic:

- ``"hadamard"``: a Hadamard in place of the reset, then the qubit's
  ``<Z>``. A corrected protocol qubit is in ``|+>`` (its outcome is uniform
  and corrected coherently), which the Hadamard turns into ``|0>``; ``<Z> = 1``
  proves the wire is back in ``|0>``, exactly what a reset would leave. No
  collapse, and the gate fuses with its neighbours.
- ``"reset"``: the qubit's reduced density matrix before Aer's reset, whose
  purity 1 proves it was a product state, whichever one.

The caller tries ``"hadamard"``, then ``"reset"`` where a qubit was in
another product state, then runs the original circuit shot by shot. The
result is exact either way.

The source circuit's final measurements become one ``save_probabilities``
over the measured qubits, from which every shot is drawn. A source circuit
that measures mid-circuit, a condition on a register or an expression, or
any other control flow is left alone (:func:`deferred_form` returns why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Clbit, Instruction, Qubit

from qdframe_aer.wires import LogicalOp, narrow

__all__ = [
    "RELEASES",
    "TERMINAL_LABEL",
    "DeferredForm",
    "deferred_form",
    "resets_are_pure",
    "with_saves",
]

#: Label of the final data-qubit probabilities in Aer's result.
TERMINAL_LABEL = "qdframe_terminal"
_RESET_PREFIX = "qdframe_reset_"
# A product state's reduced density matrix has purity 1; floating-point error
# over a few thousand gates stays far below this, a wrong correction far above.
_PURITY_TOLERANCE = 1e-6
_OPAQUE = frozenset({"barrier"})
#: How :func:`with_saves` releases a protocol qubit, cheapest first.
RELEASES = ("hadamard", "reset")


@dataclass(frozen=True)
class DeferredForm:
    """The rewritten circuit and how to read its result back.

    :param circuit: what Aer runs once (``shots=1``); its density-matrix and
        probability saves are added by :func:`with_saves`.
    :param terminal: ``(wire, clbit)`` of each final measurement of the
        source circuit (``wire`` a qubit of :attr:`circuit`);
        ``save_probabilities`` covers the distinct wires in :attr:`measured` order.
    :param measured: the qubits of the terminal probabilities (index bit
        ``j`` is ``measured[j]``).
    :param reset_labels: labels of the checks saved at the releases.
    :param release: how protocol qubits are released (one of :data:`RELEASES`).
    """

    circuit: QuantumCircuit
    terminal: tuple[tuple[int, int], ...]
    measured: tuple[int, ...]
    reset_labels: tuple[str, ...] = field(default=())
    release: str = "reset"


def _source_clbits(circuit: QuantumCircuit) -> frozenset[int] | None:
    record = (circuit.metadata or {}).get("qdframe")
    if not isinstance(record, Mapping) or "source_clbits" not in record:
        return None
    return frozenset(int(b) for b in record["source_clbits"])


def _terminal_positions(circuit: QuantumCircuit) -> set[int]:
    """Positions of measurements after which neither their qubit nor their clbit is used."""
    touched: set[Qubit] = set()
    used: set[Clbit] = set()
    terminal: set[int] = set()
    for position in range(len(circuit.data) - 1, -1, -1):
        instruction = circuit.data[position]
        operation = instruction.operation
        if (
            operation.name == "measure"
            and instruction.qubits[0] not in touched
            and instruction.clbits[0] not in used
        ):
            terminal.add(position)
        if operation.name not in _OPAQUE:
            touched.update(instruction.qubits)
            used.update(instruction.clbits)
            for block in getattr(operation, "blocks", ()):
                used.update(block.clbits)
            condition = getattr(operation, "condition", None)
            if isinstance(condition, tuple) and isinstance(condition[0], Clbit):
                used.add(condition[0])
    return terminal


def _controlled(
    body: QuantumCircuit, outer: Sequence[Qubit], control: Qubit, state: int
) -> list[tuple[Instruction, list[Qubit]]] | str:
    """``body``'s gates controlled by ``control`` in ``state``, or why they cannot be."""
    out: list[tuple[Instruction, list[Qubit]]] = []
    where = {q: outer[i] for i, q in enumerate(body.qubits)}
    for instruction in body.data:
        operation = instruction.operation
        if operation.name in _OPAQUE:
            continue
        if instruction.clbits or getattr(operation, "blocks", ()):
            return f"a classically controlled block holds {operation.name!r}"
        targets = [where[q] for q in instruction.qubits]
        if control in targets:
            return "a correction acts on the qubit whose outcome controls it"
        try:
            gate = operation.control(1, ctrl_state=state)
        except Exception as exc:  # Qiskit raises several types for uncontrollable operations
            return f"{operation.name!r} has no controlled form ({exc})"
        out.append((gate, [control, *targets]))
    return out


def deferred_form(circuit: QuantumCircuit) -> DeferredForm | str:
    """The deferred-measurement form of a distributed circuit, or why there is none.

    :returns: a :class:`DeferredForm`, or a sentence saying why the circuit
        has to run shot by shot (not distributed, a mid-circuit measurement
        in the source circuit, an unsupported condition).
    """
    source = _source_clbits(circuit)
    if source is None:
        return "not a distributed circuit"
    terminal_at = _terminal_positions(circuit)
    index = {q: i for i, q in enumerate(circuit.qubits)}
    ops: list[LogicalOp] = []
    holder: dict[Clbit, Qubit] = {}  # protocol clbit -> qubit still holding its value
    for position, instruction in enumerate(circuit.data):
        operation = instruction.operation
        qubits = list(instruction.qubits)
        name = operation.name
        if name == "measure":
            clbit = instruction.clbits[0]
            bit = circuit.find_bit(clbit).index
            if position in terminal_at:
                if bit in source:
                    ops.append(LogicalOp(None, (index[qubits[0]],), bit))
                continue  # an unread protocol bit: its qubit is traced out
            if bit in source:
                return "the source circuit measures mid-circuit"
            _forget(holder, qubits)
            holder[clbit] = qubits[0]
            continue
        if name == "if_else":
            condition = operation.condition
            if not (isinstance(condition, tuple) and isinstance(condition[0], Clbit)):
                return "a condition on a register or an expression"
            clbit, value = condition
            control = holder.get(clbit)
            if control is None:
                return "a condition on a bit whose qubit changed after its measurement"
            true_body, false_body = (
                operation.blocks[0],
                (operation.blocks[1] if len(operation.blocks) > 1 else None),
            )
            for body, state in ((true_body, int(value)), (false_body, 1 - int(value))):
                if body is None:
                    continue
                gates = _controlled(body, qubits, control, state)
                if isinstance(gates, str):
                    return gates
                for gate, on in gates:
                    _forget(holder, on[1:])
                    ops.append(LogicalOp(gate, tuple(index[q] for q in on)))
            continue
        if getattr(operation, "blocks", ()) or instruction.clbits:
            return f"control flow or classical operation {name!r}"
        if name in _OPAQUE:
            continue
        _forget(holder, qubits)
        ops.append(LogicalOp(operation, tuple(index[q] for q in qubits)))
    out, terminal = narrow(ops, circuit.name)
    out.global_phase = circuit.global_phase
    measured = tuple(dict.fromkeys(q for q, _ in terminal))
    return DeferredForm(out, tuple(terminal), measured)


def with_saves(form: DeferredForm, prepared: QuantumCircuit, release: str) -> DeferredForm:
    """``form`` with ``prepared`` (its circuit decomposed for Aer) as the circuit,
    a check at every reset (released as ``release`` says) and the terminal
    probabilities at the end.

    The checks are added after decomposition, which may reorder operations
    on different qubits: a qubit's reduced state, and whether it is
    entangled, do not depend on that order.
    """
    from qiskit.circuit.library import HGate
    from qiskit.quantum_info import Pauli

    if release not in RELEASES:
        raise ValueError(f"release must be one of {', '.join(RELEASES)}, got {release!r}")
    out = prepared.copy_empty_like()
    labels: list[str] = []
    hadamard, z = HGate(), Pauli("Z")
    for instruction in prepared.data:
        if instruction.operation.name != "reset":
            out._append(instruction)
            continue
        label = f"{_RESET_PREFIX}{len(labels)}"
        labels.append(label)
        qubits = list(instruction.qubits)
        if release == "hadamard":
            out._append(hadamard, qubits, ())
            out.save_expectation_value(z, qubits, label=label)
        else:
            out.save_density_matrix(qubits, label=label)
            out._append(instruction)
    if form.measured:
        out.save_probabilities(list(form.measured), label=TERMINAL_LABEL)
    return DeferredForm(out, form.terminal, form.measured, tuple(labels), release)


def _forget(holder: dict[Clbit, Qubit], qubits: Sequence[Qubit]) -> None:
    """Drop the bits whose holding qubit an operation is about to change."""
    for clbit in [c for c, q in holder.items() if q in qubits]:
        del holder[clbit]


def resets_are_pure(form: DeferredForm, data: Mapping[str, Any]) -> bool:
    """Whether every release left its qubit in ``|0>`` whatever Aer drew."""
    for label in form.reset_labels:
        if form.release == "hadamard":
            if float(np.real(data[label])) < 1.0 - _PURITY_TOLERANCE:
                return False
            continue
        rho = np.asarray(data[label])
        purity = float(np.real(np.trace(rho @ rho)))
        if purity < 1.0 - _PURITY_TOLERANCE:
            return False
    return True
