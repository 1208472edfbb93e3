"""Writing out what a program's routes imply: raw pairs per link and swap rows.

A compact program keeps one ``EPR`` row per delivery. Its expanded form has,
for a delivery over the route ``p0 .. ph``, one raw pair per link
(``p[i]``'s right communication qubit with ``p[i+1]``'s left one), then per
intermediate node ``CX(l, r)``, ``H(l)``, measure ``l``, measure ``r``, at the
far end ``X`` if ``r`` read 1 and ``Z`` if ``l`` did, and both halves reset;
one two-bit message per intermediate node to the far end. The rows and
messages come in the order lowering used to emit them, so the expanded
program is exactly what a row-per-raw-pair lowering would give.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram, OpKind

__all__ = ["expand"]

_SWAP_PATTERN = (
    OpKind.CX, OpKind.H, OpKind.MEASURE, OpKind.MEASURE,
    OpKind.X_IF, OpKind.Z_IF, OpKind.RESET, OpKind.RESET,
)  # fmt: skip


def _ro(values: list[int], dtype: Any) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


def expand(program: DistributedProgram) -> DistributedProgram:
    """``program`` with every delivery written out (see the module docstring)."""
    layout = program.layout
    exceptions = {(int(r), int(n)): (int(a), int(b)) for r, n, a, b in program.swap_slots.tolist()}
    comm_base = (layout.node_offset[:-1] + layout.node_data).tolist()
    kinds: list[int] = []
    nodes: list[int] = []
    nodes2: list[int] = []
    q0s: list[int] = []
    q1s: list[int] = []
    clbits: list[int] = []
    protocols: list[int] = []
    messages: list[int] = []
    sources: list[int] = []
    new_row = [0] * program.num_operations
    # Messages in creation order: stored ones when their last producing or
    # reading row is written, swap messages with their delivery.
    created: dict[int, list[int]] = {}
    producers = program.message_producers.tolist()
    consumers = program.message_consumer.tolist()
    for m, ((p0, p1), consumer) in enumerate(zip(producers, consumers, strict=True)):
        created.setdefault(max(p0, p1, consumer), []).append(m)
    new_message = [0] * len(producers)
    # Each message: (source, target, bits, protocol, producer0, producer1, consumer) in
    # new row numbers; stored ones are remapped once all rows are known.
    out_messages: list[tuple[int, int, int, int, int, int, int, bool]] = []
    old = zip(
        program.kind.tolist(), program.node.tolist(), program.node2.tolist(),
        program.q0.tolist(), program.q1.tolist(), program.clbit.tolist(),
        program.protocol.tolist(), program.message.tolist(), program.source.tolist(),
        strict=True,
    )  # fmt: skip
    for row, (kind, node, node2, q0, q1, clbit, protocol, message, source) in enumerate(old):
        new_row[row] = len(kinds)
        if kind != OpKind.EPR:
            kinds.append(kind)
            nodes.append(node)
            nodes2.append(node2)
            q0s.append(q0)
            q1s.append(q1)
            clbits.append(clbit)
            protocols.append(protocol)
            messages.append(message)  # remapped below
            sources.append(source)
        else:
            _write_delivery(
                program, row, protocol, q0, q1, exceptions, comm_base,
                (kinds, nodes, nodes2, q0s, q1s, clbits, protocols, messages, sources),
                out_messages,
            )  # fmt: skip
        for m in created.get(row, ()):
            new_message[m] = len(out_messages)
            p0, p1 = producers[m]
            out_messages.append(
                (
                    int(program.message_source[m]), int(program.message_target[m]),
                    int(program.message_bits[m]), int(program.message_protocol[m]),
                    p0, p1, consumers[m], True,
                )
            )  # fmt: skip
    # Stored rows name stored messages; swap rows carry their final id as -2 - id.
    messages = [new_message[m] if m >= 0 else (-2 - m if m < -1 else -1) for m in messages]
    final_messages = []
    for source_node, target, bits, protocol, p0, p1, consumer, stored in out_messages:
        if stored:
            p0 = new_row[p0] if p0 >= 0 else -1
            p1 = new_row[p1] if p1 >= 0 else -1
            consumer = new_row[consumer] if consumer >= 0 else -1
        final_messages.append((source_node, target, bits, protocol, p0, p1, consumer))
    columns: list[tuple[int, ...]] = (
        list(zip(*final_messages, strict=True)) if final_messages else [()] * 7
    )
    producers_new = np.stack(
        [np.asarray(columns[4], dtype=np.int32), np.asarray(columns[5], dtype=np.int32)], axis=1
    ).reshape(-1, 2)
    producers_new.flags.writeable = False
    i32 = np.int32
    return dataclasses.replace(
        program,
        kind=_ro(kinds, np.int8),
        node=_ro(nodes, i32),
        node2=_ro(nodes2, i32),
        q0=_ro(q0s, i32),
        q1=_ro(q1s, i32),
        clbit=_ro(clbits, i32),
        protocol=_ro(protocols, i32),
        message=_ro(messages, i32),
        source=_ro(sources, i32),
        message_source=_ro(list(columns[0]), i32),
        message_target=_ro(list(columns[1]), i32),
        message_bits=_ro(list(columns[2]), i32),
        message_protocol=_ro(list(columns[3]), i32),
        message_producers=producers_new,
        message_consumer=_ro(list(columns[6]), i32),
        swap_slots=np.zeros((0, 4), dtype=np.int64),
        raw_pairs=True,
        notes=dict(program.notes),
    )


def _write_delivery(
    program: DistributedProgram,
    row: int,
    protocol: int,
    near: int,
    far: int,
    exceptions: dict[tuple[int, int], tuple[int, int]],
    comm_base: list[int],
    out: tuple[list[int], ...],
    out_messages: list[tuple[int, int, int, int, int, int, int, bool]],
) -> None:
    kinds, nodes, nodes2, q0s, q1s, clbits, protocols, messages, sources = out
    path = program.route(protocol)
    hops = len(path) - 1
    left = [-1] * len(path)
    right = [-1] * len(path)
    right[0], left[hops] = near, far
    for i in range(1, hops):
        slots = exceptions.get((row, path[i]))
        if slots is None:
            slots = (comm_base[path[i]], comm_base[path[i]] + 1)
        left[i], right[i] = slots
    for i in range(hops):
        kinds.append(int(OpKind.EPR))
        nodes.append(path[i])
        nodes2.append(path[i + 1])
        q0s.append(right[i])
        q1s.append(left[i + 1])
        clbits.append(-1)
        protocols.append(protocol)
        messages.append(-1)
        sources.append(-1)
    end, target = path[hops], far
    for i in range(1, hops):
        node, lq, rq = path[i], left[i], right[i]
        base = len(kinds)
        message = len(out_messages)
        out_messages.append((node, end, 2, protocol, base + 2, base + 3, -1, False))
        encoded = -2 - message
        kinds.extend(int(k) for k in _SWAP_PATTERN)
        nodes.extend((node, node, node, node, end, end, node, node))
        nodes2.extend([-1] * 8)
        q0s.extend((lq, lq, lq, rq, target, target, lq, rq))
        q1s.extend((rq, -1, -1, -1, -1, -1, -1, -1))
        clbits.extend((-1, -1, lq, rq, rq, lq, -1, -1))
        protocols.extend([protocol] * 8)
        messages.extend((-1, -1, -1, -1, encoded, encoded, -1, -1))
        sources.extend([-1] * 8)
