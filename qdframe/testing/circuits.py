"""Reference circuits used by the conformance suite (and handy in tests).

Every circuit here has a known answer computed by Qiskit itself
(:class:`qiskit.quantum_info.Statevector` or :class:`~qiskit.quantum_info.Operator`),
so a backend is compared with Qiskit's definitions, not with another backend.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Gate
from qiskit.circuit.library import UnitaryGate, get_standard_gate_name_mapping
from qiskit.quantum_info import random_unitary

__all__ = [
    "NON_GATE_NAMES",
    "choi_circuit",
    "ghz_circuit",
    "standard_gates",
    "teleportation_circuit",
    "with_random_parameters",
]

#: Entries of Qiskit's standard mapping that are not unitary gates.
NON_GATE_NAMES = frozenset({"measure", "reset", "barrier", "delay", "global_phase", "store"})


def standard_gates(max_qubits: int = 3) -> dict[str, Gate]:
    """Qiskit's standard gates on at most ``max_qubits`` qubits, by name.

    Parameters are left unbound; see :func:`with_random_parameters`.
    """
    gates: dict[str, Gate] = {}
    for name, op in sorted(get_standard_gate_name_mapping().items()):
        if name in NON_GATE_NAMES or not isinstance(op, Gate):
            continue
        if 0 < op.num_qubits <= max_qubits:
            gates[name] = op
    return gates


def with_random_parameters(gate: Gate, rng: np.random.Generator) -> Gate:
    """A copy of ``gate`` with every parameter drawn uniformly from [-2π, 2π]."""
    if not gate.params:
        return gate
    bound = gate.copy()
    bound.params = [float(rng.uniform(-2 * math.pi, 2 * math.pi)) for _ in gate.params]
    return bound


def choi_circuit(gate: Gate) -> QuantumCircuit:
    """Bell pairs between ``k`` system and ``k`` reference qubits, then ``gate``
    on the system qubits.

    The final statevector holds every matrix element of the gate (it is the
    normalised vectorisation of the matrix), so comparing statevectors
    compares whole matrices, global phase included.
    """
    k = gate.num_qubits
    circuit = QuantumCircuit(2 * k, name=f"choi_{gate.name}")
    for q in range(k):
        circuit.h(k + q)
        circuit.cx(k + q, q)
    circuit.append(gate, list(range(k)))
    return circuit


def ghz_circuit(num_qubits: int, *, measure: bool = True) -> QuantumCircuit:
    """``(|0…0⟩ + |1…1⟩)/√2`` on ``num_qubits`` qubits."""
    circuit = QuantumCircuit(num_qubits, name=f"ghz_{num_qubits}")
    circuit.h(0)
    for q in range(num_qubits - 1):
        circuit.cx(q, q + 1)
    if measure:
        circuit.measure_all()
    return circuit


def teleportation_circuit(seed: int) -> QuantumCircuit:
    """Teleport a random one-qubit state from qubit 0 to qubit 2, then undo it.

    A random unitary ``U`` prepares the state on qubit 0; after the protocol
    (Bell measurement, then X and Z corrections conditioned on the two
    results) ``U†`` is applied to qubit 2 and it is measured into register
    ``out``. A correct backend always reads ``out = 0``; the two protocol bits
    ``m`` are uniformly random.
    """
    prepare = UnitaryGate(random_unitary(2, seed=seed), label="U")
    qubits = QuantumRegister(3, "q")
    bits = ClassicalRegister(2, "m")
    out = ClassicalRegister(1, "out")
    circuit = QuantumCircuit(qubits, bits, out, name=f"teleport_{seed}")
    circuit.append(prepare, [0])
    circuit.h(1)
    circuit.cx(1, 2)
    circuit.cx(0, 1)
    circuit.h(0)
    circuit.measure(0, bits[0])
    circuit.measure(1, bits[1])
    with circuit.if_test((bits[1], 1)):
        circuit.x(2)
    with circuit.if_test((bits[0], 1)):
        circuit.z(2)
    circuit.append(prepare.inverse(), [2])
    circuit.measure(2, out[0])
    return circuit
