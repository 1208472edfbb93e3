"""The mitigate stage: readout-error mitigation of a noisy run's counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugins import LoadedPlugins
    from qdframe.stages.state import RunState

__all__ = ["MitigateStage"]


@dataclass(frozen=True)
class MitigateStage:
    """Mitigate readout errors when the run had a noise model and a ``readout`` mitigator exists.

    The mitigator calibrates on the backend that ran the shots, node by node,
    through the qubits that hold the original's measured data.

    :param plugins: the plugin set (mitigators, backends).
    """

    plugins: LoadedPlugins
    name: str = "mitigate"

    def run(self, state: RunState) -> RunState:
        program = state.program
        noise = state.noise
        if noise is None or program is None or "readout" not in self.plugins.registries.mitigators:
            return state
        from qdframe.backend import get_backend
        from qdframe.errors import PluginError
        from qdframe.protocols import CountsMitigator

        mitigator = self.plugins.registries.mitigators.get("readout")()
        if not isinstance(mitigator, CountsMitigator):
            raise PluginError(
                f"the 'readout' mitigator ({type(mitigator).__name__}) lacks calibrate(), "
                "apply() or summary() of qdframe.protocols.CountsMitigator"
            )
        backend = get_backend(state.backend, plugins=self.plugins)

        def run_fn(circuits: Any, *, shots: int, seed: int | None) -> list[dict[str, int]]:
            results = backend.run(list(circuits), shots=shots, seed=seed, noise=noise)
            return [r.counts for r in results]

        layout = program.layout
        qubit_node = layout.qubit_node
        by_node: dict[int, list[int]] = {}
        for slot in (int(x) for x in layout.final.tolist()):
            by_node.setdefault(int(qubit_node[slot]), []).append(slot)
        circuit = state.executable if state.executable is not None else program.to_circuit()
        mitigator.calibrate(run_fn, by_node, seed=state.seed, num_qubits=circuit.num_qubits)
        mitigated = mitigator.apply(dict(state.counts), clbit_qubits=_source_qubits(circuit))
        return state.replace(mitigated=mitigated, readout_calibration=mitigator.summary())

    def hook_input(self, state: RunState) -> Any:
        return state

    def hook_output(self, state: RunState) -> Any:
        return state


def _source_qubits(circuit: QuantumCircuit) -> list[int]:
    """The qubit last measured into each of the original's classical bits, in bit order."""
    from qdframe.distribute.circuit import METADATA_KEY

    measured: dict[int, int] = {}
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            clbit = circuit.find_bit(instruction.clbits[0]).index
            measured[clbit] = circuit.find_bit(instruction.qubits[0]).index
    positions = [int(b) for b in circuit.metadata[METADATA_KEY]["source_clbits"]]
    return [measured[pos] for pos in positions]
