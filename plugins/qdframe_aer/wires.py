"""Lay a deferred-measurement circuit on as few wires as its resets allow.

A reset qubit is back in ``|0>``, so another qubit can take its wire: the
rewritten circuit is as wide as the most qubits in use at once, not as the
distributed circuit. How many are in use at once depends on the order of
the operations. The distributed program interleaves its protocols for a
short schedule; the simulator has no schedule to keep, only a statevector
that doubles with each extra wire. :func:`narrow` therefore reorders the
operations (any topological order of the qubit-wire dependencies is the
same circuit) so that open protocols finish, and their qubits are reset,
before new ones start: QFT12 on a ring of four nodes needs 16 wires in
that order instead of 17 in program order.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from qiskit import QuantumCircuit
from qiskit.circuit import Instruction

__all__ = ["LogicalOp", "narrow"]


@dataclass(frozen=True)
class LogicalOp:
    """One operation on qubits of the source circuit (indices).

    :param operation: the gate or reset; ``None`` for a terminal measurement,
        which only needs its qubit's wire.
    :param qubits: the source qubits it acts on.
    :param clbit: the classical bit of a terminal measurement.
    """

    operation: Instruction | None
    qubits: tuple[int, ...]
    clbit: int | None = None

    @property
    def is_reset(self) -> bool:
        return self.operation is not None and self.operation.name == "reset"


def _dependencies(ops: Sequence[LogicalOp]) -> tuple[list[int], list[list[int]]]:
    """For each op, how many ops it waits for, and which ops wait for it."""
    last: dict[int, int] = {}
    waiting = [0] * len(ops)
    followers: list[list[int]] = [[] for _ in ops]
    for i, op in enumerate(ops):
        before = {last[q] for q in op.qubits if q in last}
        waiting[i] = len(before)
        for j in before:
            followers[j].append(i)
        for q in op.qubits:
            last[q] = i
    return waiting, followers


def _opens(op: LogicalOp, live: set[int]) -> tuple[int, int]:
    """Wires ``op`` takes when run now (a reset gives one back: -1), then 0
    when it also works on a qubit in use (it brings that qubit nearer its
    reset) and 1 when it starts afresh."""
    if op.is_reset:
        return (-1, 0)
    fresh = sum(1 for q in op.qubits if q not in live)
    return (fresh, int(fresh == len(op.qubits)))


def _order(ops: Sequence[LogicalOp]) -> list[int]:
    """A topological order that runs whatever needs no new wire first.

    Among ready operations: resets, then those on qubits already in use,
    then those that take the fewest new wires, preferring one that also
    continues a qubit in use; ties in program order. A
    ready operation's cost cannot change while it waits (only it can touch
    its qubits next), so a plain heap suffices.
    """
    waiting, followers = _dependencies(ops)
    live: set[int] = set()
    ready = [(*_opens(op, live), i) for i, op in enumerate(ops) if waiting[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        *_, i = heapq.heappop(ready)
        order.append(i)
        op = ops[i]
        if op.is_reset:
            live.difference_update(op.qubits)
        else:
            live.update(op.qubits)
        for j in followers[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (*_opens(ops[j], live), j))
    return order


def narrow(
    ops: Sequence[LogicalOp], name: str
) -> tuple[QuantumCircuit, tuple[tuple[int, int], ...]]:
    """The circuit of ``ops`` on reused wires, and ``(wire, clbit)`` of each terminal measurement.

    A qubit holds a wire from its first operation after a reset until its
    next reset; a reset of a qubit not used since its last reset is dropped
    (it is already ``|0>``). Freed wires are reused lowest first.
    """
    wire: dict[int, int] = {}
    free: list[int] = []
    width = 0
    placed: list[tuple[Instruction, tuple[int, ...]]] = []
    terminal: list[tuple[int, int]] = []

    def place(qubit: int) -> int:
        nonlocal width
        if qubit not in wire:
            if free:
                wire[qubit] = heapq.heappop(free)
            else:
                wire[qubit] = width
                width += 1
        return wire[qubit]

    for i in _order(ops):
        op = ops[i]
        if op.operation is None:
            assert op.clbit is not None
            terminal.append((place(op.qubits[0]), op.clbit))
        elif op.is_reset:
            held = wire.pop(op.qubits[0], None)
            if held is not None:
                placed.append((op.operation, (held,)))
                heapq.heappush(free, held)
        else:
            placed.append((op.operation, tuple(place(q) for q in op.qubits)))
    out = QuantumCircuit(width, name=name)
    for operation, wires in placed:
        out.append(operation, [out.qubits[w] for w in wires])
    return out, tuple(terminal)
