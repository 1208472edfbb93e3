"""Exact simulation over every measurement history, with histories merged.

:func:`simulate_histories` runs a circuit with mid-circuit measurements,
resets and ``if_test`` blocks *exactly*: at a measurement the state splits
into one history per possible outcome (with its probability), so the result
is the full ensemble of (probability, classical record, final state). The
number of histories stays small for distributed circuits because histories
are merged as soon as they cannot be told apart again: same values in every
classical bit still to be read (liveness is computed once, backwards), same
qubits in use and states equal up to a global phase. A protocol's
corrections make its histories equal, so after each protocol they collapse
back to one; a distributed run costs one simulation, whatever its shots.

Two things keep each history small:

* *Qubits join the state only while they are in use.* A qubit is a tensor
  axis from the first gate that touches it until a measurement or reset
  leaves it in a basis state; then the axis is dropped and its value kept as
  a classical bit. Communication qubits are in use only inside a protocol,
  so a history holds the data qubits plus the few communication qubits busy
  at that moment, not every physical qubit.
* *Terminal measurements are not simulated*: a measurement after which
  nothing touches its qubit or bit is left to the caller (sampled from the
  final state, or compared as the state before it).

Every history may carry a *reference* axis that no gate touches: its length
``R`` is 1 for a pure input and ``2**d`` for the Choi state of ``d`` input
qubits (each maximally entangled with the reference), which is how
:mod:`qdframe.verification` sees a program's action on every input at once.

Conditions supported: ``(clbit, value)``, ``(register, value)`` and
classical expressions over bits and registers (``qiskit.circuit.classical.expr``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction, ClassicalRegister, Clbit

from qdframe.errors import CircuitError, ResourceError

__all__ = [
    "Branch",
    "History",
    "Simulation",
    "simulate_branches",
    "simulate_histories",
    "terminal_measurements",
]

Complex = npt.NDArray[np.complex128]

#: Two normalised states are the same ray when ``|<a|b>|`` is this close to 1.
_SAME_RAY = 1e-9
#: Outcomes with less probability than this are dropped.
_NEGLIGIBLE = 1e-14
_SKIP = frozenset({"barrier", "delay", "id"})


@dataclass
class History:
    """One measurement history (or several merged ones).

    :param probability: its probability.
    :param bits: classical bits, bit ``i`` is the circuit's clbit ``i``.
    :param active: qubits in use; axis ``j`` of ``tensor`` is qubit ``active[j]``.
    :param fixed: basis value of every qubit not in use (bit ``q`` for qubit ``q``).
    :param tensor: normalised amplitudes, shape ``(2,) * len(active) + (R,)``;
        the last axis is the reference, which no gate touches.
    """

    probability: float
    bits: int
    active: tuple[int, ...]
    fixed: int
    tensor: Complex

    def copy_with(self, probability: float, bits: int, tensor: Complex) -> History:
        return History(probability, bits, self.active, self.fixed, tensor)

    @property
    def width(self) -> int:
        """Qubits in use."""
        return len(self.active)

    def statevector(self, num_qubits: int) -> Complex:
        """The full ``2**num_qubits`` state (Qiskit order), reference column 0."""
        return self.matrix(list(range(num_qubits)))[:, 0]

    def matrix(self, qubits: Sequence[int]) -> Complex:
        """Amplitudes as a matrix: rows ``(qubits, reference)``, columns the other qubits in use.

        Rows are indexed by ``sum(bit(qubits[j]) << j) * R + r``; qubits not in
        use contribute their basis value, and qubits in use but not listed
        become columns (they are traced out by ``M @ M^†``).
        """
        tensor = self.tensor
        active = list(self.active)
        width = len(active)
        reference = tensor.shape[-1]
        wanted = list(qubits)
        for q in wanted:
            if q not in self.active:
                value = (self.fixed >> q) & 1
                grown = np.zeros((*tensor.shape[:-1], 2, reference), dtype=tensor.dtype)
                grown[..., value, :] = tensor
                tensor = grown
                active.append(q)
        width = len(active)
        rows = [active.index(q) for q in reversed(wanted)]
        rest = [j for j in range(width) if j not in rows]
        moved = np.transpose(tensor, [*rows, width, *rest])
        return np.ascontiguousarray(moved).reshape((1 << len(wanted)) * reference, 1 << len(rest))


#: The former name of :class:`History` (full states via :meth:`History.statevector`).
Branch = History


@dataclass
class Simulation:
    """The histories at the end of a circuit, and what was left to the caller.

    :param histories: the merged histories.
    :param terminal: ``(qubit, clbit)`` of each terminal measurement, not simulated.
    :param peak_histories: most histories alive at once.
    :param peak_width: most qubits in use in one history (reference included).
    :param peak_bytes: most bytes of amplitudes alive at once.
    :param merges: histories merged into another.
    """

    histories: list[History]
    terminal: list[tuple[int, int]] = field(default_factory=list)
    peak_histories: int = 1
    peak_width: int = 0
    peak_bytes: int = 0
    merges: int = 0


@dataclass(frozen=True)
class _Step:
    """A flattened top-level instruction with bit positions resolved."""

    operation: Any
    qubits: tuple[int, ...]
    clbits: tuple[int, ...]


@dataclass(frozen=True)
class _Gate:
    matrix: Complex
    diagonal: Complex | None


def _reference_qubits(tensor: Complex) -> int:
    return int(tensor.shape[-1]).bit_length() - 1


class _Simulator:
    def __init__(self, circuit: QuantumCircuit, max_width: int) -> None:
        self.circuit = circuit
        self.max_width = max_width
        self.clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
        self.qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
        self._gates: dict[tuple[Any, ...], _Gate] = {}
        self.peak_width = 0

    # ----------------------------------------------------------- gates

    def gate(self, operation: Any) -> _Gate:
        try:
            key: tuple[Any, ...] | None = (
                operation.name,
                type(operation).__name__,
                tuple(float(p) for p in operation.params),
            )
        except (TypeError, ValueError):
            key = None
        if key is not None and key in self._gates:
            return self._gates[key]
        try:
            matrix = np.asarray(operation.to_matrix(), dtype=np.complex128)
        except Exception:
            try:
                from qiskit.quantum_info import Operator

                matrix = np.asarray(Operator(operation).data, dtype=np.complex128)
            except Exception as exc:
                raise CircuitError(
                    f"cannot simulate operation {operation.name!r} exactly: {exc}"
                ) from None
        off = matrix - np.diag(np.diag(matrix))
        diagonal = np.diag(matrix).copy() if not np.any(off) else None
        made = _Gate(matrix, diagonal)
        if key is not None:
            self._gates[key] = made
        return made

    def activate(self, history: History, qubits: Sequence[int]) -> None:
        for q in qubits:
            if q in history.active:
                continue
            tensor = history.tensor
            # Checked before allocating: the grown state is twice the size.
            width = len(history.active) + 1 + _reference_qubits(tensor)
            if width > self.max_width:
                raise ResourceError(
                    f"exact simulation needs {width} qubits at once, reference included "
                    f"(limit {self.max_width}, {(16 << width) / 2**30:.1f} GiB per history); "
                    "use the randomised method or sampled verification"
                )
            grown = np.zeros((*tensor.shape[:-1], 2, tensor.shape[-1]), dtype=tensor.dtype)
            grown[..., (history.fixed >> q) & 1, :] = tensor
            history.tensor = grown
            history.active = (*history.active, q)
            history.fixed &= ~(1 << q)
            self.peak_width = max(self.peak_width, width)

    def apply(self, history: History, operation: Any, qubits: Sequence[int]) -> None:
        gate = self.gate(operation)
        self.activate(history, qubits)
        active = history.active
        k = len(qubits)
        # Axes of the gate's qubits, most significant (qubits[k-1]) first.
        axes = [active.index(q) for q in reversed(qubits)]
        tensor = history.tensor
        if gate.diagonal is not None:
            shape = [1] * tensor.ndim
            factor = gate.diagonal.reshape((2,) * k)
            order = np.argsort(axes)
            factor = np.transpose(factor, order)
            for a in axes:
                shape[a] = 2
            history.tensor = tensor * factor.reshape(shape)
            return
        matrix = gate.matrix.reshape((2,) * (2 * k))
        moved = np.tensordot(matrix, tensor, axes=(list(range(k, 2 * k)), axes))
        history.tensor = np.moveaxis(moved, list(range(k)), axes)

    # ----------------------------------------------------------- classical

    def condition(self, condition: Any, bits: int, clbits: dict[Any, int]) -> bool:
        if isinstance(condition, tuple):
            target, value = condition
            return self._value(target, bits, clbits) == int(value)
        return bool(self._expr(condition, bits, clbits))

    def _value(self, target: Any, bits: int, clbits: dict[Any, int]) -> int:
        if isinstance(target, Clbit):
            return (bits >> clbits[target]) & 1
        if isinstance(target, ClassicalRegister):
            return sum(((bits >> clbits[b]) & 1) << i for i, b in enumerate(target))
        raise CircuitError(f"unsupported condition target {target!r}")

    def _expr(self, node: Any, bits: int, clbits: dict[Any, int]) -> int | bool:
        from qiskit.circuit.classical import expr

        if isinstance(node, expr.Var):
            return self._value(node.var, bits, clbits)
        if isinstance(node, expr.Value):
            return node.value  # type: ignore[no-any-return]
        if isinstance(node, expr.Cast):
            inner = self._expr(node.operand, bits, clbits)
            return bool(inner) if node.type.kind is expr.types.Bool else int(inner)
        if isinstance(node, expr.Unary):
            value = self._expr(node.operand, bits, clbits)
            if node.op is expr.Unary.Op.LOGIC_NOT:
                return not value
            if node.op is expr.Unary.Op.BIT_NOT:
                width = getattr(node.type, "width", 1)
                return (~int(value)) & ((1 << width) - 1) if width else not value
        if isinstance(node, expr.Binary):
            left = self._expr(node.left, bits, clbits)
            right = self._expr(node.right, bits, clbits)
            ops = expr.Binary.Op
            table = {
                ops.BIT_AND: lambda a, b: a & b,
                ops.BIT_OR: lambda a, b: a | b,
                ops.BIT_XOR: lambda a, b: a ^ b,
                ops.LOGIC_AND: lambda a, b: bool(a) and bool(b),
                ops.LOGIC_OR: lambda a, b: bool(a) or bool(b),
                ops.EQUAL: lambda a, b: a == b,
                ops.NOT_EQUAL: lambda a, b: a != b,
                ops.LESS: lambda a, b: a < b,
                ops.LESS_EQUAL: lambda a, b: a <= b,
                ops.GREATER: lambda a, b: a > b,
                ops.GREATER_EQUAL: lambda a, b: a >= b,
            }
            if node.op in table:
                result: int | bool = table[node.op](left, right)  # type: ignore[no-untyped-call]
                return result
        raise CircuitError(f"unsupported classical expression {node!r} in a condition")

    # ----------------------------------------------------------- execution

    def run_instruction(
        self,
        history: History,
        operation: Any,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
        bit_map: dict[Any, int],
    ) -> list[History]:
        name = operation.name
        if name in _SKIP:
            return [history]
        if name == "measure":
            return self._measure(history, qubits[0], clbits[0], reset=False)
        if name == "reset":
            return self._measure(history, qubits[0], -1, reset=True)
        if name == "if_else":
            taken = self.condition(operation.condition, history.bits, bit_map)
            blocks = operation.blocks
            if taken:
                block = blocks[0]
            elif len(blocks) > 1 and blocks[1] is not None:
                block = blocks[1]
            else:
                return [history]
            return self.run_block(history, block, qubits, clbits)
        if getattr(operation, "blocks", None):
            raise CircuitError(f"control flow {name!r} is not supported by exact simulation")
        if name == "global_phase":
            history.tensor = history.tensor * complex(np.exp(1j * float(operation.params[0])))
            return [history]
        self.apply(history, operation, qubits)
        return [history]

    def run_block(
        self,
        history: History,
        block: QuantumCircuit,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
    ) -> list[History]:
        inner_q = {bit: qubits[i] for i, bit in enumerate(block.qubits)}
        inner_c = {bit: clbits[i] for i, bit in enumerate(block.clbits)}
        # Conditions inside the block name outer bits by the block's own bits.
        bit_map = dict(self.clbit_index)
        bit_map.update(inner_c)
        if block.global_phase:
            history.tensor = history.tensor * complex(np.exp(1j * float(block.global_phase)))
        histories = [history]
        for instruction in block.data:
            step_q = tuple(inner_q[q] for q in instruction.qubits)
            step_c = tuple(inner_c[c] for c in instruction.clbits)
            following: list[History] = []
            for current in histories:
                following.extend(
                    self.run_instruction(current, instruction.operation, step_q, step_c, bit_map)
                )
            histories = following
        return histories

    def _measure(self, history: History, qubit: int, clbit: int, *, reset: bool) -> list[History]:
        def written(bits: int, outcome: int) -> int:
            if clbit < 0:
                return bits
            return (bits & ~(1 << clbit)) | (outcome << clbit)

        if qubit not in history.active:
            value = (history.fixed >> qubit) & 1
            history.bits = written(history.bits, value)
            if reset:
                history.fixed &= ~(1 << qubit)
            return [history]
        axis = history.active.index(qubit)
        tensor = history.tensor
        halves = [np.take(tensor, k, axis=axis) for k in (0, 1)]
        weights = [float(np.vdot(h, h).real) for h in halves]
        total = weights[0] + weights[1]
        remaining = history.active[:axis] + history.active[axis + 1 :]
        out: list[History] = []
        for outcome in (0, 1):
            p = weights[outcome] / total
            if p < _NEGLIGIBLE:
                continue
            value = 0 if reset else outcome
            fixed = (history.fixed & ~(1 << qubit)) | (value << qubit)
            out.append(
                History(
                    history.probability * p,
                    written(history.bits, outcome),
                    remaining,
                    fixed,
                    halves[outcome] / math.sqrt(weights[outcome]),
                )
            )
        return out


def _reads_writes(
    operation: Any, clbits: tuple[int, ...], index: dict[Any, int]
) -> tuple[int, int]:
    """(bits read, bits surely written) by one top-level instruction, as masks."""
    name = operation.name
    if name == "measure":
        return 0, 1 << clbits[0]
    reads = 0
    if getattr(operation, "blocks", None):
        # A block may read or write any bit it is given; reading is the safe
        # assumption, and nothing it writes is certain.
        for c in clbits:
            reads |= 1 << c
        condition = getattr(operation, "condition", None)
        if condition is not None:
            reads |= _condition_mask(condition, index)
    return reads, 0


def _condition_mask(condition: Any, index: dict[Any, int]) -> int:
    from qiskit.circuit.classical import expr

    mask = 0
    if isinstance(condition, tuple):
        target = condition[0]
        bits = [target] if isinstance(target, Clbit) else list(target)
        for bit in bits:
            mask |= 1 << index[bit]
        return mask
    for var in expr.iter_vars(condition):
        target = var.var
        bits = [target] if isinstance(target, Clbit) else list(target)
        for bit in bits:
            mask |= 1 << index[bit]
    return mask


def terminal_measurements(circuit: QuantumCircuit) -> list[int]:
    """Positions of top-level measurements after which nothing touches their qubit or bit.

    Such a measurement commutes with everything after it, so it can be taken
    from the final state instead of splitting the histories.
    """
    qubit_index = {q: i for i, q in enumerate(circuit.qubits)}
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    touched: set[int] = set()
    used_bits = 0
    found: list[int] = []
    for position in range(len(circuit.data) - 1, -1, -1):
        item = circuit.data[position]
        operation = item.operation
        qubits = [qubit_index[q] for q in item.qubits]
        clbits = [clbit_index[c] for c in item.clbits]
        if operation.name == "measure":
            if qubits[0] not in touched and not (used_bits >> clbits[0]) & 1:
                found.append(position)
                # A later measurement of the same bit would overwrite it; none is later.
                used_bits |= 1 << clbits[0]
                touched.add(qubits[0])
                continue
        elif operation.name == "barrier":
            continue
        touched.update(qubits)
        for c in clbits:
            used_bits |= 1 << c
        condition = getattr(operation, "condition", None)
        if condition is not None:
            used_bits |= _condition_mask(condition, clbit_index)
    found.reverse()
    return found


def _merge(histories: list[History], live: int) -> tuple[list[History], int]:
    """Merge histories with equal live bits whose states are the same ray."""
    groups: dict[tuple[int, tuple[int, ...], int], list[History]] = {}
    for history in histories:
        key = (history.bits & live, history.active, history.fixed)
        groups.setdefault(key, []).append(history)
    merged: list[History] = []
    merges = 0
    for members in groups.values():
        kept: list[History] = []
        for history in members:
            for other in kept:
                overlap = abs(np.vdot(other.tensor, history.tensor))
                if overlap > 1.0 - _SAME_RAY:
                    other.probability += history.probability
                    merges += 1
                    break
            else:
                kept.append(history)
        merged.extend(kept)
    return merged, merges


def simulate_histories(
    circuit: QuantumCircuit,
    *,
    record: Sequence[int] | None = None,
    initial: Complex | None = None,
    initial_qubits: Sequence[int] = (),
    skip: Collection[int] = (),
    skip_terminal: bool = False,
    max_width: int = 26,
    max_histories: int = 64,
    max_bytes: int | None = None,
) -> Simulation:
    """Every measurement history of ``circuit``, merged (see the module docstring).

    :param record: clbit positions whose values are part of the result (kept
        apart even when nothing reads them later); all clbits by default.
    :param initial: the starting amplitudes of ``initial_qubits``, shape
        ``(2**k, R)`` (row index ``sum(bit(initial_qubits[j]) << j)``; ``R``
        reference columns); the other qubits start in ``|0>``. Default: ``|0...0>``.
    :param initial_qubits: the qubits ``initial`` describes.
    :param skip: positions of top-level measurements to leave to the caller
        (listed in :attr:`Simulation.terminal`); they must be terminal.
    :param skip_terminal: leave every terminal measurement (see
        :func:`terminal_measurements`) to the caller; they are listed in
        :attr:`Simulation.terminal`.
    :param max_width: refuse when more qubits than this are in use at once.
    :param max_histories: refuse when more histories than this stay distinct.
    :param max_bytes: refuse when the histories' amplitudes would exceed this.
    :raises ResourceError: a limit was reached.
    :raises CircuitError: an operation cannot be simulated exactly.
    """
    sim = _Simulator(circuit, max_width)
    recorded = range(circuit.num_clbits) if record is None else record
    record_mask = 0
    for c in recorded:
        record_mask |= 1 << int(c)
    skipped = set(terminal_measurements(circuit)) if skip_terminal else set(skip)
    steps: list[_Step] = []
    terminal: list[tuple[int, int]] = []
    for position, instruction in enumerate(circuit.data):
        assert isinstance(instruction, CircuitInstruction)
        step = _Step(
            instruction.operation,
            tuple(sim.qubit_index[q] for q in instruction.qubits),
            tuple(sim.clbit_index[c] for c in instruction.clbits),
        )
        if position in skipped:
            terminal.append((step.qubits[0], step.clbits[0]))
            continue
        steps.append(step)
    # live[i]: bits read after step i before being overwritten (plus the record).
    live = [0] * len(steps)
    after = record_mask
    for i in range(len(steps) - 1, -1, -1):
        live[i] = after
        reads, writes = _reads_writes(steps[i].operation, steps[i].clbits, sim.clbit_index)
        after = reads | (after & ~writes)
    if initial is None:
        tensor = np.ones((1,), dtype=np.complex128)
        active: tuple[int, ...] = ()
    else:
        k = len(initial_qubits)
        amplitudes = np.asarray(initial, dtype=np.complex128)
        if amplitudes.ndim == 1:
            amplitudes = amplitudes[:, None]
        if amplitudes.shape[0] != 1 << k:
            raise CircuitError(
                f"initial amplitudes have {amplitudes.shape[0]} rows for {k} qubits; "
                f"expected {1 << k}"
            )
        # Row index bit j is initial_qubits[j]; C order puts the highest bit first.
        tensor = amplitudes.reshape((2,) * k + (amplitudes.shape[1],))
        active = tuple(int(q) for q in reversed(initial_qubits))
        norm = math.sqrt(float(np.vdot(tensor, tensor).real))
        tensor = tensor / norm
    if circuit.global_phase:
        tensor = tensor * complex(np.exp(1j * float(circuit.global_phase)))
    histories = [History(1.0, 0, active, 0, tensor)]
    sim.peak_width = len(active) + _reference_qubits(tensor)
    if sim.peak_width > max_width:
        raise ResourceError(
            f"exact simulation starts with {sim.peak_width} qubits, reference included "
            f"(limit {max_width}); use the randomised method or sampled verification"
        )
    result = Simulation(histories, terminal, peak_width=sim.peak_width)
    for i, step in enumerate(steps):
        following: list[History] = []
        for history in histories:
            following.extend(
                sim.run_instruction(
                    history, step.operation, step.qubits, step.clbits, sim.clbit_index
                )
            )
        if len(following) > 1:
            histories, merges = _merge(following, live[i])
            result.merges += merges
        else:
            histories = following
        alive = sum(h.tensor.nbytes for h in histories)
        result.peak_bytes = max(result.peak_bytes, alive)
        result.peak_histories = max(result.peak_histories, len(histories))
        if len(histories) > max_histories:
            raise ResourceError(
                f"exact simulation keeps {len(histories)} distinct measurement histories "
                f"(limit {max_histories}); use the randomised method or sampled verification"
            )
        if max_bytes is not None and alive > max_bytes:
            raise ResourceError(
                f"exact simulation holds {alive} bytes of amplitudes (limit {max_bytes})"
            )
    result.histories = histories
    result.peak_width = sim.peak_width
    return result


def simulate_branches(
    circuit: QuantumCircuit,
    *,
    record: Sequence[int] | None = None,
    max_qubits: int = 24,
    max_branches: int = 4096,
) -> list[History]:
    """Every measurement history of ``circuit`` from ``|0...0>``, merged.

    The histories' full states come from :meth:`History.statevector`.

    :raises ResourceError: the circuit is too wide or histories too many.
    """
    return simulate_histories(
        circuit, record=record, max_width=max_qubits, max_histories=max_branches
    ).histories
