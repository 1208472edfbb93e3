"""The analyze stage: the result the caller gets, its verification, metrics and report.

Expectation values come from the counts (Z/I observables) or from circuit
cutting; with ``verify`` the distributed program is checked against the
measured original; the metrics and, with a run directory, the JSON and HTML
report come from :mod:`qdframe.stages.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe.errors import ConfigError
from qdframe.stages.result import RunResult

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    from qdframe.plugins import LoadedPlugins
    from qdframe.resources import ResourceManager
    from qdframe.stages.state import RunState

__all__ = ["AnalyzeStage", "diagonal_expectation"]


@dataclass(frozen=True)
class AnalyzeStage:
    """Build the :class:`RunResult` (``state.result``), verify, measure and report.

    :param plugins: the plugin set (verification methods).
    :param resources: the run's resource manager, for resource usage.
    :param learner: the adaptive link learner, for its advice (optional).
    """

    plugins: LoadedPlugins
    resources: ResourceManager | None = None
    learner: Any = None
    name: str = "analyze"

    def run(self, state: RunState) -> RunState:
        from qdframe.stages.metrics import build_metrics, write_run_report

        prepared = state.require_prepared()
        result = RunResult(
            run_id=state.context.run_id,
            counts=dict(state.counts),
            shots=state.shots,
            seed=state.seed,
            backend=state.backend,
            plan=state.plan,
            program_summary=state.program.summary() if state.program is not None else {},
            schedule=state.schedule,
            fallback=state.fallback_reason is not None,
            fallback_reason=state.fallback_reason,
            mitigated=dict(state.mitigated) if state.mitigated is not None else None,
            run_dir=state.run_dir.path if state.run_dir is not None else None,
        )
        if state.mode_result is not None:
            result.expectation_values = dict(state.expectation_values)
        elif state.observables:
            qubit_clbit = _qubit_clbits(prepared)
            for name, op in state.observables.items():
                result.expectation_values[name] = diagonal_expectation(
                    op, result.counts, qubit_clbit
                )
        if state.verify:
            result.verification = _verification(prepared, state, self.plugins)
            verdict = result.verification.get("verified")
            result.verified = None if verdict is None else bool(verdict)
        result.metrics = build_metrics(state, resources=self.resources, learner=self.learner)
        if state.run_dir is not None:
            result.report_path = write_run_report(state.run_dir.path, result, state)
        return state.replace(result=result)

    def hook_input(self, state: RunState) -> Any:
        return state

    def hook_output(self, state: RunState) -> Any:
        return state.result


def diagonal_expectation(
    op: SparsePauliOp, counts: Mapping[str, int], qubit_clbit: list[int]
) -> float:
    """Estimate a Z/I observable from counts; ``qubit_clbit[q]`` is the bit holding qubit ``q``."""
    total = sum(counts.values())
    value = 0.0
    for label, coeff in op.to_list():
        # SparsePauliOp labels are little-endian: character -1 is qubit 0.
        zs = [q for q, p in enumerate(reversed(label)) if p == "Z"]
        acc = 0
        for key, n in counts.items():
            width = len(key)
            parity = sum(key[width - 1 - qubit_clbit[q]] == "1" for q in zs) % 2
            acc += -n if parity else n
        value += float(coeff.real) * acc / total
    return value


def _qubit_clbits(circuit: QuantumCircuit) -> list[int]:
    """For each qubit, the clbit its last measurement writes (``-1`` when unmeasured)."""
    mapping = [-1] * circuit.num_qubits
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            q = circuit.find_bit(instruction.qubits[0]).index
            mapping[q] = circuit.find_bit(instruction.clbits[0]).index
    missing = [q for q, c in enumerate(mapping) if c < 0]
    if missing:
        raise ConfigError(f"observables need every qubit measured; qubits {missing} are not")
    return mapping


def _verification(
    prepared: QuantumCircuit, state: RunState, plugins: LoadedPlugins
) -> dict[str, Any]:
    from qdframe.verification import verify

    if state.mode_result is not None:
        return {
            "verified": None,
            "method": "none",
            "reason": "circuit cutting leaves no distributed circuit to compare; "
            "see the standard errors of the estimates",
        }
    if state.program is None:
        return {
            "verified": None,
            "method": "none",
            "reason": "classical fallback: nothing to verify",
        }
    return verify(prepared, state.program, method=state.verify_method, plugins=plugins).as_dict()
