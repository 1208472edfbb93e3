"""One run of a :class:`qdframe.DistributedSystem`, top to bottom.

:func:`run` opens the run (:mod:`qdframe.stages.opening`), then runs the
stages of :mod:`qdframe.stages` over one frozen run state:

1. intake (measure, circuit optimizers);
2. the *distributed attempt*: allocate → optimize → lower → schedule →
   (estimate guard) → execute; or, in the classical mode, execute by circuit
   cutting. When a stage of the attempt fails, the recovery the error
   handlers chose is carried out (:class:`qdframe.stages.recovery.Recovery`)
   and the attempt runs again on what is left, at most
   ``recovery.max_retries`` times (:meth:`qdframe.pipeline.StageRunner.run_with_recovery`).
   Shot batches that already finished are checkpointed in the run directory
   and are not run again, whichever plan produced them: every plan computes
   the same distribution over the original circuit's bits;
3. mitigate; 4. analyze, whose state holds the :class:`RunResult`.

Each stage gets what it needs when it is built (the plugin set, the run's
configuration, the executor, the resources), never the system itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from qdframe.config import CommunicationMode
from qdframe.monitor import RunMonitor
from qdframe.pipeline import StageRunner
from qdframe.stages import (
    AllocateStage,
    AnalyzeStage,
    BackendChoice,
    CuttingStage,
    ExecuteStage,
    IntakeStage,
    LowerStage,
    MitigateStage,
    OptimizeStage,
    Recovery,
    RunRequest,
    ScheduleStage,
    estimate_guard,
    open_run,
    prepare_circuit,
)
from qdframe.stages._memory import host_memory

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Executor
    from qdframe.resources import ResourceManager
    from qdframe.stages import Guard, RunResult, Stage

__all__ = ["prepare_circuit", "run"]


def run(
    request: RunRequest,
    *,
    config: SystemConfig,
    config_for: Callable[[QuantumCircuit], SystemConfig],
    plugins: LoadedPlugins,
    executor: Executor,
    learner: Any = None,
) -> RunResult:
    """Run ``request`` through the pipeline and return its result.

    :param config: the system's configuration.
    :param config_for: the configuration one circuit runs with (network sized for it).
    :param plugins: the run's plugin set; it goes to every stage, job and worker.
    :param executor: runs shot batches, ensemble members and cutting sub-experiments.
    :param learner: the adaptive link learner (told of failed links; its advice is reported).
    """
    state = open_run(request, config=config, config_for=config_for, plugins=plugins)
    run_config = state.config
    resources = _resources(run_config, plugins, executor)
    runner = StageRunner(plugins, state.context)
    level = run_config.integration.monitoring_level.value
    profile = run_config.analysis.enable_profiling and level == "detailed"
    started = time.perf_counter()
    with RunMonitor(level, profile=profile) as monitor:
        state = runner.run(IntakeStage(plugins, run_config.distributed.optimizers), state)
        state = runner.run_with_recovery(
            _attempt(request, run_config, plugins, executor, resources),
            state,
            recover=Recovery(plugins, resources, learner),
            max_retries=run_config.recovery.max_retries,
        )
        state = runner.run(MitigateStage(plugins), state)
    state = state.replace(
        wall_s=time.perf_counter() - started,
        process=monitor.metrics(),
        profile_text=monitor.profile_text or "",
    )
    state = runner.run(AnalyzeStage(plugins, resources, learner), state)
    assert state.result is not None
    return state.result


def _attempt(
    request: RunRequest,
    config: SystemConfig,
    plugins: LoadedPlugins,
    executor: Executor,
    resources: ResourceManager,
) -> Sequence[Stage | Guard]:
    """The stages of one distributed attempt, in order."""
    if config.distributed.communication_mode is CommunicationMode.CLASSICAL:
        return (CuttingStage(plugins, config, executor),)
    choose = BackendChoice(plugins, config, request.backend, request.noise)
    return (
        AllocateStage(plugins, config, resources, executor),
        OptimizeStage(plugins, config.distributed.optimizers),
        LowerStage(config),
        ScheduleStage(config, resources),
        estimate_guard(choose, request.max_seconds),
        ExecuteStage(plugins, config, executor, choose, request.progress),
    )


def _resources(config: SystemConfig, plugins: LoadedPlugins, executor: Executor) -> ResourceManager:
    from qdframe.resources import ResourceManager
    from qdframe.topology import build_topology

    return ResourceManager.from_config(
        config,
        build_topology(config, plugins=plugins),
        host_memory_bytes=host_memory(),
        executor_slots=getattr(executor, "workers", 1),
    )
