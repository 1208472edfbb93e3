"""One run of a :class:`qdframe.DistributedSystem`, stage by stage, with recovery.

:class:`Run` holds the state of a single ``system.run(...)`` call. Its
:meth:`Run.execute` walks intake → allocate → optimize → lower → schedule →
execute → mitigate → analyze. Stages from allocate to execute form the
*distributed attempt*: when one fails, the action chosen by
``qdframe_handle_error`` decides what happens next (see :func:`_recover`), and
the attempt starts again from allocate on whatever resources are left. Shot
batches that already finished are checkpointed in the run directory and are
not run again, whichever plan produced them: every plan computes the same
distribution over the original circuit's bits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qdframe.config import CommunicationMode, SystemConfig
from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import CapacityError, CircuitError, ConfigError
from qdframe.execution import BatchJob, fire_job_hooks, plan_batches, run_batches
from qdframe.monitor import RunMonitor
from qdframe.pipeline import StageFailed, run_stage
from qdframe.rundir import RunDirectory, run_key

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from qiskit import QuantumCircuit

    from qdframe.noise import NoiseModel
    from qdframe.planning import Plan
    from qdframe.plugins import LoadedPlugins
    from qdframe.resources import ResourceManager, SubTopology
    from qdframe.system import DistributedSystem, RunResult

__all__ = ["Run", "prepare_circuit"]

_log = logging.getLogger("qdframe.run")


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


def _observable(spec: Any, num_qubits: int) -> Any:
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


def _diagonal_expectation(op: Any, counts: Mapping[str, int], qubit_clbit: list[int]) -> float:
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


@dataclass
class Run:
    """The state of one ``system.run(...)`` call (see the module docstring)."""

    system: DistributedSystem
    plugins: LoadedPlugins
    circuit: Any
    shots: int
    seed: int
    observables: dict[str, Any]
    verify: bool
    noise: NoiseModel | None
    report_dir: Path | None
    resume: bool
    progress: Callable[[int, int], None] | None
    max_seconds: float | None = None
    backend: str | None = None
    resources: ResourceManager | None = None
    _operators: dict[str, Any] = field(default_factory=dict)
    _run_key: str = ""

    # ------------------------------------------------------------------ entry

    def execute(self) -> RunResult:
        from qdframe.system import RunResult, new_run_id

        # A fresh run checks everything it can before its directory exists, so
        # that a usage error leaves nothing behind.
        fresh = None if self.resume else self._load_original(None)
        if fresh is not None:
            self._check_before_writing(fresh, self.system.config_for(fresh))
        run_dir = self._open_run_dir()
        original = fresh if fresh is not None else self._load_original(run_dir)
        config = self.system.config_for(original)
        run_id = run_dir.path.name if run_dir is not None else new_run_id(original.name)
        context = RunContext(
            run_id=run_id,
            config=config,
            run_dir=run_dir.path if run_dir is not None else None,
            error_handlers=tuple(e.obj for e in self.plugins.registries.error_handlers.entries()),
        )
        if run_dir is not None:
            manifest = run_dir.read_manifest() if self.resume else self._manifest(original, config)
            if not self.resume:
                run_dir.write_manifest(manifest)
            self._run_key = run_key(
                str(manifest.get("circuit_qasm3", "")), config.model_dump(mode="json"), self.seed
            )
        level = config.integration.monitoring_level.value
        profile = config.analysis.enable_profiling and level == "detailed"
        started = time.perf_counter()
        operators = self._parse_observables(original, config)
        self._operators = operators
        with RunMonitor(level, profile=profile) as monitor:
            prepared = self._stage(context, "intake", prepare_circuit, original)
            outcome = self._distributed_attempts(context, config, prepared, run_dir)
            outcome = self._stage(
                context, "mitigate", lambda o: self._mitigate(o, context), outcome
            )
        outcome.wall_s = time.perf_counter() - started
        outcome.monitor = monitor
        result = RunResult(
            run_id=run_id,
            counts=outcome.counts,
            shots=self.shots,
            seed=self.seed,
            backend=outcome.backend,
            plan=outcome.plan,
            program_summary=outcome.program_summary,
            schedule=outcome.schedule,
            fallback=outcome.fallback_reason is not None,
            fallback_reason=outcome.fallback_reason,
            run_dir=run_dir.path if run_dir is not None else None,
        )
        analyzed: RunResult = self._stage(
            context,
            "analyze",
            lambda o: self._analyze(o, result, prepared, operators, context, run_dir),
            outcome,
        )
        return analyzed

    def _stage(self, context: RunContext, stage: str, fn: Callable[[Any], Any], value: Any) -> Any:
        """A stage outside the distributed attempt: nothing to re-plan, so a
        failure ends the run with the stage's own error."""
        try:
            return run_stage(self.plugins, context, stage, fn, value)
        except StageFailed as failure:
            raise failure.error from failure

    def _check_before_writing(self, original: QuantumCircuit, config: SystemConfig) -> None:
        """Refuse a request that cannot run (shots, observables, network size) up front."""
        from qdframe.topology import build_topology

        plan_batches(self.shots, config.recovery.checkpoint_interval, self.seed)
        self._parse_observables(original, config)
        topology = build_topology(config, plugins=self.plugins)
        have = int(topology.data_qubits.sum())
        cutting = config.distributed.communication_mode is CommunicationMode.CLASSICAL
        if not cutting and original.num_qubits > have:
            raise CapacityError(
                f"the circuit needs {original.num_qubits} qubits but the network holds only "
                f"{have} data qubits ({topology.num_nodes} nodes); add nodes or qubits per node"
            )

    def _parse_observables(self, original: QuantumCircuit, config: SystemConfig) -> dict[str, Any]:
        """Check the observables before any work: counts estimate Z/I strings only
        (circuit cutting, in the classical mode, estimates any Pauli sum)."""
        cutting = config.distributed.communication_mode is CommunicationMode.CLASSICAL
        operators = {}
        for name, spec in self.observables.items():
            op = _observable(spec, original.num_qubits)
            if not cutting and any(set(label) - {"I", "Z"} for label, _ in op.to_list()):
                raise ConfigError(
                    f"observable {name!r} has X or Y terms; counts estimate only Z/I "
                    "observables (estimate general ones by circuit cutting: "
                    "qdframe.distribute.run_mode('classical', ...))"
                )
            operators[name] = op
        return operators

    # ------------------------------------------------------------ run directory

    def _open_run_dir(self) -> RunDirectory | None:
        if self.report_dir is None:
            if self.resume:
                raise ConfigError("resume needs the run directory of the run to continue")
            return None
        compress = self.system.config.memory.compression_level.value != "none"
        if self.resume:
            run_dir = RunDirectory.open_existing(self.report_dir)
            manifest = run_dir.read_manifest()
            self.shots = int(manifest["shots"])
            self.seed = int(manifest["seed"])
            self.verify = bool(manifest.get("verify", self.verify))
            self.observables = dict(manifest.get("observables", {}))
            run_dir.compress = compress
            return run_dir
        if (self.report_dir / "run.json").exists():
            raise ConfigError(
                f"{self.report_dir} already holds a run; continue it with --resume "
                "or choose another directory"
            )
        return RunDirectory(self.report_dir, compress=compress)

    def _load_original(self, run_dir: RunDirectory | None) -> QuantumCircuit:
        from qiskit import qasm3

        from qdframe.circuits import load_circuit

        if self.resume and run_dir is not None:
            manifest = run_dir.read_manifest()
            circuit = qasm3.loads(manifest["circuit_qasm3"])
            circuit.name = manifest.get("circuit_name", circuit.name)
            return circuit
        return load_circuit(self.circuit)

    def _manifest(self, original: QuantumCircuit, config: SystemConfig) -> dict[str, Any]:
        from qiskit import qasm3

        from qdframe import __version__

        try:
            text = qasm3.dumps(original)
        except Exception as exc:  # the exporter raises several types
            raise CircuitError(
                f"circuit {original.name!r} cannot be saved in the run directory as "
                f"OpenQASM 3 ({exc}); use standard gates or gates with a definition"
            ) from None
        return {
            "qdframe_version": __version__,
            "circuit_name": original.name,
            "circuit_qasm3": text,
            "config": config.model_dump(mode="json"),
            "shots": self.shots,
            "seed": self.seed,
            "verify": self.verify,
            "observables": {k: str(v) for k, v in self.observables.items()},
        }

    # ------------------------------------------------------- distributed stages

    def _distributed_attempts(
        self,
        context: RunContext,
        config: SystemConfig,
        prepared: QuantumCircuit,
        run_dir: RunDirectory | None,
    ) -> _Outcome:
        from qdframe.resources import ResourceManager
        from qdframe.topology import build_topology

        topology = build_topology(config, plugins=self.plugins)
        resources = ResourceManager.from_config(
            config,
            topology,
            host_memory_bytes=_host_memory(),
            executor_slots=getattr(self.system.executor(), "workers", 1),
        )
        self.resources = resources
        attempt = 0
        while True:
            try:
                return self._attempt(context, config, prepared, resources, run_dir, attempt)
            except StageFailed as failure:
                attempt += 1
                outcome = self._recover(failure, context, prepared, resources, run_dir)
                if outcome is not None:
                    return outcome

    def _attempt(
        self,
        context: RunContext,
        config: SystemConfig,
        prepared: QuantumCircuit,
        resources: ResourceManager,
        run_dir: RunDirectory | None,
        attempt: int,
    ) -> _Outcome:
        from qdframe.planning import make_plan

        available = resources.available_topology()
        if config.distributed.communication_mode is CommunicationMode.CLASSICAL:
            return self._classical_attempt(context, config, prepared, attempt)

        def allocate(circuit: QuantumCircuit) -> Plan:
            saved = _load_allocation(run_dir, available) if self.resume else None
            plan = make_plan(
                circuit,
                config,
                plugins=self.plugins,
                seed=self.seed,
                topology=available.topology,
                executor=self.system.executor(),
                allocation=saved,
            )
            if run_dir is not None:
                _save_allocation(run_dir, plan, available)
            return plan

        plan = run_stage(self.plugins, context, "allocate", allocate, prepared, attempt=attempt)
        optimized = run_stage(
            self.plugins,
            context,
            "optimize",
            lambda p: self._optimize(p, prepared, config, context, allocate),
            plan,
            attempt=attempt,
        )
        plan = optimized.plan
        program = run_stage(
            self.plugins,
            context,
            "lower",
            lambda o: _lower(o.plan, config, o.routes),
            optimized,
            attempt=attempt,
        )
        schedule = run_stage(
            self.plugins,
            context,
            "schedule",
            lambda p: _schedule(p, config),
            program,
            attempt=attempt,
        )
        resources.record_link_usage(_link_usage(schedule, available))
        circuit = program.to_circuit()
        self._check_estimate(circuit, config, context)
        counts, backend, info = run_stage(
            self.plugins,
            context,
            "execute",
            lambda c: self._execute(c, context, config, run_dir),
            circuit,
            attempt=attempt,
        )
        return _Outcome(
            counts=counts,
            backend=backend,
            plan=plan,
            program=program,
            schedule=schedule,
            program_summary=program.summary(),
            execute_info=info,
            available=available,
        )

    def _classical_attempt(
        self, context: RunContext, config: SystemConfig, prepared: QuantumCircuit, attempt: int
    ) -> _Outcome:
        """Classical communication: estimate the observables by circuit cutting.

        The cut pieces fit ``qubits_per_node``; the sub-experiments run
        through the executor. There are no counts, only expectation values.
        """
        from qdframe.distribute.modes import run_mode

        if not self._operators:
            raise ConfigError(
                "communication_mode 'classical' estimates expectation values by circuit "
                "cutting; give at least one observable (--observable ZZII)",
                key_path="distributed.communication_mode",
            )
        names = list(self._operators)
        bare = prepared.remove_final_measurements(inplace=False)

        def execute(circuit: QuantumCircuit) -> Any:
            return run_mode(
                "classical",
                circuit,
                None,
                [self._operators[n] for n in names],
                config,
                shots=self.shots,
                seed=self.seed,
                executor=self.system.executor(),
                plugins=self.plugins,
            )

        result = run_stage(self.plugins, context, "execute", execute, bare, attempt=attempt)
        return _Outcome(
            counts={},
            backend="cutting",
            mode_result=result,
            expectation_values=dict(zip(names, result.expectation_values, strict=True)),
        )

    def _optimize(
        self,
        plan: Plan,
        prepared: QuantumCircuit,
        config: SystemConfig,
        context: RunContext,
        allocate: Callable[[QuantumCircuit], Plan],
    ) -> _Optimized:
        """Run ``[distributed] optimizers`` in order.

        Circuit optimizers (stage ``intake``) rewrite the circuit, which is then
        planned again; route optimizers (stage ``lower``) choose the EPR routes
        the lowering uses. Each one's report goes to ``metrics["optimizers"]``.
        """
        names = config.distributed.optimizers
        if not names:
            return _Optimized(plan)
        registry = self.plugins.registries.optimizers
        optimizers = [registry.get(name)() for name in names]
        reports: list[dict[str, Any]] = []
        circuit = prepared
        rewrote = False
        for optimizer in optimizers:
            if optimizer.stage == "intake":
                circuit, report = optimizer.optimize(circuit, context)
                reports.append(_report_dict(report))
                rewrote = True
        if rewrote:
            plan = allocate(circuit)
        routes = None
        for optimizer in optimizers:
            if optimizer.stage == "lower":
                if routes is None:
                    from qdframe.distribute.routing import RouteTable

                    routes = RouteTable.for_plan(plan)
                routes, report = optimizer.optimize(routes, context)
                reports.append(_report_dict(report))
        context.metrics["optimizers"] = reports
        return _Optimized(plan, routes)

    def _execute(
        self,
        circuit: QuantumCircuit,
        context: RunContext,
        config: SystemConfig,
        run_dir: RunDirectory | None,
    ) -> tuple[dict[str, int], str, dict[str, Any]]:
        from qdframe.distribute.circuit import METADATA_KEY

        backend = self._choose_backend(circuit, config, context)
        record = circuit.metadata[METADATA_KEY]
        clbits = tuple(int(b) for b in record["source_clbits"])
        batches = plan_batches(self.shots, config.recovery.checkpoint_interval, self.seed)
        workers = max(1, int(getattr(self.system.executor(), "workers", 1) or 1))
        share, concurrency = _memory_share(
            circuit, config, workers, min(config.recovery.checkpoint_interval, self.shots)
        )
        fire_job_hooks(
            self.plugins,
            context,
            [b.index for b in batches],
            max_retries=config.recovery.max_retries,
            backoff_base_s=config.recovery.backoff_base_s,
        )
        job = BatchJob(
            circuit,
            backend,
            _backend_options(backend, config, max_memory_bytes=share),
            clbits,
            str(run_dir.path) if run_dir is not None else None,
            run_dir.compress if run_dir is not None else False,
            self.noise,
            run_key=self._run_key,
            plugins=self.plugins,
        )
        started = time.perf_counter()
        counts, info = run_batches(
            job,
            batches,
            self.system.executor(),
            run_dir=run_dir,
            max_retries=config.recovery.max_retries,
            progress=self.progress,
            concurrency=concurrency,
        )
        info["time_s"] = time.perf_counter() - started
        return counts, backend, info

    def _check_estimate(
        self, circuit: QuantumCircuit, config: SystemConfig, context: RunContext
    ) -> None:
        """Say how big and long the execute stage will be; refuse it over ``max_seconds``.

        Outside the stage on purpose: a refusal is not a failure to recover from.
        """
        from qdframe.estimate import SLOW_RUN_S, check_estimate, estimate_run

        estimate = estimate_run(
            circuit,
            self.shots,
            batch_shots=config.recovery.checkpoint_interval,
            backend=self._choose_backend(circuit, config, context),
            plugins=self.plugins,
            precision=config.acceleration.precision,
        )
        context.metrics["estimate"] = estimate.to_dict()
        check_estimate(estimate, self.max_seconds)
        if estimate.seconds > SLOW_RUN_S:
            _log.warning(
                "this run may not finish soon: %s; stop it with Ctrl-C (it can be resumed) "
                "or refuse such runs with --max-seconds",
                estimate.describe(),
            )

    def _choose_backend(
        self, circuit: QuantumCircuit, config: SystemConfig, context: RunContext
    ) -> str:
        name = self.backend or config.acceleration.backend
        if name != "auto":
            self.plugins.registries.backends.get(name)  # unknown names fail here, clearly
            context.metrics["backend_reason"] = "set in the configuration"
            return name
        from qdframe_hal import BackendRequirements, select_backend

        requirements = BackendRequirements.from_circuit(
            circuit,
            precision=config.acceleration.precision,
            prefer_gpu=config.acceleration.use_gpu,
            require_gpu=config.acceleration.require_gpu,
            needs_noise=self.noise is not None,
        )
        # Judged as the run will create and use it, so the choice cannot then refuse.
        choice = select_backend(
            requirements,
            plugins=self.plugins,
            options=lambda backend: _backend_options(backend, config),
            circuit=circuit,
        )
        context.metrics["backend_reason"] = choice.reason
        return choice.backend

    # ----------------------------------------------------------------- recovery

    def _recover(
        self,
        failure: StageFailed,
        context: RunContext,
        prepared: QuantumCircuit,
        resources: ResourceManager,
        run_dir: RunDirectory | None,
    ) -> _Outcome | None:
        """Carry out the chosen recovery; return an outcome when it ends the run."""
        action: RecoveryAction = failure.action
        # Node and link ids in errors are those of the full network (the
        # configuration's), whatever part of it the failed plan used.
        for node in action.exclude_nodes:
            resources.mark_node_down(node)
        for a, b in action.exclude_links:
            resources.mark_link_down(a, b)
            if self.system.learner is not None:
                self.system.learner.observe(a, b, failed=True)
        if action.kind is RecoveryKind.ABORT:
            raise failure.error
        if action.delay_s > 0:
            time.sleep(action.delay_s)
        if action.kind is RecoveryKind.FALLBACK_CLASSICAL:
            return self._classical_fallback(prepared, context, action.reason)
        return None

    def _classical_fallback(
        self, prepared: QuantumCircuit, context: RunContext, reason: str
    ) -> _Outcome:
        """Run the original circuit on the local simulator; mark the result as fallback."""
        from qdframe.backend import DEFAULT_BACKEND, get_backend

        backend = get_backend(DEFAULT_BACKEND, plugins=self.plugins)
        result = backend.run(prepared, shots=self.shots, seed=self.seed, noise=self.noise)
        assert not isinstance(result, list)
        clbits = list(range(prepared.num_clbits))
        from qdframe.execution import marginal_counts

        context.notes.append(f"classical fallback: {reason}")
        return _Outcome(
            counts=marginal_counts(result.counts, clbits),
            backend=DEFAULT_BACKEND,
            fallback_reason=reason,
        )

    # ---------------------------------------------------------- mitigate/analyze

    def _mitigate(self, outcome: _Outcome, context: RunContext) -> _Outcome:
        """Readout mitigation when the run had a noise model and a readout mitigator exists."""
        if self.noise is None or "readout" not in self.plugins.registries.mitigators:
            return outcome
        if outcome.program is None:
            return outcome
        from qdframe.backend import get_backend

        mitigator = self.plugins.registries.mitigators.get("readout")()
        backend = get_backend(outcome.backend, plugins=self.plugins)
        noise = self.noise

        def run_fn(circuits: Any, *, shots: int, seed: int | None) -> list[dict[str, int]]:
            results = backend.run(list(circuits), shots=shots, seed=seed, noise=noise)
            assert isinstance(results, list)
            return [r.counts for r in results]

        program = outcome.program
        layout = program.layout
        final = [int(x) for x in layout.final.tolist()]
        qubit_node = layout.qubit_node
        by_node: dict[int, list[int]] = {}
        for slot in final:
            by_node.setdefault(int(qubit_node[slot]), []).append(slot)
        circuit = program.to_circuit()
        mitigator.calibrate(run_fn, by_node, seed=self.seed, num_qubits=circuit.num_qubits)
        outcome.mitigated = mitigator.apply(outcome.counts, clbit_qubits=_source_qubits(circuit))
        outcome.readout_calibration = mitigator.summary()
        return outcome

    def _analyze(
        self,
        outcome: _Outcome,
        result: RunResult,
        prepared: QuantumCircuit,
        operators: Mapping[str, Any],
        context: RunContext,
        run_dir: RunDirectory | None,
    ) -> RunResult:
        from qdframe.analysis import build_metrics, write_run_report

        result.mitigated = outcome.mitigated
        if outcome.mode_result is not None:
            result.expectation_values = dict(outcome.expectation_values)
        elif operators:
            qubit_clbit = _qubit_clbits(prepared)
            for name, op in operators.items():
                result.expectation_values[name] = _diagonal_expectation(
                    op, result.counts, qubit_clbit
                )
        if self.verify:
            result.verification = _verification(prepared, outcome, self.plugins)
            verdict = result.verification.get("verified")
            result.verified = None if verdict is None else bool(verdict)
        result.metrics = build_metrics(self, outcome, context)
        if run_dir is not None:
            result.report_path = write_run_report(run_dir.path, result, prepared, context, outcome)
        return result


@dataclass
class _Outcome:
    """What the distributed attempt (or the fallback) produced."""

    counts: dict[str, int]
    backend: str
    plan: Plan | None = None
    program: Any = None
    schedule: Any = None
    program_summary: dict[str, Any] = field(default_factory=dict)
    execute_info: dict[str, Any] = field(default_factory=dict)
    available: SubTopology | None = None
    fallback_reason: str | None = None
    mitigated: dict[str, float] | None = None
    readout_calibration: dict[str, Any] | None = None
    mode_result: Any = None
    expectation_values: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    monitor: RunMonitor | None = None


_PLAN_FILE = "allocation.json"


def _save_allocation(run_dir: RunDirectory, plan: Plan, available: SubTopology) -> None:
    """Keep the allocation, so a resumed run lowers the very same circuit."""
    import json

    from qdframe.files import atomic_write_text

    allocation = plan.allocation
    data = {
        "network_nodes": list(available.original),
        "assignment": allocation.assignment.tolist(),
        "slice_starts": allocation.slice_starts.tolist(),
        "allocator": plan.allocator,
        "reason": plan.reason,
    }
    atomic_write_text(run_dir.path / _PLAN_FILE, json.dumps(data))


def _load_allocation(run_dir: RunDirectory | None, available: SubTopology) -> Any:
    """The saved allocation, when it was made for the network now available."""
    import json

    from qdframe.allocation import Allocation

    if run_dir is None:
        return None
    try:
        data = json.loads((run_dir.path / _PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("network_nodes") != list(available.original):
        return None
    return Allocation(
        data["assignment"],
        data["slice_starts"],
        allocator=data.get("allocator", ""),
        notes={"reason": f"resumed: {data.get('reason', '')}"},
    )


@dataclass
class _Optimized:
    """The optimize stage's output: the plan to lower and the routes to use."""

    plan: Plan
    routes: Any = None


def _report_dict(report: Any) -> dict[str, Any]:
    return {
        "name": getattr(report, "name", "?"),
        "saved": dict(getattr(report, "saved", {})),
        "before": dict(getattr(report, "before", {})),
        "after": dict(getattr(report, "after", {})),
    }


def _lower(plan: Plan, config: SystemConfig, routes: Any) -> Any:
    from qdframe.distribute import compile_distributed

    return compile_distributed(None, plan, config, routes=routes)


def _schedule(program: Any, config: SystemConfig) -> Any:
    from qdframe.schedule import schedule

    return schedule(program, config)


def _link_usage(schedule: Any, available: SubTopology) -> dict[tuple[int, int], int]:
    """EPR pairs per link, in the full network's node ids."""
    usage: dict[tuple[int, int], int] = {}
    for link in schedule.links:
        if link.pairs:
            a, b = link.nodes
            usage[(available.to_original(a), available.to_original(b))] = int(link.raw_pairs)
    return usage


def _backend_options(
    backend: str, config: SystemConfig, *, max_memory_bytes: int | None = None
) -> dict[str, Any]:
    """Options for the backend's factory: precision, memory budget, then per-backend options.

    :param max_memory_bytes: this job's share of the budget (the whole
        ``[memory] max_memory_bytes`` when omitted).
    """
    options: dict[str, Any] = {
        "precision": config.acceleration.precision,
        "max_memory_bytes": (
            max_memory_bytes if max_memory_bytes is not None else config.memory.max_memory_bytes
        ),
    }
    options.update(config.acceleration.backend_options.get(backend, {}))
    return options


#: Memory one batch holds besides what its simulator checks against its share.
_JOB_RESERVE_BYTES = 16 * 1024**2
#: Share of the budget kept back when several batches run at once.
_BUDGET_HEADROOM = 0.1


def _memory_share(
    circuit: QuantumCircuit, config: SystemConfig, workers: int, batch_shots: int
) -> tuple[int, int | None]:
    """Each concurrent job's share of the memory budget, and how many may run at once.

    The budget (``[memory] max_memory_bytes``, at most what the host has
    available) is for the whole process, so it is divided among the jobs
    that run together, less a reserve per job and a headroom for what the
    simulators do not count. When one job's state needs more than an equal
    share, fewer jobs run at once (down to one, which gets the whole budget).
    """
    from qdframe.backend import AVAILABLE_MEMORY_FRACTION, statevector_bytes

    budget = config.memory.max_memory_bytes
    available = _host_available_memory()
    if available is not None:
        budget = min(budget, int(available * AVAILABLE_MEMORY_FRACTION))
    precision = config.acceleration.precision
    # A state and as much again for the simulator's buffers (its own check
    # is exact; this only chooses how many run at once), plus the sampled
    # table and its integer keys.
    need = 2 * statevector_bytes(circuit.num_qubits, precision) + batch_shots * (
        circuit.num_clbits + 24
    )
    # Each job also holds memory outside the simulator's own check (its copy
    # of the circuit, the compiled program, Python objects, the result).
    usable = int(budget * (1 - _BUDGET_HEADROOM))
    parallel = max(1, min(workers, usable // (need + _JOB_RESERVE_BYTES)))
    concurrency = None if parallel >= workers else parallel
    if parallel == 1:
        return budget, concurrency
    return max(1, usable // parallel - _JOB_RESERVE_BYTES), concurrency


def _host_available_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # memory is a budget hint, not a requirement
        return None


def _host_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # memory is a budget hint, not a requirement
        return None


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


def _verification(
    prepared: QuantumCircuit, outcome: _Outcome, plugins: LoadedPlugins
) -> dict[str, Any]:
    from qdframe.verification import verify

    if outcome.mode_result is not None:
        return {
            "verified": None,
            "method": "none",
            "reason": "circuit cutting leaves no distributed circuit to compare; "
            "see the standard errors of the estimates",
        }
    if outcome.program is None:
        return {
            "verified": None,
            "method": "none",
            "reason": "classical fallback: nothing to verify",
        }
    return verify(prepared, outcome.program, plugins=plugins).as_dict()
