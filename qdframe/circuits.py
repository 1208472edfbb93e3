"""Reading circuits: OpenQASM 2 or 3 files, or Qiskit circuits as given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from qdframe.errors import CircuitError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

__all__ = ["load_circuit"]


def _qasm_version(text: str) -> int:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("OPENQASM"):
            return 3 if stripped.split()[1].startswith("3") else 2
        break
    return 2


def load_circuit(source: str | os.PathLike[str] | QuantumCircuit) -> QuantumCircuit:
    """Return a ``QuantumCircuit`` from a circuit object or an OpenQASM 2/3 file.

    :raises CircuitError: the file is missing or is not valid OpenQASM; the
        message names the file and the parser's complaint.
    """
    from qiskit import QuantumCircuit, qasm2, qasm3

    if isinstance(source, QuantumCircuit):
        return source
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CircuitError(f"{path}: circuit file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise CircuitError(f"{path}: not a readable OpenQASM text file ({exc})") from None
    version = _qasm_version(text)
    try:
        if version == 3:
            circuit = qasm3.loads(text)
        else:
            circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except Exception as exc:  # the parsers raise several unrelated types
        raise CircuitError(f"{path}: invalid OpenQASM {version}: {exc}") from None
    circuit.name = path.stem
    return circuit
