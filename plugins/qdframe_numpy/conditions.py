"""Classical conditions as functions of the classical bits.

The engine keeps a trajectory's classical bits in one Python integer (bit
``i`` is clbit ``i``). Conditions of ``if_test`` blocks — a bit and a value, a
register and a value, or a classical expression over bits and registers — are
turned into plain functions of that integer once, at compile time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from qiskit.circuit import ClassicalRegister, Clbit
from qiskit.circuit.classical import expr, types

from qdframe.plugin import InvalidCircuitError

__all__ = ["Condition", "ValueOf", "compile_condition", "compile_value"]

#: A predicate on the classical bits.
Condition = Callable[[int], bool]
#: A value (bit, register, integer or boolean) read from the classical bits.
ValueOf = Callable[[int], int]


def _bit(index: int) -> ValueOf:
    return lambda bits: (bits >> index) & 1


def _register(indices: Sequence[int]) -> ValueOf:
    positions = tuple(indices)

    def value(bits: int) -> int:
        result = 0
        for offset, index in enumerate(positions):
            result |= ((bits >> index) & 1) << offset
        return result

    return value


def _mask(kind: types.Type) -> int | None:
    if isinstance(kind, types.Uint):
        width: int = kind.width
        return (1 << width) - 1
    return None


def _location(
    target: Clbit | ClassicalRegister, clbits: Mapping[Clbit, int], backend: str
) -> ValueOf:
    try:
        if isinstance(target, Clbit):
            return _bit(clbits[target])
        return _register([clbits[bit] for bit in target])
    except KeyError as missing:
        raise InvalidCircuitError(
            f"backend {backend!r}: condition reads classical bit {missing} "
            "that is not part of the circuit"
        ) from None


_BINARY: dict[expr.Binary.Op, Callable[[int, int], int]] = {
    expr.Binary.Op.BIT_AND: operator.and_,
    expr.Binary.Op.BIT_OR: operator.or_,
    expr.Binary.Op.BIT_XOR: operator.xor,
    expr.Binary.Op.LOGIC_AND: lambda a, b: int(bool(a) and bool(b)),
    expr.Binary.Op.LOGIC_OR: lambda a, b: int(bool(a) or bool(b)),
    expr.Binary.Op.EQUAL: lambda a, b: int(a == b),
    expr.Binary.Op.NOT_EQUAL: lambda a, b: int(a != b),
    expr.Binary.Op.LESS: lambda a, b: int(a < b),
    expr.Binary.Op.LESS_EQUAL: lambda a, b: int(a <= b),
    expr.Binary.Op.GREATER: lambda a, b: int(a > b),
    expr.Binary.Op.GREATER_EQUAL: lambda a, b: int(a >= b),
    expr.Binary.Op.SHIFT_LEFT: operator.lshift,
    expr.Binary.Op.SHIFT_RIGHT: operator.rshift,
}


def compile_value(node: Any, clbits: Mapping[Clbit, int], backend: str) -> ValueOf:
    """Turn a classical expression into a function of the classical bits.

    Supported: bits and registers, literals, ``~``, ``!``, bitwise and logical
    operators, comparisons, shifts, casts and bit indexing.

    :raises InvalidCircuitError: the expression uses anything else (standalone
        variables, arithmetic, floats, durations).
    """
    if isinstance(node, expr.Var):
        if isinstance(node.var, Clbit | ClassicalRegister):
            return _location(node.var, clbits, backend)
        raise InvalidCircuitError(
            f"backend {backend!r} does not support standalone classical variables "
            f"in conditions (found {node.name!r}); use classical bits or registers"
        )
    if isinstance(node, expr.Value):
        if isinstance(node.value, bool | int):
            constant = int(node.value)
            return lambda bits: constant
        raise InvalidCircuitError(
            f"backend {backend!r} supports integer and boolean literals in conditions, "
            f"got {node.value!r}"
        )
    if isinstance(node, expr.Cast):
        inner = compile_value(node.operand, clbits, backend)
        if isinstance(node.type, types.Bool):
            return lambda bits: int(inner(bits) != 0)
        cast_mask = _mask(node.type)
        if cast_mask is None:
            raise InvalidCircuitError(
                f"backend {backend!r} cannot cast to {node.type} in a condition"
            )
        return lambda bits: inner(bits) & cast_mask
    if isinstance(node, expr.Unary):
        inner = compile_value(node.operand, clbits, backend)
        if node.op is expr.Unary.Op.LOGIC_NOT:
            return lambda bits: int(not inner(bits))
        if node.op is expr.Unary.Op.BIT_NOT:
            not_mask = _mask(node.type)
            if not_mask is None:  # boolean operand
                return lambda bits: int(not inner(bits))
            return lambda bits: ~inner(bits) & not_mask
        raise InvalidCircuitError(
            f"backend {backend!r} does not support {node.op.name} in conditions"
        )
    if isinstance(node, expr.Binary):
        function = _BINARY.get(node.op)
        if function is None:
            raise InvalidCircuitError(
                f"backend {backend!r} does not support {node.op.name} in conditions "
                f"(supported: {', '.join(op.name for op in _BINARY)})"
            )
        left = compile_value(node.left, clbits, backend)
        right = compile_value(node.right, clbits, backend)
        result_mask = _mask(node.type)
        if result_mask is None:
            return lambda bits: function(left(bits), right(bits))
        return lambda bits: function(left(bits), right(bits)) & result_mask
    if isinstance(node, expr.Index):
        target = compile_value(node.target, clbits, backend)
        position = compile_value(node.index, clbits, backend)
        return lambda bits: (target(bits) >> position(bits)) & 1
    raise InvalidCircuitError(
        f"backend {backend!r} cannot evaluate the classical expression {node!r}"
    )


def compile_condition(condition: Any, clbits: Mapping[Clbit, int], backend: str) -> Condition:
    """A predicate for an ``if_test`` condition.

    :param condition: ``(Clbit, int)``, ``(ClassicalRegister, int)`` or an
        :class:`~qiskit.circuit.classical.expr.Expr`.
    :param clbits: index of each classical bit in the engine's integer.
    :param backend: backend name for messages.
    """
    if isinstance(condition, tuple) and len(condition) == 2:
        target, wanted = condition
        if isinstance(target, Clbit | ClassicalRegister):
            read = _location(target, clbits, backend)
            value = int(wanted)
            return lambda bits: read(bits) == value
    if isinstance(condition, expr.Expr):
        evaluate = compile_value(condition, clbits, backend)
        return lambda bits: bool(evaluate(bits))
    raise InvalidCircuitError(
        f"backend {backend!r} does not understand the condition {condition!r}; "
        "use (Clbit, int), (ClassicalRegister, int) or a classical expression"
    )
