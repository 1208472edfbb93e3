"""Plan and lower a circuit once, then run it for many parameter bindings.

:func:`lower_circuit` takes a (possibly parameterised) circuit through the
allocate, optimize, lower and schedule stages of the pipeline, with their
plugin hooks, exactly once: symbolic angles count as basis-mixing gates, so
the allocation and the protocols hold for every binding. :func:`run_bindings`
then binds each parameter set into the lowered circuit and samples it through
the system's executor, one job per shot batch, as ``DistributedSystem.run``
does for a single circuit.

A failed stage is retried when the error handlers ask for a retry; any other
recovery (re-routing round a failed link, a classical fallback) is what
``DistributedSystem.run`` is for, so here the stage's own error is raised.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from qdframe.config import CommunicationMode, SystemConfig
from qdframe.context import RecoveryKind, RunContext
from qdframe.errors import ConfigError
from qdframe.execution import ShotBatch, fire_job_hooks, marginal_counts, plan_batches
from qdframe.pipeline import StageFailed, run_stage

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    from qdframe.noise import NoiseModel
    from qdframe.plugins import LoadedPlugins
    from qdframe.system import DistributedSystem

__all__ = [
    "BindingJob",
    "LoweredCircuit",
    "Sampling",
    "execute_jobs",
    "lower_circuit",
    "new_context",
    "plugins_of",
    "run_bindings",
]

T = TypeVar("T")
J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True)
class LoweredCircuit:
    """A circuit planned and lowered once.

    :param circuit: the distributed program's circuit, parameters unbound.
    :param parameters: the source circuit's parameters, in
        ``source.parameters`` order (the columns of a bindings array).
    :param clbits: position in ``circuit`` of each source classical bit.
    :param final: physical qubit holding each source qubit at the end.
    :param backend: the backend that runs it.
    :param backend_options: options for the backend's factory.
    :param summary: ebits, swaps, makespan, fidelity estimate and the like.
    """

    circuit: QuantumCircuit
    parameters: tuple[Parameter, ...]
    clbits: tuple[int, ...]
    final: tuple[int, ...]
    backend: str
    backend_options: dict[str, Any]
    config: SystemConfig
    summary: dict[str, Any] = field(default_factory=dict)

    def job(
        self,
        circuit: QuantumCircuit | None = None,
        clbits: Sequence[int] | None = None,
        *,
        noise: NoiseModel | None = None,
    ) -> BindingJob:
        """A job that runs ``circuit`` (this one by default) over ``clbits``."""
        return BindingJob(
            self.circuit if circuit is None else circuit,
            self.parameters,
            tuple(self.clbits if clbits is None else clbits),
            self.backend,
            dict(self.backend_options),
            noise,
        )


def plugins_of(system: DistributedSystem) -> LoadedPlugins:
    """The system's plugin set (loading it on first use)."""
    system.initialize()
    plugins = system.plugins
    assert plugins is not None
    return plugins


def _stage(
    plugins: LoadedPlugins,
    context: RunContext,
    stage: str,
    fn: Callable[[Any], T],
    value: Any,
) -> T:
    """Run one stage with its hooks; retry while the handlers ask for it."""
    retries = context.config.recovery.max_retries
    for attempt in itertools.count():
        try:
            return run_stage(plugins, context, stage, fn, value, attempt=attempt)
        except StageFailed as failure:
            if failure.action.kind is not RecoveryKind.RETRY or attempt >= retries:
                raise failure.error from failure
            time.sleep(failure.action.delay_s)
    raise AssertionError("unreachable")  # pragma: no cover


def new_context(config: SystemConfig, plugins: LoadedPlugins, name: str) -> RunContext:
    """A run context for one PUB, so stage hooks see what they see in a run."""
    return RunContext(
        run_id=f"{name or 'circuit'}-{uuid.uuid4().hex[:8]}",
        config=config,
        error_handlers=tuple(e.obj for e in plugins.registries.error_handlers.entries()),
    )


def lower_circuit(
    system: DistributedSystem,
    circuit: QuantumCircuit,
    *,
    seed: int,
    noise: NoiseModel | None = None,
) -> tuple[LoweredCircuit, RunContext]:
    """Plan, optimize, lower and schedule ``circuit`` (parameters kept unbound).

    :raises ConfigError: the communication mode is ``classical`` (circuit
        cutting leaves no program to sample).
    :raises CapacityError: the network holds fewer data qubits than the circuit.
    """
    from qdframe.distribute import compile_distributed
    from qdframe.distribute.circuit import METADATA_KEY
    from qdframe.planning import make_plan
    from qdframe.schedule import schedule
    from qdframe.topology import build_topology

    plugins = plugins_of(system)
    config = system.config_for(circuit)
    mode = config.distributed.communication_mode
    if mode is CommunicationMode.CLASSICAL:
        raise ConfigError(
            "communication_mode 'classical' cuts circuits instead of lowering them, so there "
            "is no distributed program to sample; use 'quantum' or 'hybrid' (the Estimator "
            "does support 'classical')",
            key_path="distributed.communication_mode",
        )
    context = new_context(config, plugins, circuit.name)
    topology = build_topology(config, plugins=plugins)
    executor = system.executor()
    plan = _stage(
        plugins,
        context,
        "allocate",
        lambda c: make_plan(
            c,
            config,
            plugins=plugins,
            seed=seed,
            topology=topology,
            executor=executor,
            allow_parameters=True,
        ),
        circuit,
    )
    routes, skipped = _stage(
        plugins, context, "optimize", lambda p: _route_optimizers(p, config, plugins, context), plan
    )
    program = _stage(
        plugins,
        context,
        "lower",
        lambda p: compile_distributed(None, p, config, routes=routes),
        plan,
    )
    timing = _stage(plugins, context, "schedule", lambda p: schedule(p, config), program)
    distributed = program.to_circuit()
    record = distributed.metadata[METADATA_KEY]
    backend = _choose_backend(distributed, config, plugins, noise)
    summary: dict[str, Any] = {
        "ebits": int(program.ebits),
        "swaps": int(program.swaps),
        "makespan_us": float(timing.makespan_us),
        "fidelity_estimate": float(timing.fidelity_estimate),
        "allocator": plan.allocator,
        "communication_mode": mode.value,
        "backend": backend,
        "nodes": int(topology.num_nodes),
        "simulated_qubits": int(distributed.num_qubits),
    }
    if skipped:
        summary["skipped_optimizers"] = skipped
    lowered = LoweredCircuit(
        circuit=distributed,
        parameters=tuple(circuit.parameters),
        clbits=tuple(int(b) for b in record["source_clbits"]),
        final=tuple(int(q) for q in record["final"]),
        backend=backend,
        backend_options=_backend_options(backend, config),
        config=config,
        summary=summary,
    )
    return lowered, context


def _route_optimizers(
    plan: Any, config: SystemConfig, plugins: LoadedPlugins, context: RunContext
) -> tuple[Any, list[str]]:
    """Route choices from the configured ``lower`` optimizers.

    Circuit optimizers rewrite bound circuits; a PUB's circuit keeps its
    parameters, so they are skipped (and named in the PUB's metadata).
    """
    routes = None
    skipped: list[str] = []
    registry = plugins.registries.optimizers
    for name in config.distributed.optimizers:
        optimizer = registry.get(name)()
        if optimizer.stage != "lower":
            skipped.append(name)
            continue
        if routes is None:
            from qdframe.distribute.routing import RouteTable

            routes = RouteTable.for_plan(plan)
        routes, _ = optimizer.optimize(routes, context)
    return routes, skipped


def _choose_backend(
    circuit: QuantumCircuit, config: SystemConfig, plugins: LoadedPlugins, noise: Any
) -> str:
    name = config.acceleration.backend
    if name != "auto":
        plugins.registries.backends.get(name)  # an unknown name fails here, clearly
        return name
    from qdframe_hal import BackendRequirements, select_backend

    requirements = BackendRequirements.from_circuit(
        circuit,
        precision=config.acceleration.precision,
        prefer_gpu=config.acceleration.use_gpu,
        require_gpu=config.acceleration.require_gpu,
        needs_noise=noise is not None,
    )
    return select_backend(requirements, plugins=plugins).backend


def _backend_options(backend: str, config: SystemConfig) -> dict[str, Any]:
    options: dict[str, Any] = {
        "precision": config.acceleration.precision,
        "max_memory_bytes": config.memory.max_memory_bytes,
    }
    options.update(config.acceleration.backend_options.get(backend, {}))
    return options


@dataclass(frozen=True)
class BindingJob:
    """Binds one parameter set into a lowered circuit and samples it.

    Picklable, so process pools and Dask workers can run it.
    """

    circuit: QuantumCircuit
    parameters: tuple[Parameter, ...]
    clbits: tuple[int, ...]
    backend: str
    backend_options: dict[str, Any]
    noise: NoiseModel | None = None

    def bound(self, values: Sequence[float]) -> QuantumCircuit:
        """The circuit with ``values`` (in ``parameters`` order) bound."""
        if not self.parameters:
            return self.circuit
        binding = dict(zip(self.parameters, (float(v) for v in values), strict=True))
        # Lowering may drop a parameter whose gates vanished; that is no error.
        return self.circuit.assign_parameters(binding, inplace=False, strict=False)


@dataclass(frozen=True)
class _Task:
    job: BindingJob
    values: tuple[float, ...]
    batch: ShotBatch


def _run_task(task: _Task) -> dict[str, int]:
    from qdframe.backend import get_backend

    job = task.job
    backend = get_backend(job.backend, **job.backend_options)
    result = backend.run(
        job.bound(task.values), shots=task.batch.shots, seed=task.batch.seed, noise=job.noise
    ).single()
    return marginal_counts(result.counts, job.clbits)


@dataclass(frozen=True)
class Sampling:
    """One parameter set of one lowered circuit to sample ``shots`` times."""

    job: BindingJob
    values: tuple[float, ...]
    shots: int
    seed: int


def execute_jobs(
    system: DistributedSystem,
    context: RunContext,
    fn: Callable[[J], R],
    jobs: Sequence[J],
) -> list[R]:
    """``fn`` over ``jobs`` on the system's executor, as the execute stage of ``context``."""
    config = context.config
    plugins = plugins_of(system)

    def execute(todo: Sequence[J]) -> list[R]:
        fire_job_hooks(
            plugins,
            context,
            list(range(len(todo))),
            max_retries=config.recovery.max_retries,
            backoff_base_s=config.recovery.backoff_base_s,
        )
        return system.executor().map(fn, todo, max_retries=config.recovery.max_retries)

    return _stage(plugins, context, "execute", execute, jobs) if jobs else []


def run_bindings(
    system: DistributedSystem, context: RunContext, items: Sequence[Sampling]
) -> list[dict[str, int]]:
    """Counts of each item, over its job's classical bits, in item order.

    Every item's shots are split into ``[recovery] checkpoint_interval``
    batches; all batches go through the system's executor in one map, as
    the execute stage (with its hooks) of ``context``.
    """
    config = context.config
    tasks: list[_Task] = []
    owner: list[int] = []
    for index, item in enumerate(items):
        for batch in plan_batches(item.shots, config.recovery.checkpoint_interval, item.seed):
            tasks.append(_Task(item.job, item.values, batch))
            owner.append(index)

    results = execute_jobs(system, context, _run_task, tasks)
    totals: list[Counter[str]] = [Counter() for _ in items]
    for index, counts in zip(owner, results, strict=True):
        totals[index].update(counts)
    return [dict(total) for total in totals]
