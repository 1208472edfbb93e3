"""Preparing circuits for Aer and reading its results back in qdframe's format."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.plugin import InvalidCircuitError

if TYPE_CHECKING:
    import numpy.typing as npt
    from qiskit import QuantumCircuit

__all__ = [
    "CONTROL_FLOW",
    "counts_from_aer",
    "memory_from_aer",
    "native_operations",
    "operation_names",
    "prepare_circuit",
    "statevector_from_aer",
    "supported_by",
]

#: Control-flow operations (their blocks are checked one by one).
CONTROL_FLOW = frozenset({"if_else", "while_loop", "for_loop", "switch_case", "box"})
_MEASURING = frozenset({"measure"})
# Aer-internal instructions a circuit given to qdframe is not expected to hold.
_AER_INTERNAL_PREFIXES = ("save_", "set_")


def native_operations(basis_gates: Sequence[str]) -> frozenset[str]:
    """Operation names Aer runs as they are, from a method's basis gate list."""
    names = {n for n in basis_gates if not n.startswith(_AER_INTERNAL_PREFIXES)}
    return frozenset(names | {"measure", "barrier"})


def supported_by(basis_gates: Sequence[str], method: str) -> frozenset[str]:
    """Operation names a method accepts: what Aer runs natively plus the
    standard gates that decompose into it (Clifford ones only for the
    stabilizer method)."""
    return native_operations(basis_gates) | _decomposable(method == "stabilizer")


@functools.cache
def _decomposable(clifford_only: bool) -> frozenset[str]:
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.quantum_info import Clifford

    names = set()
    for name, gate in get_standard_gate_name_mapping().items():
        if gate.definition is None and name not in ("measure", "reset", "delay", "barrier"):
            continue
        if clifford_only:
            if gate.params:
                continue
            try:
                Clifford(gate)
            except Exception:  # not a Clifford gate (Qiskit raises several types)
                continue
        names.add(name)
    return frozenset(names)


def operation_names(circuit: QuantumCircuit) -> Iterator[str]:
    """Every operation name in ``circuit``, inside control-flow blocks too."""
    for instruction in circuit.data:
        operation = instruction.operation
        yield operation.name
        for block in getattr(operation, "blocks", ()):
            yield from operation_names(block)


def prepare_circuit(
    circuit: object,
    *,
    backend: str,
    method: str,
    native: frozenset[str],
    exact: bool,
) -> QuantumCircuit:
    """Check ``circuit`` and return what Aer runs: decomposed to ``native``
    operations where needed, with ``save_statevector`` appended when ``exact``.

    :raises InvalidCircuitError: not a circuit, unbound parameters, an
        operation the method cannot run, or ``exact`` with measurements.
    """
    from qiskit import QuantumCircuit
    from qiskit.transpiler.exceptions import TranspilerError

    if not isinstance(circuit, QuantumCircuit):
        raise InvalidCircuitError(
            f"backend {backend!r} runs qiskit.QuantumCircuit objects, got {type(circuit).__name__}"
        )
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters))
        raise InvalidCircuitError(
            f"circuit {circuit.name!r} has unbound parameters: {names}; bind them with "
            "circuit.assign_parameters({...}) before running"
        )
    used = set(operation_names(circuit))
    if exact and used & _MEASURING:
        raise InvalidCircuitError(
            f"shots=0 asks for the exact statevector, which circuit {circuit.name!r} does "
            "not have because it measures; remove the measurements "
            "(circuit.remove_final_measurements()) or run with shots > 0"
        )
    prepared = circuit
    unsupported = used - native - CONTROL_FLOW
    if unsupported:
        try:
            prepared = _pass_manager(native).run(circuit)
        except (TranspilerError, ValueError) as exc:
            listed = ", ".join(sorted(unsupported))
            raise InvalidCircuitError(
                f"operation(s) {listed} cannot run on backend {backend!r} with method "
                f"{method!r} and cannot be decomposed into what it runs ({exc})"
            ) from None
    if method == "stabilizer":
        _check_clifford(prepared, backend)
    if exact:
        prepared = prepared.copy()
        prepared.save_statevector()  # added to QuantumCircuit by importing qiskit_aer
    return prepared


_LOCAL = threading.local()


def _pass_manager(supported: frozenset[str]) -> Any:
    """A level-0 pass manager decomposing into ``supported``, built once per thread.

    Building one costs several milliseconds, more than running it on a small
    circuit; pass managers are not shared between threads.
    """
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.transpiler import generate_preset_pass_manager

    cache: dict[frozenset[str], Any] = getattr(_LOCAL, "pass_managers", None) or {}
    _LOCAL.pass_managers = cache
    if supported not in cache:
        # The transpiler takes only standard gate names as a basis.
        basis = sorted(supported & set(get_standard_gate_name_mapping()))
        cache[supported] = generate_preset_pass_manager(optimization_level=0, basis_gates=basis)
    return cache[supported]


def _check_clifford(circuit: QuantumCircuit, backend: str) -> None:
    """Refuse rotations the stabilizer method cannot run (``rz`` off multiples of pi/2)."""
    for instruction in circuit.data:
        operation = instruction.operation
        for block in getattr(operation, "blocks", ()):
            _check_clifford(block, backend)
        if operation.name != "rz":
            continue
        angle = float(operation.params[0])
        quarter_turns = angle / (np.pi / 2)
        if abs(quarter_turns - round(quarter_turns)) > 1e-9:
            raise InvalidCircuitError(
                f"method 'stabilizer' of backend {backend!r} runs Clifford circuits only; "
                f"circuit {circuit.name!r} has a non-Clifford rotation rz({angle:.6g}) "
                "(T gates and arbitrary angles need method 'statevector' or "
                "'matrix_product_state')"
            )


def _bitstring(key: str, width: int) -> str:
    if width == 0:
        return ""
    return format(int(key, 16), f"0{width}b")


def counts_from_aer(data: Mapping[str, Any], width: int, shots: int) -> dict[str, int]:
    """Counts keyed by bitstrings of ``width`` bits (clbit 0 rightmost, no spaces)."""
    raw = data.get("counts")
    if not raw:  # nothing measured: every shot reads the initial zeros
        return {"0" * width: shots}
    counts: dict[str, int] = {}
    for key, count in raw.items():
        bits = _bitstring(key, width)
        counts[bits] = counts.get(bits, 0) + int(count)
    return counts


def memory_from_aer(data: Mapping[str, Any], width: int, shots: int) -> list[str]:
    """One bitstring per shot, in shot order."""
    raw = data.get("memory")
    if not raw:
        return ["0" * width] * shots
    return [_bitstring(key, width) for key in raw]


def statevector_from_aer(
    data: Mapping[str, Any], precision: str
) -> npt.NDArray[np.complexfloating[Any, Any]]:
    """The saved statevector as a numpy array of ``precision``."""
    return np.asarray(data["statevector"], dtype=np.dtype(precision))
