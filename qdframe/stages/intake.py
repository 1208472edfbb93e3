"""The intake stage: the circuit a run distributes, and the observables it estimates.

:class:`IntakeStage` measures the circuit when it measures nothing
(:func:`prepare_circuit`) and then runs the circuit optimizers
(``stage = "intake"`` among ``[distributed] optimizers``), so allocation
plans the optimized circuit once. Verification compares against the
measured original, before any optimizer touched it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe.errors import ConfigError
from qdframe.stages.optimize import optimizer_report, optimizers_for

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    from qdframe.plugins import LoadedPlugins
    from qdframe.stages.state import RunState

__all__ = ["IntakeStage", "parse_observables", "prepare_circuit"]


def prepare_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """The circuit a run distributes: measured, so its counts mean something.

    A circuit without any measurement gets one of every qubit at the end (into
    a new register ``meas``); a circuit with measurements is kept as it is.
    """
    if any(i.operation.name == "measure" for i in circuit.data):
        return circuit
    measured = circuit.copy()
    measured.measure_all()
    return measured


def _observable(spec: Any, num_qubits: int) -> SparsePauliOp:
    from qiskit.quantum_info import SparsePauliOp

    if isinstance(spec, SparsePauliOp):
        op = spec
    elif isinstance(spec, str):
        op = SparsePauliOp(spec.upper())
    else:
        raise ConfigError(
            f"observable {spec!r} is not a Pauli string or SparsePauliOp",
            allowed="e.g. 'ZZII', SparsePauliOp.from_list([('XX', 0.5)])",
        )
    if op.num_qubits != num_qubits:
        raise ConfigError(
            f"observable acts on {op.num_qubits} qubits but the circuit has {num_qubits}"
        )
    return op


def parse_observables(
    specs: Mapping[str, Any], num_qubits: int, *, cutting: bool
) -> dict[str, SparsePauliOp]:
    """Check the observables before any work: counts estimate Z/I strings only
    (circuit cutting, in the classical mode, estimates any Pauli sum)."""
    operators = {}
    for name, spec in specs.items():
        op = _observable(spec, num_qubits)
        if not cutting and any(set(label) - {"I", "Z"} for label, _ in op.to_list()):
            raise ConfigError(
                f"observable {name!r} has X or Y terms; counts estimate only Z/I "
                "observables (estimate general ones by circuit cutting: "
                "qdframe.distribute.run_mode('classical', ...))"
            )
        operators[name] = op
    return operators


@dataclass(frozen=True)
class IntakeStage:
    """Measure the circuit, then run the circuit optimizers in configured order.

    :param plugins: the plugin set the optimizers come from.
    :param optimizers: ``[distributed] optimizers`` (only ``stage = "intake"``
        ones run here).
    """

    plugins: LoadedPlugins
    optimizers: Sequence[str] = ()
    name: str = "intake"

    def run(self, state: RunState) -> RunState:
        prepared = prepare_circuit(state.original)
        if state.verify:
            # A method that cannot take this circuit is refused before any shot runs.
            from qdframe.verification import check_method

            check_method(prepared, state.verify_method)
        circuit = prepared
        reports: list[dict[str, Any]] = []
        for optimizer in optimizers_for(self.plugins, self.optimizers, "intake"):
            circuit, report = optimizer.optimize(circuit, state.context)
            reports.append(optimizer_report(report))
        state.context.metrics["optimizers"] = list(reports)
        return state.replace(prepared=prepared, circuit=circuit, optimizer_reports=tuple(reports))

    def hook_input(self, state: RunState) -> Any:
        return state.original

    def hook_output(self, state: RunState) -> Any:
        return state.circuit
