"""Compile a Qiskit circuit (and a noise model) into a :class:`Program`.

Compilation validates the circuit (unbound parameters, unsupported
operations, non-unitary matrices), reads every gate's matrix once, inlines
gates without a matrix through their definitions, turns ``if_test`` blocks
into conditional jumps, inserts noise channels, moves measurements that
nothing follows to the end (they are sampled from the final state) and fuses
the gates between non-unitary instructions into blocks.
"""

from __future__ import annotations

import cmath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Clbit, ControlFlowOp, Instruction, Qubit
from qiskit.circuit.library import get_standard_gate_name_mapping

from qdframe.plugin import InvalidCircuitError, NoiseModel
from qdframe_numpy.channels import channel_instructions
from qdframe_numpy.conditions import Condition, compile_condition
from qdframe_numpy.fusion import DEFAULT_MAX_DIAGONAL_QUBITS, CostModel, GateOp, fuse
from qdframe_numpy.matrices import (
    diagonal_of,
    gate_matrix,
    is_trusted,
    is_unitary,
    to_engine_order,
)
from qdframe_numpy.program import (
    ConditionalJump,
    Jump,
    Measure,
    Program,
    ReadoutFlip,
    Reset,
    TerminalMeasure,
)
from qdframe_numpy.program import (
    Instruction as EngineInstruction,
)

__all__ = ["SUPPORTED_OPERATIONS", "CompileOptions", "compile_circuit"]

#: Operation names executed directly; other gates run through their matrix
#: (``Gate.to_matrix``) or, failing that, their definition.
SUPPORTED_OPERATIONS: frozenset[str] = frozenset(get_standard_gate_name_mapping()) | {
    "unitary",
    "measure",
    "reset",
    "barrier",
    "delay",
    "if_else",
    "for_loop",
    "box",
    "global_phase",
    "initialize",
    "state_preparation",
}

_CONTROL_FLOW = frozenset({"if_else", "for_loop", "while_loop", "switch_case", "box"})


@dataclass(frozen=True)
class CompileOptions:
    """Settings of one compilation.

    :param backend: backend name, for messages.
    :param max_dense_qubits: widest dense block built by fusion.
    :param max_diagonal_qubits: widest diagonal block built by fusion.
    :param itemsize: bytes per amplitude (prices fusion).
    :param cost: the fusion cost model.
    """

    backend: str = "numpy"
    max_dense_qubits: int = 5
    max_diagonal_qubits: int = DEFAULT_MAX_DIAGONAL_QUBITS
    itemsize: int = 16
    cost: CostModel = field(default_factory=CostModel)


@dataclass(frozen=True)
class _Label:
    ident: int


@dataclass(frozen=True)
class _JumpTo:
    label: int


@dataclass(frozen=True)
class _JumpUnless:
    condition: Condition
    label: int


_Raw = GateOp | EngineInstruction | _Label | _JumpTo | _JumpUnless


def _unsupported(name: str, backend: str, why: str = "") -> InvalidCircuitError:
    detail = f" ({why})" if why else ""
    return InvalidCircuitError(
        f"operation {name!r} is not supported by backend {backend!r}{detail}; it runs "
        "standard gates, 'unitary', gates with a matrix or a definition, measure, reset, "
        "barrier, delay, if_else, for_loop and box"
    )


def _terminal_positions(circuit: QuantumCircuit) -> set[int]:
    """Top-level measurements after which nothing touches their qubit or bit.

    They commute with everything after them, so they are sampled from the
    final state instead of splitting the shots mid-circuit.
    """
    qubit_index = {q: i for i, q in enumerate(circuit.qubits)}
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    touched: set[int] = set()
    written: set[int] = set()
    control_later = False
    terminal: set[int] = set()
    for position in range(len(circuit.data) - 1, -1, -1):
        item = circuit.data[position]
        name = item.operation.name
        qubits = [qubit_index[q] for q in item.qubits]
        clbits = [clbit_index[c] for c in item.clbits]
        if name == "measure":
            if not control_later and qubits[0] not in touched and clbits[0] not in written:
                terminal.add(position)
                continue
        elif name == "barrier":
            continue
        if name in _CONTROL_FLOW or getattr(item.operation, "condition", None) is not None:
            control_later = True
        touched.update(qubits)
        written.update(clbits)
    return terminal


class _Emitter:
    def __init__(self, circuit: QuantumCircuit, noise: NoiseModel | None, options: CompileOptions):
        self.noise = noise if noise is not None and not noise.is_ideal else None
        self.options = options
        self.backend = options.backend
        self.items: list[_Raw] = []
        self.terminal: list[TerminalMeasure] = []
        self.global_phase = float(circuit.global_phase)
        self.num_qubits = circuit.num_qubits
        self.has_measurements = False
        self.has_noise = False
        self.gate_count = 0
        self._labels = 0
        # Inside a composite gate's definition: the composite is one instruction
        # for the noise model, so its parts get no noise of their own.
        self._inside_definition = 0

    def label(self) -> int:
        self._labels += 1
        return self._labels

    # -- noise ------------------------------------------------------------

    def _noise(self, name: str, qubits: Sequence[int]) -> None:
        if self.noise is None or self._inside_definition:
            return
        errors = self.noise.errors_for(name, qubits)
        if errors:
            made = channel_instructions(errors, qubits, self.backend)
            self.has_noise = self.has_noise or bool(made)
            self.items.extend(made)

    def _readout(self, qubit: int) -> tuple[float, float]:
        if self.noise is None:
            return 0.0, 0.0
        entry = self.noise.readout_for(qubit)
        if entry is None:
            return 0.0, 0.0
        self.has_noise = True
        return entry.prob_meas1_prep0, entry.prob_meas0_prep1

    # -- phases -----------------------------------------------------------

    def _phase(self, phase: float, qubits: Sequence[int], conditional: bool) -> None:
        if not phase:
            return
        anchor = qubits[0] if qubits else 0
        if not conditional or self.num_qubits == 0:
            # Outside control flow a global phase commutes with everything.
            self.global_phase += phase
            return
        # A conditional phase: a diagonal with equal entries on any one qubit.
        factor = cmath.exp(1j * phase)
        self.items.append(GateOp((anchor,), phases=np.array([factor, factor])))

    # -- circuit walk -----------------------------------------------------

    def emit(
        self,
        circuit: QuantumCircuit,
        qubit_map: Mapping[Qubit, int],
        clbit_map: Mapping[Clbit, int],
        *,
        terminal: set[int],
        conditional: bool,
    ) -> None:
        for position, item in enumerate(circuit.data):
            op = item.operation
            qubits = [qubit_map[q] for q in item.qubits]
            clbits = [clbit_map[c] for c in item.clbits]
            legacy = None if isinstance(op, ControlFlowOp) else getattr(op, "condition", None)
            if legacy is not None:
                skip = self.label()
                self.items.append(
                    _JumpUnless(compile_condition(legacy, clbit_map, self.backend), skip)
                )
                self._operation(op, qubits, clbits, clbit_map, False, True)
                self.items.append(_Label(skip))
                continue
            self._operation(op, qubits, clbits, clbit_map, position in terminal, conditional)

    def _body(
        self,
        body: QuantumCircuit,
        outer_qubits: Sequence[int],
        outer_clbits: Sequence[int],
    ) -> None:
        qubit_map = {q: outer_qubits[i] for i, q in enumerate(body.qubits)}
        clbit_map = {c: outer_clbits[i] for i, c in enumerate(body.clbits)}
        self._phase(float(body.global_phase), outer_qubits, True)
        self.emit(body, qubit_map, clbit_map, terminal=set(), conditional=True)

    def _operation(
        self,
        op: Instruction,
        qubits: list[int],
        clbits: list[int],
        clbit_map: Mapping[Clbit, int],
        terminal: bool,
        conditional: bool,
    ) -> None:
        name = op.name
        if name == "barrier":
            return
        if name == "delay":
            self._noise(name, qubits)
            return
        if name == "measure":
            self.has_measurements = True
            self._noise(name, qubits)
            p10, p01 = self._readout(qubits[0])
            if terminal:
                self.terminal.append(TerminalMeasure(qubits[0], clbits[0], p10, p01))
                return
            self.items.append(Measure(qubits[0], clbits[0]))
            if p10 or p01:
                self.items.append(ReadoutFlip(clbits[0], p10, p01))
            return
        if name == "reset":
            self.items.append(Reset(qubits[0]))
            self._noise(name, qubits)
            return
        if name == "if_else":
            self._if_else(op, qubits, clbits, clbit_map)
            return
        if name == "box":
            self._body(op.blocks[0], qubits, clbits)
            return
        if name == "for_loop":
            self._for_loop(op, qubits, clbits)
            return
        if name in _CONTROL_FLOW:
            raise _unsupported(name, self.backend, "loops with runtime conditions")
        if name == "global_phase":
            self._phase(float(op.params[0]), qubits, conditional)
            return
        self._gate(op, qubits, clbits, conditional)

    def _if_else(
        self,
        op: Instruction,
        qubits: list[int],
        clbits: list[int],
        clbit_map: Mapping[Clbit, int],
    ) -> None:
        condition = compile_condition(op.condition, clbit_map, self.backend)
        true_body, false_body = op.blocks[0], op.blocks[1] if len(op.blocks) > 1 else None
        otherwise = self.label()
        self.items.append(_JumpUnless(condition, otherwise))
        self._body(true_body, qubits, clbits)
        if false_body is None:
            self.items.append(_Label(otherwise))
            return
        end = self.label()
        self.items.append(_JumpTo(end))
        self.items.append(_Label(otherwise))
        self._body(false_body, qubits, clbits)
        self.items.append(_Label(end))

    def _for_loop(self, op: Instruction, qubits: list[int], clbits: list[int]) -> None:
        indexset, parameter, body = op.params
        for value in indexset:
            bound = body if parameter is None else body.assign_parameters({parameter: value})
            self._body(bound, qubits, clbits)

    def _gate(
        self, op: Instruction, qubits: list[int], clbits: list[int], conditional: bool
    ) -> None:
        name = op.name
        matrix = gate_matrix(op)
        if matrix is None:
            definition = op.definition
            if definition is None:
                raise _unsupported(name, self.backend, "it has neither a matrix nor a definition")
            qubit_map = {q: qubits[i] for i, q in enumerate(definition.qubits)}
            clbit_map = {c: clbits[i] for i, c in enumerate(definition.clbits)}
            self._phase(float(definition.global_phase), qubits, conditional)
            self._inside_definition += 1
            try:
                self.emit(definition, qubit_map, clbit_map, terminal=set(), conditional=conditional)
            finally:
                self._inside_definition -= 1
            self._noise(name, qubits)
            return
        size = 1 << len(qubits)
        if matrix.shape != (size, size):
            raise InvalidCircuitError(
                f"operation {name!r} acts on {len(qubits)} qubit(s) but its matrix has shape "
                f"{matrix.shape}; expected ({size}, {size})"
            )
        if not is_trusted(op) and not is_unitary(matrix):
            error = float(np.max(np.abs(matrix.conj().T @ matrix - np.eye(size))))
            raise InvalidCircuitError(
                f"operation {name!r} on qubits {qubits} is not unitary "
                f"(largest entry of U†U - I is {error:.3g}); backend {self.backend!r} "
                "runs unitary gates only"
            )
        self.gate_count += 1
        order, engine_matrix = to_engine_order(matrix, qubits)
        phases = diagonal_of(engine_matrix)
        if phases is not None:
            if not np.all(phases == 1):
                self.items.append(GateOp(order, phases=phases))
        else:
            self.items.append(GateOp(order, matrix=engine_matrix))
        self._noise(name, qubits)


def _fuse_and_link(
    raw: list[_Raw], num_qubits: int, options: CompileOptions
) -> list[EngineInstruction]:
    linked: list[EngineInstruction | _Label | _JumpTo | _JumpUnless] = []
    run: list[GateOp] = []

    def flush() -> None:
        if run:
            linked.extend(
                fuse(
                    run,
                    num_qubits,
                    itemsize=options.itemsize,
                    max_dense_qubits=options.max_dense_qubits,
                    max_diagonal_qubits=options.max_diagonal_qubits,
                    cost=options.cost,
                )
            )
            run.clear()

    for item in raw:
        if isinstance(item, GateOp):
            run.append(item)
        else:
            flush()
            linked.append(item)
    flush()

    positions: dict[int, int] = {}
    count = 0
    for item in linked:
        if isinstance(item, _Label):
            positions[item.ident] = count
        else:
            count += 1
    program: list[EngineInstruction] = []
    for item in linked:
        if isinstance(item, _Label):
            continue
        if isinstance(item, _JumpTo):
            program.append(Jump(positions[item.label]))
        elif isinstance(item, _JumpUnless):
            program.append(ConditionalJump(item.condition, positions[item.label]))
        else:
            program.append(item)
    return program


def compile_circuit(
    circuit: QuantumCircuit,
    noise: NoiseModel | None = None,
    options: CompileOptions | None = None,
) -> Program:
    """Validate and compile ``circuit`` for the engine.

    :raises InvalidCircuitError: unbound parameters, an unsupported operation,
        a non-unitary matrix or an unsupported classical condition.
    """
    settings = options if options is not None else CompileOptions()
    if not isinstance(circuit, QuantumCircuit):
        raise InvalidCircuitError(
            f"backend {settings.backend!r} runs qiskit.QuantumCircuit objects, "
            f"got {type(circuit).__name__}"
        )
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters))
        raise InvalidCircuitError(
            f"circuit {circuit.name!r} has unbound parameters: {names}; bind them with "
            "circuit.assign_parameters({...}) before running"
        )
    emitter = _Emitter(circuit, noise, settings)
    emitter.emit(
        circuit,
        {q: i for i, q in enumerate(circuit.qubits)},
        {c: i for i, c in enumerate(circuit.clbits)},
        terminal=_terminal_positions(circuit),
        conditional=False,
    )
    instructions = _fuse_and_link(emitter.items, circuit.num_qubits, settings)
    return Program(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        instructions=instructions,
        terminal=emitter.terminal,
        global_phase=emitter.global_phase,
        has_measurements=emitter.has_measurements,
        has_noise=emitter.has_noise,
        gate_count=emitter.gate_count,
    )
