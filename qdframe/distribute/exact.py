"""Exact simulation over every measurement history, with histories merged.

:func:`simulate_branches` runs a circuit with mid-circuit measurements,
resets and ``if_test`` blocks *exactly*: at a measurement the state splits
into one branch per possible outcome (with its probability), so the result
is the full ensemble of (probability, classical record, final state). The
number of branches stays small for distributed circuits because branches
are merged as soon as they cannot be told apart again: same remaining
program, same values in every classical bit still to be read (liveness is
computed once, backwards), and states equal up to a global phase. A
protocol's corrections make its branches equal, so after each protocol the
branches collapse back to one.

Conditions supported: ``(clbit, value)``, ``(register, value)`` and
classical expressions over bits and registers (``qiskit.circuit.classical.expr``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction, ClassicalRegister, Clbit

from qdframe.errors import CircuitError, ResourceError

__all__ = ["Branch", "simulate_branches"]

Complex = npt.NDArray[np.complex128]

#: Two normalised states are the same ray when ``|<a|b>|`` is this close to 1.
_SAME_RAY = 1e-9
#: Outcomes with less probability than this are dropped.
_NEGLIGIBLE = 1e-14
_SKIP = frozenset({"barrier", "delay", "id"})


@dataclass
class Branch:
    """One measurement history: its probability, classical bits and state.

    ``bits`` is an integer whose bit ``i`` is the circuit's clbit ``i``;
    ``state`` is the normalised statevector in Qiskit's qubit order.
    """

    probability: float
    bits: int
    state: Complex


@dataclass(frozen=True)
class _Step:
    """A flattened top-level instruction with bit positions resolved."""

    operation: Any
    qubits: tuple[int, ...]
    clbits: tuple[int, ...]


class _Simulator:
    def __init__(self, circuit: QuantumCircuit) -> None:
        self.circuit = circuit
        self.n = circuit.num_qubits
        self.clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
        self.qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
        self._matrices: dict[tuple[Any, ...], Complex] = {}

    # ----------------------------------------------------------- gates

    def matrix(self, operation: Any) -> Complex:
        try:
            key: tuple[Any, ...] | None = (
                operation.name,
                type(operation).__name__,
                tuple(float(p) for p in operation.params),
            )
        except (TypeError, ValueError):
            key = None
        if key is not None and key in self._matrices:
            return self._matrices[key]
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
        if key is not None:
            self._matrices[key] = matrix
        return matrix

    def apply(self, state: Complex, matrix: Complex, qubits: Sequence[int]) -> Complex:
        """``matrix`` (Qiskit order: ``qubits[0]`` least significant) on ``state``.

        One- and two-qubit gates use elementwise arithmetic on strided views,
        which stays single-threaded and avoids BLAS start-up costs on the
        small matrices protocols use.
        """
        n, k = self.n, len(qubits)
        if k == 1:
            q = qubits[0]
            view = state.reshape(1 << (n - 1 - q), 2, 1 << q)
            s0, s1 = view[:, 0, :], view[:, 1, :]
            out = np.empty_like(view)
            out[:, 0, :] = matrix[0, 0] * s0 + matrix[0, 1] * s1
            out[:, 1, :] = matrix[1, 0] * s0 + matrix[1, 1] * s1
            return out.reshape(-1)
        if k == 2:
            lo, hi = sorted(qubits)
            view = state.reshape(1 << (n - 1 - hi), 2, 1 << (hi - lo - 1), 2, 1 << lo)
            # index of a basis state in the matrix: bit 0 from qubits[0], bit 1 from qubits[1]
            first_is_low = qubits[0] == lo
            parts = []
            for index in range(4):
                b0, b1 = index & 1, index >> 1
                low, high = (b0, b1) if first_is_low else (b1, b0)
                parts.append(view[:, high, :, low, :])
            out = np.empty_like(view)
            for index in range(4):
                b0, b1 = index & 1, index >> 1
                low, high = (b0, b1) if first_is_low else (b1, b0)
                row = matrix[index]
                out[:, high, :, low, :] = (
                    row[0] * parts[0] + row[1] * parts[1] + row[2] * parts[2] + row[3] * parts[3]
                )
            return out.reshape(-1)
        tensor = state.reshape((2,) * n)
        axes = [n - 1 - q for q in reversed(qubits)]  # most significant first
        gate = matrix.reshape((2,) * (2 * k))
        moved = np.tensordot(gate, tensor, axes=(list(range(k, 2 * k)), axes))
        return np.moveaxis(moved, list(range(k)), axes).reshape(-1)

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
        branch: Branch,
        operation: Any,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
        bit_map: dict[Any, int],
    ) -> list[Branch]:
        name = operation.name
        if name in _SKIP:
            return [branch]
        if name == "measure":
            return self._measure(branch, qubits[0], clbits[0], reset=False)
        if name == "reset":
            return self._measure(branch, qubits[0], -1, reset=True)
        if name == "if_else":
            taken = self.condition(operation.condition, branch.bits, bit_map)
            blocks = operation.blocks
            if taken:
                block = blocks[0]
            elif len(blocks) > 1 and blocks[1] is not None:
                block = blocks[1]
            else:
                return [branch]
            return self.run_block(branch, block, qubits, clbits)
        if getattr(operation, "blocks", None):
            raise CircuitError(f"control flow {name!r} is not supported by exact simulation")
        if name == "global_phase":
            branch.state = branch.state * complex(np.exp(1j * float(operation.params[0])))
            return [branch]
        branch.state = self.apply(branch.state, self.matrix(operation), qubits)
        return [branch]

    def run_block(
        self,
        branch: Branch,
        block: QuantumCircuit,
        qubits: tuple[int, ...],
        clbits: tuple[int, ...],
    ) -> list[Branch]:
        inner_q = {bit: qubits[i] for i, bit in enumerate(block.qubits)}
        inner_c = {bit: clbits[i] for i, bit in enumerate(block.clbits)}
        # Conditions inside the block name outer bits by the block's own bits.
        bit_map = dict(self.clbit_index)
        bit_map.update(inner_c)
        branches = [branch]
        if block.global_phase:
            branch.state = branch.state * complex(np.exp(1j * float(block.global_phase)))
        for instruction in block.data:
            step_q = tuple(inner_q[q] for q in instruction.qubits)
            step_c = tuple(inner_c[c] for c in instruction.clbits)
            following: list[Branch] = []
            for current in branches:
                following.extend(
                    self.run_instruction(current, instruction.operation, step_q, step_c, bit_map)
                )
            branches = following
        return branches

    def _measure(self, branch: Branch, qubit: int, clbit: int, *, reset: bool) -> list[Branch]:
        state = branch.state.reshape(1 << (self.n - 1 - qubit), 2, 1 << qubit)
        weights = [float(np.sum(np.abs(state[:, k, :]) ** 2)) for k in (0, 1)]
        total = weights[0] + weights[1]
        out: list[Branch] = []
        for outcome in (0, 1):
            p = weights[outcome] / total
            if p < _NEGLIGIBLE:
                continue
            projected = np.zeros_like(state)
            target = 0 if reset else outcome
            projected[:, target, :] = state[:, outcome, :] / math.sqrt(weights[outcome])
            bits = branch.bits
            if clbit >= 0:
                bits = (bits & ~(1 << clbit)) | (outcome << clbit)
            out.append(Branch(branch.probability * p, bits, projected.reshape(-1)))
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


def _merge(branches: list[Branch], live: int) -> list[Branch]:
    """Merge branches with equal live bits whose states are the same ray."""
    if len(branches) < 2:
        return branches
    groups: dict[int, list[Branch]] = {}
    for branch in branches:
        groups.setdefault(branch.bits & live, []).append(branch)
    merged: list[Branch] = []
    for members in groups.values():
        kept: list[Branch] = []
        for branch in members:
            for other in kept:
                overlap = abs(np.sum(other.state.conj() * branch.state))
                if overlap > 1.0 - _SAME_RAY:
                    other.probability += branch.probability
                    break
            else:
                kept.append(branch)
        merged.extend(kept)
    return merged


def simulate_branches(
    circuit: QuantumCircuit,
    *,
    record: Sequence[int] | None = None,
    max_qubits: int = 24,
    max_branches: int = 4096,
) -> list[Branch]:
    """Every measurement history of ``circuit`` from ``|0...0>``, merged.

    :param record: clbit positions whose values are part of the result (kept
        apart even when nothing reads them later); all clbits by default.
    :param max_qubits: refuse circuits wider than this (a state is ``2**n``
        complex numbers).
    :param max_branches: refuse when more histories than this stay distinct.
    :raises ResourceError: the circuit is too wide or branches too many.
    :raises CircuitError: an operation cannot be simulated exactly.
    """
    n = circuit.num_qubits
    if n > max_qubits:
        raise ResourceError(
            f"exact simulation of {n} qubits exceeds the limit of {max_qubits} "
            f"({(16 << n) / 2**30:.1f} GiB per state); use sampled verification"
        )
    sim = _Simulator(circuit)
    recorded = range(circuit.num_clbits) if record is None else record
    record_mask = 0
    for c in recorded:
        record_mask |= 1 << int(c)
    steps: list[_Step] = []
    for instruction in circuit.data:
        assert isinstance(instruction, CircuitInstruction)
        steps.append(
            _Step(
                instruction.operation,
                tuple(sim.qubit_index[q] for q in instruction.qubits),
                tuple(sim.clbit_index[c] for c in instruction.clbits),
            )
        )
    # live[i]: bits read after step i before being overwritten (plus the record).
    live = [0] * len(steps)
    after = record_mask
    for i in range(len(steps) - 1, -1, -1):
        live[i] = after
        reads, writes = _reads_writes(steps[i].operation, steps[i].clbits, sim.clbit_index)
        after = reads | (after & ~writes)
    state = np.zeros(1 << n, dtype=np.complex128)
    state[0] = 1.0
    if circuit.global_phase:
        state[0] = complex(np.exp(1j * float(circuit.global_phase)))
    branches = [Branch(1.0, 0, state)]
    for i, step in enumerate(steps):
        following: list[Branch] = []
        for branch in branches:
            following.extend(
                sim.run_instruction(
                    branch, step.operation, step.qubits, step.clbits, sim.clbit_index
                )
            )
        branches = _merge(following, live[i]) if len(following) > 1 else following
        if len(branches) > max_branches:
            raise ResourceError(
                f"exact simulation keeps {len(branches)} distinct measurement histories "
                f"(limit {max_branches}); use sampled verification"
            )
    return branches
