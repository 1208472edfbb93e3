"""Circuit passes: Qiskit pre-optimisation, and burst merging.

Both take a circuit and return an equivalent one (same unitary, same qubit
order, same classical bits), so they run before planning (stage
``"intake"``).

``transpile``
    Qiskit's preset pass manager at ``level`` 0-3 into ``['u', 'cx']``
    (exact synthesis), then rewritten into the planning basis ``['u', 'cp']``.
    Levels 2 and 3 may absorb SWAPs into a relabelling of the qubits; the
    relabelling is undone with a permutation, and the result is kept only if
    it has fewer two-qubit gates (then fewer gates) than the input in the
    planning basis. At levels 2 and 3 Qiskit removes gates that are the
    identity to within its tolerance (rotations of about 1e-6 rad or less).
``burst_merge``
    A cat-entanglement burst ends where its qubit gets a gate that is not
    diagonal. This pass defers every single-qubit gate for as long as it
    commutes past the controlled phases that follow: diagonal gates commute
    with them, and anti-diagonal gates (``X`` times a diagonal) pass through
    a controlled phase by flipping its sign and adding a phase on the
    partner (``CP(l) X_a = X_a CP(-l) P(l)_b``). Runs of single-qubit gates
    are fused, so a qubit's segment is only broken where a truly mixing gate
    sits, which lets the cost model merge bursts across the removed breaks.
"""

from __future__ import annotations

import cmath
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from qdframe.plugin import ConfigError, GateArray, OptimizationLevel, normalize_circuit
from qdframe_optimizers.report import OptimizationReport

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import RunContext

__all__ = ["BurstMergeOptimizer", "TranspileOptimizer", "circuit_figures"]

Matrix = npt.NDArray[np.complex128]

_LEVELS = {
    OptimizationLevel.NONE: 0,
    OptimizationLevel.BASIC: 1,
    OptimizationLevel.MODERATE: 2,
    OptimizationLevel.AGGRESSIVE: 3,
}
_ATOL = 1e-10


def segment_breaks(gates: GateArray) -> int:
    """Places where a qubit's controlled phases are split into two segments.

    A run of non-diagonal single-qubit gates between two controlled phases on
    the same qubit is one such place; each can cost a burst (an ebit) once
    the qubit has partners on other nodes, so this bounds what merging saves.
    """
    had_pair = [False] * gates.num_qubits
    broken = [False] * gates.num_qubits
    count = 0
    for a, b in gates.qubits.tolist():
        if b < 0:
            broken[a] = broken[a] or had_pair[a]
            continue
        for q in (a, b):
            if broken[q]:
                count += 1
                broken[q] = False
            had_pair[q] = True
    return count


def circuit_figures(circuit: QuantumCircuit) -> dict[str, float]:
    """Gate counts that matter for distribution, in the planning basis."""
    gates = GateArray.from_circuit(circuit)
    return {
        "gates": float(sum(1 for i in circuit.data if i.operation.name != "barrier")),
        "two_qubit_gates": float(gates.num_two_qubit),
        "single_qubit_breaks": float(gates.num_gates - gates.num_two_qubit),
        "segment_breaks": float(segment_breaks(gates)),
        "depth": float(circuit.depth()),
    }


def _plain(circuit: QuantumCircuit, name: str) -> QuantumCircuit:
    """A copy without transpiler layout, keeping qubit order and classical bits."""
    from qiskit import QuantumCircuit

    out = QuantumCircuit(list(circuit.qubits), list(circuit.clbits), name=name)
    for qreg in circuit.qregs:
        out.add_register(qreg)
    for creg in circuit.cregs:
        out.add_register(creg)
    out.global_phase = circuit.global_phase
    for instruction in circuit.data:
        out.append(instruction)
    return out


class TranspileOptimizer:
    """Qiskit pre-optimisation at a level (see the module docstring).

    :param level: 0-3, or an ``[acceleration] optimization_level`` name; the
        configuration's when omitted.
    """

    name: ClassVar[str] = "transpile"
    stage: ClassVar[str] = "intake"

    def __init__(self, level: int | str | None = None) -> None:
        if isinstance(level, str):
            try:
                level = _LEVELS[OptimizationLevel(level)]
            except ValueError:
                allowed = ", ".join(x.value for x in OptimizationLevel)
                raise ConfigError(
                    f"unknown optimization level {level!r}", allowed=allowed
                ) from None
        if level is not None and level not in (0, 1, 2, 3):
            raise ConfigError(f"optimization level {level} (allowed: 0, 1, 2, 3)")
        self.level = level

    def _level(self, context: RunContext | None) -> int:
        if self.level is not None:
            return int(self.level)
        if context is None:
            return 3
        return _LEVELS[context.config.acceleration.optimization_level]

    def optimize(
        self, subject: QuantumCircuit, context: RunContext | None = None
    ) -> tuple[QuantumCircuit, OptimizationReport]:
        from qiskit import transpile
        from qiskit.circuit.library import PermutationGate

        level = self._level(context)
        # Synthesis into CX is exact to machine precision; Qiskit's synthesis
        # straight into controlled phases can be off by ~1e-5, so the result
        # is rewritten into the planning basis afterwards (CX = H CP(pi) H).
        basis = ["u", "cx", "measure", "reset"]
        reference = normalize_circuit(subject)
        before = circuit_figures(reference)
        # approximation_degree=1.0: synthesis must be exact, not "good enough".
        out = transpile(
            subject, basis_gates=basis, optimization_level=level, approximation_degree=1.0
        )
        layout = out.layout
        permuted = False
        if layout is not None and layout.final_layout is not None:
            permutation = layout.routing_permutation()
            if list(permutation) != list(range(len(permutation))):
                out = out.copy()
                out.append(PermutationGate(permutation), out.qubits)
                out = transpile(
                    out, basis_gates=basis, optimization_level=1, approximation_degree=1.0
                )
                permuted = True
        candidate = normalize_circuit(_plain(out, subject.name))
        after = circuit_figures(candidate)
        keep = (after["two_qubit_gates"], after["gates"]) < (
            before["two_qubit_gates"],
            before["gates"],
        )
        result = candidate if keep else reference
        report = OptimizationReport.compare(
            self.name,
            before,
            circuit_figures(result),
            level=level,
            kept=keep,
            permutation_restored=permuted,
        )
        return result, report


def _classify(matrix: Matrix) -> str:
    if abs(matrix[0, 1]) < _ATOL and abs(matrix[1, 0]) < _ATOL:
        return "diagonal"
    if abs(matrix[0, 0]) < _ATOL and abs(matrix[1, 1]) < _ATOL:
        return "anti"
    return "general"


_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)


class BurstMergeOptimizer:
    """Defers and fuses single-qubit gates so fewer of them break bursts."""

    name: ClassVar[str] = "burst_merge"
    stage: ClassVar[str] = "intake"

    def optimize(
        self, subject: QuantumCircuit, context: RunContext | None = None
    ) -> tuple[QuantumCircuit, OptimizationReport]:
        source = normalize_circuit(subject)
        before = circuit_figures(source)
        merged = _merge(source)
        after = circuit_figures(merged)
        keep = (after["segment_breaks"], after["gates"]) <= (
            before["segment_breaks"],
            before["gates"],
        )
        result = merged if keep else source
        return result, OptimizationReport.compare(
            self.name, before, circuit_figures(result), kept=keep
        )


def _merge(circuit: QuantumCircuit) -> QuantumCircuit:
    from qiskit.circuit.library import UGate

    out = circuit.copy_empty_like(name=circuit.name)
    index = {bit: i for i, bit in enumerate(circuit.qubits)}
    pending: list[Matrix] = [np.eye(2, dtype=np.complex128) for _ in circuit.qubits]
    phase = 0.0

    def flush(q: int) -> None:
        nonlocal phase
        matrix = pending[q]
        if np.allclose(matrix, matrix[0, 0] * np.eye(2), atol=_ATOL):
            phase += cmath.phase(matrix[0, 0])
        else:
            theta, phi, lam, gphase = _u_angles(matrix)
            out.append(UGate(theta, phi, lam), [circuit.qubits[q]])
            phase += gphase
        pending[q] = np.eye(2, dtype=np.complex128)

    for instruction in circuit.data:
        operation = instruction.operation
        qubits = [index[q] for q in instruction.qubits]
        is_gate = hasattr(operation, "to_matrix") and not instruction.clbits
        if is_gate and len(qubits) == 1 and operation.name not in ("barrier", "delay"):
            pending[qubits[0]] = np.asarray(operation.to_matrix()) @ pending[qubits[0]]
            continue
        if is_gate and len(qubits) == 2 and operation.name == "cp":
            a, b = qubits
            for q in (a, b):
                if _classify(pending[q]) == "general":
                    flush(q)
            flip_a = _classify(pending[a]) == "anti"
            flip_b = _classify(pending[b]) == "anti"
            phase += _emit_diagonal(out, circuit, a, b, float(operation.params[0]), flip_a, flip_b)
            continue
        for q in qubits:
            flush(q)
        out.append(instruction)
    for q in range(len(pending)):
        flush(q)
    out.global_phase = circuit.global_phase + phase
    return out


def _emit_diagonal(
    out: QuantumCircuit,
    circuit: QuantumCircuit,
    a: int,
    b: int,
    theta: float,
    flip_a: bool,
    flip_b: bool,
) -> float:
    """Emit ``CP(theta)`` as it acts after the deferred flips; return the global phase.

    ``CP`` before ``X_a^fa X_b^fb`` equals the flips before the diagonal
    ``d'[x, y] = d[x ^ fa, y ^ fb]``, written as phases on each qubit and a
    controlled phase.
    """
    d = {(x, y): cmath.exp(1j * theta * x * y) for x in (0, 1) for y in (0, 1)}
    dd = {(x, y): d[(x ^ flip_a, y ^ flip_b)] for x in (0, 1) for y in (0, 1)}
    p_a = cmath.phase(dd[(1, 0)] / dd[(0, 0)])
    p_b = cmath.phase(dd[(0, 1)] / dd[(0, 0)])
    controlled = cmath.phase(dd[(1, 1)] * dd[(0, 0)] / (dd[(0, 1)] * dd[(1, 0)]))
    qa, qb = circuit.qubits[a], circuit.qubits[b]
    if abs(p_a) > _ATOL:
        out.p(p_a, qa)
    if abs(p_b) > _ATOL:
        out.p(p_b, qb)
    if abs(controlled) > _ATOL:
        out.cp(controlled, qa, qb)
    return cmath.phase(dd[(0, 0)])


def _u_angles(matrix: Matrix) -> tuple[float, float, float, float]:
    """``(theta, phi, lambda, global phase)`` with ``matrix = e^{i g} U(theta, phi, lambda)``."""
    from qiskit.synthesis import OneQubitEulerDecomposer

    theta, phi, lam, gphase = OneQubitEulerDecomposer("U").angles_and_phase(matrix)
    return float(theta), float(phi), float(lam), float(gphase)
