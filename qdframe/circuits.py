"""Reading circuits: OpenQASM 2 or 3 files, or Qiskit circuits as given.

A file is checked before it is parsed, so that a bad one fails in
milliseconds with a message saying what to change:

* its size is bounded (:data:`MAX_FILE_BYTES`) and so are its declared
  registers (:data:`MAX_QUBITS` qubits, :data:`MAX_CLBITS` bits), because the
  parsers allocate one object per declared bit;
* ``include`` may name the standard libraries (``qelib1.inc``,
  ``stdgates.inc``) or a file in the circuit's own directory (or below it),
  never an absolute path or a file outside; an include that is refused is
  never opened, and nothing of its content reaches a message;
* after parsing, a circuit must have at least one qubit and no ``opaque``
  gate, which nothing could simulate.

File names that are not valid UTF-8 are shown, and used as the circuit's
name, with the undecodable bytes escaped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qdframe.errors import CircuitError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

__all__ = ["MAX_CLBITS", "MAX_FILE_BYTES", "MAX_QUBITS", "display_path", "load_circuit"]

#: Largest OpenQASM file read (bytes).
MAX_FILE_BYTES = 256 * 1024**2
#: Most qubits a circuit may declare: twice the 1024 x 64 planning scale.
MAX_QUBITS = 1 << 17
#: Most classical bits a circuit may declare.
MAX_CLBITS = 1 << 17

_STANDARD_INCLUDES = frozenset({"qelib1.inc", "stdgates.inc"})
#: Included files may include others; deeper nesting than this is refused.
_MAX_INCLUDE_DEPTH = 8

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_VERSION = re.compile(r"OPENQASM\s+(\d+)(?:\.(\d+))?\s*;")
_INCLUDE = re.compile(r'\binclude\s+"([^"\n]*)"\s*;')
_INCLUDE_ANY = re.compile(r"\binclude\b")
# Register declarations with literal sizes, in both versions. Sizes given by
# expressions (OpenQASM 3 constants) are checked after parsing instead.
_QUANTUM_REGISTERS = (
    re.compile(r"\bqreg\s+\w+\s*\[\s*(\d+)\s*\]"),
    re.compile(r"\bqubit\s*\[\s*(\d+)\s*\]"),
)
_CLASSICAL_REGISTERS = (
    re.compile(r"\bcreg\s+\w+\s*\[\s*(\d+)\s*\]"),
    re.compile(r"\bbit\s*\[\s*(\d+)\s*\]"),
)
_SINGLE_QUBIT = re.compile(r"\bqubit\s+[A-Za-z_]\w*\s*;")


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as printable text: bytes that are not UTF-8 become ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _strip_comments(text: str) -> str:
    return _COMMENT.sub(" ", text)


def _qasm_version(code: str, shown: str) -> int:
    """The major version the ``OPENQASM`` line names (2 when there is none)."""
    stripped = code.lstrip()
    if not stripped.startswith("OPENQASM"):
        return 2
    match = _VERSION.match(stripped)
    if match is None or match.group(1) not in {"2", "3"}:
        raise CircuitError(
            f"{shown}: the OPENQASM line must name version 2 or 3 and end with ';' "
            "(e.g. 'OPENQASM 2.0;' or 'OPENQASM 3.0;')"
        )
    return int(match.group(1))


def _check_registers(code: str, shown: str) -> None:
    """Refuse declarations too large to build, before a parser allocates them."""
    for patterns, limit, kind in (
        (_QUANTUM_REGISTERS, MAX_QUBITS, "qubits"),
        (_CLASSICAL_REGISTERS, MAX_CLBITS, "classical bits"),
    ):
        total = sum(int(m.group(1)) for p in patterns for m in p.finditer(code))
        if kind == "qubits":
            total += len(_SINGLE_QUBIT.findall(code))
        if total > limit:
            raise CircuitError(
                f"{shown}: declares {total} {kind}; at most {limit} are allowed "
                "(split the circuit, or plan a smaller one)"
            )


def _check_includes(code: str, base: Path, shown: str, depth: int = 0) -> None:
    """Refuse includes outside ``base`` without opening them; check nested ones."""
    named = _INCLUDE.findall(code)
    if len(named) != len(_INCLUDE_ANY.findall(code)):
        raise CircuitError(
            f'{shown}: an include must have the form include "FILE"; with a relative FILE'
        )
    root = base.resolve()
    for name in named:
        if name in _STANDARD_INCLUDES:
            continue
        refused = CircuitError(
            f"{shown}: include {display_path(name)!r} is refused: only qelib1.inc, "
            "stdgates.inc or a relative path to a file in the circuit's directory "
            "may be included"
        )
        if not name or os.path.isabs(name) or name.startswith("~"):
            raise refused
        target = (base / name).resolve()
        if not target.is_relative_to(root):
            raise refused
        if depth >= _MAX_INCLUDE_DEPTH:
            raise CircuitError(f"{shown}: includes nest more than {_MAX_INCLUDE_DEPTH} deep")
        if not target.is_file():
            raise CircuitError(f"{shown}: included file {display_path(name)!r} not found")
        if target.stat().st_size > MAX_FILE_BYTES:
            raise CircuitError(f"{shown}: included file {display_path(name)!r} is too large")
        try:
            nested = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise CircuitError(
                f"{shown}: included file {display_path(name)!r} is not a UTF-8 text file"
            ) from None
        # Nested names resolve against the circuit's directory (the parser's
        # include path), so the same root applies.
        _check_includes(_strip_comments(nested), base, shown, depth + 1)


def _parser_message(exc: BaseException, text: str, version: int) -> str:
    """The parser's complaint, never empty (the OpenQASM 3 parser may give none)."""
    message = str(exc).strip()
    if message:
        return message
    if version == 3:
        located = _qasm3_syntax_position(text)
        if located:
            return located
    return f"syntax error ({type(exc).__name__}; the parser gives no position)"


def _qasm3_syntax_position(text: str) -> str | None:
    """Where the OpenQASM 3 grammar first fails, from the ANTLR exception chain."""
    try:
        import openqasm3
    except ImportError:  # the importer may come without the reference parser
        return None
    try:
        openqasm3.parse(text)
    except Exception as exc:  # we look only for a token position in the chain
        pending: list[object] = [exc]
        while pending:
            item = pending.pop()
            token = getattr(item, "offendingToken", None)
            if token is not None:
                return f"syntax error at line {token.line}, column {token.column + 1}"
            if isinstance(item, BaseException):
                pending.extend(a for a in item.args if isinstance(a, BaseException))
                pending.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        return None
    return None


def _check_circuit(circuit: QuantumCircuit, shown: str) -> None:
    from qiskit.circuit import Gate
    from qiskit.circuit.library import get_standard_gate_name_mapping

    if circuit.num_qubits == 0:
        raise CircuitError(
            f"{shown}: the circuit has no qubits; declare at least one "
            "(e.g. 'qreg q[2];' or 'qubit[2] q;')"
        )
    if circuit.num_qubits > MAX_QUBITS:
        raise CircuitError(f"{shown}: {circuit.num_qubits} qubits; at most {MAX_QUBITS} allowed")
    standard = get_standard_gate_name_mapping()
    seen: set[str] = set()
    pending = [circuit]
    while pending:
        current = pending.pop()
        for instruction in current.data:
            op = instruction.operation
            if op.name in seen or op.name in standard:
                continue
            seen.add(op.name)
            definition = op.definition
            if definition is None and isinstance(op, Gate):
                raise CircuitError(
                    f"{shown}: gate {op.name!r} is opaque (declared without a body); "
                    f"nothing can simulate it. Define it with 'gate {op.name} ... {{ ... }}' "
                    "or use standard gates"
                )
            if definition is not None:
                pending.append(definition)


def load_circuit(source: str | os.PathLike[str] | QuantumCircuit) -> QuantumCircuit:
    """Return a ``QuantumCircuit`` from a circuit object or an OpenQASM 2/3 file.

    :raises CircuitError: the file is missing, too large, not valid OpenQASM,
        includes a file outside its directory, declares no qubits or more
        than :data:`MAX_QUBITS`, or uses an opaque gate; the message names the
        file and what is wrong.
    """
    from qiskit import QuantumCircuit, qasm2, qasm3

    if isinstance(source, QuantumCircuit):
        _check_circuit(source, f"circuit {source.name!r}")
        return source
    path = Path(source)
    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CircuitError(
                f"{shown}: {size} bytes; circuit files may be at most {MAX_FILE_BYTES} bytes"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CircuitError(f"{shown}: circuit file not found") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CircuitError(f"{shown}: not a readable OpenQASM text file ({reason})") from None
    code = _strip_comments(text)
    if not code.strip():
        raise CircuitError(f"{shown}: the file is empty; expected an OpenQASM 2 or 3 program")
    version = _qasm_version(code, shown)
    _check_registers(code, shown)
    _check_includes(code, path.parent, shown)
    try:
        if version == 3:
            circuit = qasm3.loads(text)
        else:
            circuit = qasm2.loads(
                text,
                include_path=(str(path.parent),),
                custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
            )
    except Exception as exc:  # the parsers raise several unrelated types
        raise CircuitError(
            f"{shown}: invalid OpenQASM {version}: {_parser_message(exc, text, version)}"
        ) from None
    circuit.name = display_path(path.stem)
    _check_circuit(circuit, shown)
    return circuit
