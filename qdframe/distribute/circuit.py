"""Building the Qiskit circuit of a :class:`DistributedProgram`.

Registers: ``node<k>`` (quantum; node ``k``'s used data slots, then its used
communication qubits) and ``node<k>_bits`` (classical; one protocol bit per
qubit of the node), then the source circuit's own classical registers,
unchanged, so measurements of the source circuit keep their bits.

An EPR pair is the two-qubit gate :class:`EPRGate` (named ``"epr"``); applied
to two qubits in ``|00>`` it prepares ``(|00> + |11>)/sqrt(2)``. Counting
``"epr"`` instructions counts the pairs a program consumes. Corrections are
``if_test`` blocks on one protocol bit.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Gate, IfElseOp

from qdframe.distribute.program import OpKind

if TYPE_CHECKING:
    from qdframe.distribute.program import DistributedProgram

__all__ = ["EPR_GATE_NAME", "METADATA_KEY", "EPRGate", "build_circuit", "count_epr_pairs"]

EPR_GATE_NAME = "epr"

#: Key of the layout record in ``circuit.metadata``.
METADATA_KEY = "qdframe"


class EPRGate(Gate):  # type: ignore[misc]
    """Shares a Bell pair between two communication qubits (``H`` then ``CX`` on ``|00>``)."""

    def __init__(self, label: str | None = None) -> None:
        super().__init__(EPR_GATE_NAME, 2, [], label=label)

    def _define(self) -> None:
        definition = QuantumCircuit(2, name=EPR_GATE_NAME)
        definition.h(0)
        definition.cx(0, 1)
        self.definition = definition

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        matrix = _epr_matrix()
        return matrix if dtype is None else matrix.astype(dtype)


@lru_cache(maxsize=1)
def _epr_matrix() -> npt.NDArray[np.complex128]:
    from qiskit.quantum_info import Operator

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    matrix = np.asarray(Operator(circuit).data, dtype=np.complex128)
    matrix.flags.writeable = False
    return matrix


def _body(gate: str) -> QuantumCircuit:
    body = QuantumCircuit(1, 1)
    getattr(body, gate)(0)
    return body


def _free_name(wanted: str, taken: set[str]) -> str:
    name, k = wanted, 0
    while name in taken:
        k += 1
        name = f"{wanted}_{k}"
    taken.add(name)
    return name


def build_circuit(program: DistributedProgram) -> QuantumCircuit:
    """The Qiskit circuit of ``program`` (see the module docstring)."""
    source = program.circuit
    if source is None:  # pragma: no cover - guarded by DistributedProgram.to_circuit
        raise ValueError("program has no source circuit")
    layout = program.layout
    taken = {reg.name for reg in source.cregs}
    qregs: list[QuantumRegister] = []
    cregs: list[ClassicalRegister] = []
    for node in range(program.num_nodes):
        size = int(layout.node_offset[node + 1] - layout.node_offset[node])
        if size:
            qregs.append(QuantumRegister(size, _free_name(f"node{node}", taken)))
            cregs.append(ClassicalRegister(size, _free_name(f"node{node}_bits", taken)))
    circuit = QuantumCircuit(*qregs, *cregs, name=f"{source.name}_distributed")
    circuit.global_phase = source.global_phase
    for creg in source.cregs:
        circuit.add_register(creg)
    loose = [bit for bit in source.clbits if not source.find_bit(bit).registers]
    if loose:
        circuit.add_bits(loose)
    qubits = [bit for reg in qregs for bit in reg]
    protocol_bits = [bit for reg in cregs for bit in reg]
    epr = EPRGate()
    x_body, z_body = _body("x"), _body("z")
    data = source.data
    append = circuit.append
    kinds = program.kind.tolist()
    q0s, q1s = program.q0.tolist(), program.q1.tolist()
    clbits, sources = program.clbit.tolist(), program.source.tolist()
    for row, kind in enumerate(kinds):
        q0, q1 = q0s[row], q1s[row]
        if kind in (OpKind.GATE, OpKind.CUT):
            instruction = data[sources[row]]
            qargs = [qubits[q0]] if q1 < 0 else [qubits[q0], qubits[q1]]
            append(instruction.operation, qargs, instruction.clbits, copy=False)
        elif kind == OpKind.EPR:
            append(epr, [qubits[q0], qubits[q1]], [], copy=False)
        elif kind == OpKind.CX:
            circuit.cx(qubits[q0], qubits[q1])
        elif kind == OpKind.H:
            circuit.h(qubits[q0])
        elif kind == OpKind.MEASURE:
            circuit.measure(qubits[q0], protocol_bits[clbits[row]])
        elif kind == OpKind.RESET:
            circuit.reset(qubits[q0])
        else:
            bit = protocol_bits[clbits[row]]
            body = x_body if kind == OpKind.X_IF else z_body
            append(IfElseOp((bit, 1), body), [qubits[q0]], [bit], copy=False)
    metadata = layout_metadata(program)
    metadata["source_clbits"] = [circuit.find_bit(bit).index for bit in source.clbits]
    circuit.metadata = {METADATA_KEY: metadata}
    return circuit


def layout_metadata(program: DistributedProgram) -> dict[str, Any]:
    """What a verifier needs to read a distributed circuit: where data qubits are."""
    layout = program.layout
    return {
        "initial": layout.initial.tolist(),
        "final": layout.final.tolist(),
        "node_offset": layout.node_offset.tolist(),
        "node_data": layout.node_data.tolist(),
        "node_comm": layout.node_comm.tolist(),
        "ebits": program.ebits,
        "cut_instructions": program.source[program.kind == OpKind.CUT].tolist(),
    }


def count_epr_pairs(circuit: QuantumCircuit) -> int:
    """EPR pairs a circuit consumes: its ``"epr"`` instructions (control flow included)."""
    total = 0
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == EPR_GATE_NAME:
            total += 1
        for block in getattr(operation, "blocks", ()):
            total += count_epr_pairs(block)
    return total
