"""``DistributedBackend``: a Qiskit ``BackendV2`` over a distributed system.

The target has one qubit per data qubit of the network. Every gate is
offered on every qubit pair: qdframe decides where qubits live and turns a
gate between nodes into an EPR protocol, so the network needs no routing
from the transpiler. The gates are the standard gates the configured
simulator runs; ``if_else`` is offered when the simulator has classical
conditions *and* planning accepts control flow (the numpy backend does).

``backend.run`` runs each circuit through :meth:`DistributedSystem.run`
(the whole pipeline, recovery included). Qubits that no instruction touches
(the ancillas ``transpile`` adds to fill the target) are dropped first:
they stay in ``|0>`` and would only widen the simulation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp, Measure, Reset
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.providers import BackendV2, JobStatus, JobV1, Options
from qiskit.result import Result
from qiskit.result.models import ExperimentResult, ExperimentResultData
from qiskit.transpiler import Target

from qdframe.backend import validate_shots
from qdframe.qiskit._bits import counts_to_rows
from qdframe.qiskit._seeding import SeedLike, call_entropy, derived_seed, validate_seed
from qdframe.qiskit._system import OwnsSystem, SystemHandle, SystemLike

__all__ = ["DistributedBackend", "DistributedJob"]

#: Operations that are not gates of the target (or that the target adds itself).
_NOT_OFFERED = frozenset({"barrier", "delay", "measure", "reset", "if_else", "global_phase"})


class DistributedJob(JobV1):  # type: ignore[misc]
    """A finished run of :class:`DistributedBackend` (runs are synchronous)."""

    def __init__(self, backend: DistributedBackend, job_id: str, result: Result) -> None:
        super().__init__(backend, job_id)
        self._result = result

    def submit(self) -> None:
        """Nothing to do: the circuits ran when the job was made."""

    def result(self) -> Result:
        """The counts (and memory, when asked for) of every circuit."""
        return self._result

    def status(self) -> JobStatus:
        return JobStatus.DONE


class DistributedBackend(OwnsSystem, BackendV2):  # type: ignore[misc]
    """A Qiskit backend whose qubits are the data qubits of a QPU network.

    :param system: a :class:`~qdframe.config.SystemConfig`, the path of a TOML
        configuration or a :class:`~qdframe.DistributedSystem`.
    :param seed: default ``seed_simulator``; an int makes runs reproducible.
    :raises ConfigError: the configuration cannot be read.
    """

    def __init__(self, system: SystemLike = None, *, seed: SeedLike = None) -> None:
        from qdframe import __version__

        self._handle = SystemHandle(system)
        self._seed = validate_seed(seed)
        super().__init__(
            name="qdframe_distributed",
            description="a simulated network of QPUs (qdframe)",
            backend_version=__version__,
        )
        self._target = self._build_target()

    def _build_target(self) -> Target:
        from qdframe.backend import DEFAULT_BACKEND, get_backend
        from qdframe.topology import build_topology

        system = self._handle.system
        system.initialize()
        plugins = system.plugins
        assert plugins is not None
        config = system.config
        topology = build_topology(config, plugins=plugins)
        name = config.acceleration.backend
        simulator = get_backend(DEFAULT_BACKEND if name == "auto" else name, plugins=plugins)
        capabilities = simulator.capabilities
        target = Target(
            description=f"{topology.num_nodes} nodes, {topology.total_data_qubits} data qubits",
            num_qubits=int(topology.total_data_qubits),
        )
        standard = get_standard_gate_name_mapping()
        for op_name in sorted(capabilities.supported_operations - _NOT_OFFERED):
            gate = standard.get(op_name)
            if gate is not None:
                target.add_instruction(gate, properties=None)
        target.add_instruction(Measure(), properties=None)
        if "reset" in capabilities.supported_operations:
            target.add_instruction(Reset(), properties=None)
        if capabilities.classical_conditions and _planner_takes_control_flow():
            target.add_instruction(IfElseOp, name="if_else")
        return target

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024, seed_simulator=None, memory=False)

    def run(
        self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any
    ) -> DistributedJob:
        """Run circuits; options ``shots``, ``seed_simulator`` and ``memory``.

        :raises ValueError: an unknown option; ``shots`` not an integer from 1
            (:class:`qdframe.backend.ShotsError`, a ``ValueError``).
        :raises TypeError: ``run_input`` holds something other than circuits.
        """
        unknown = sorted(set(options) - set(self.options.__dict__))
        if unknown:
            raise ValueError(
                f"unknown run option(s) {', '.join(unknown)}; allowed: shots, "
                "seed_simulator, memory"
            )
        shots = validate_shots(options.get("shots", self.options.shots), minimum=1)
        memory = bool(options.get("memory", self.options.memory))
        seed = options.get("seed_simulator", self.options.seed_simulator)
        entropy = call_entropy(validate_seed(seed) if seed is not None else self._seed)
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        for circuit in circuits:
            if not isinstance(circuit, QuantumCircuit):
                raise TypeError(f"expected QuantumCircuits, got {type(circuit).__name__}")
        job_id = uuid.uuid4().hex
        with self._handle.lock:
            experiments = [
                self._run_one(circuit, shots, derived_seed(entropy, i), memory)
                for i, circuit in enumerate(circuits)
            ]
        result = Result(
            backend_name=self.name,
            backend_version=self.backend_version,
            job_id=job_id,
            success=True,
            results=experiments,
        )
        return DistributedJob(self, job_id, result)

    def _run_one(
        self, circuit: QuantumCircuit, shots: int, seed: int, memory: bool
    ) -> ExperimentResult:
        header = {
            "name": circuit.name,
            "creg_sizes": [[creg.name, creg.size] for creg in circuit.cregs],
            "memory_slots": circuit.num_clbits,
            "metadata": dict(circuit.metadata or {}),
        }
        measured = any(i.operation.name == "measure" for i in circuit.data)
        if not measured:
            # Nothing is read out: every shot gives the all-zero record.
            counts = {"0" * circuit.num_clbits: shots}
        else:
            run = self._handle.system.run(_active_part(circuit), shots=shots, seed=seed)
            counts = run.counts
            schedule = run.metrics.get("schedule", {})
            header["qdframe"] = {
                "ebits": run.metrics.get("ebits"),
                "swaps": run.metrics.get("swaps"),
                "makespan_us": schedule.get("makespan_us"),
                "fidelity_estimate": schedule.get("fidelity_estimate"),
                "fallback": run.fallback,
            }
        data: dict[str, Any] = {"counts": {_hex(key): n for key, n in counts.items()}}
        if memory:
            rng = np.random.default_rng(seed)
            rows = counts_to_rows(counts, circuit.num_clbits, shots, rng)
            weights = 1 << np.arange(circuit.num_clbits, dtype=object)
            data["memory"] = [hex(int(row.astype(object) @ weights)) for row in rows]
        return ExperimentResult(
            shots=shots,
            success=True,
            data=ExperimentResultData(**data),
            header=header,
            seed=seed,
        )


@lru_cache(maxsize=1)
def _planner_takes_control_flow() -> bool:
    """Whether planning accepts ``if_else`` (the simulator alone is not enough)."""
    from qdframe.allocation import normalize_circuit
    from qdframe.errors import CircuitError

    probe = QuantumCircuit(1, 1)
    probe.measure(0, 0)
    with probe.if_test((probe.clbits[0], 1)):
        probe.x(0)
    try:
        normalize_circuit(probe)
    except CircuitError:
        return False
    return True


def _hex(key: str) -> str:
    return hex(int(key, 2)) if key else "0x0"


def _active_part(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` without the qubits no instruction touches (classical bits kept)."""
    from qiskit.converters import circuit_to_dag, dag_to_circuit

    dag = circuit_to_dag(circuit)
    qubits = set(dag.qubits)
    idle = [wire for wire in dag.idle_wires() if wire in qubits]
    if not idle:
        return circuit
    dag.remove_qubits(*idle)
    slimmed: QuantumCircuit = dag_to_circuit(dag)
    return slimmed
