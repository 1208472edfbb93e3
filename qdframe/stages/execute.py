"""The execute stage: the backend the HAL (or the configuration) names runs the shots.

Before it, :func:`estimate_guard` says how big and long the stage will be and
refuses it over ``max_seconds`` (a guard: a refusal is not a failure to
recover from). :class:`ExecuteStage` runs the distributed circuit's shot
batches through the executor, each batch with its share of the memory
budget, checkpointed in the run directory. In the classical communication
mode :class:`CuttingStage` estimates the observables by circuit cutting
instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe.errors import ConfigError
from qdframe.stages import _memory
from qdframe.stages.state import Guard

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.context import RunContext
    from qdframe.noise import NoiseModel
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Executor
    from qdframe.stages.state import RunState

__all__ = ["BackendChoice", "CuttingStage", "ExecuteStage", "backend_options", "estimate_guard"]

_log = logging.getLogger("qdframe.run")

#: Backends that take ``spill_to_disk`` and ``spill_dir`` (``[memory]``).
_SPILLING_BACKENDS = frozenset({"numpy"})


def backend_options(
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
    memory = config.memory
    if memory.spill_to_disk and backend in _SPILLING_BACKENDS:
        options["spill_to_disk"] = True
        if memory.spill_dir is not None:
            options["spill_dir"] = memory.spill_dir
    options.update(config.acceleration.backend_options.get(backend, {}))
    return options


@dataclass(frozen=True)
class BackendChoice:
    """Which backend runs the circuit: the one asked for, or the HAL's choice.

    :param plugins: the plugin set (backends, hardware profiles).
    :param config: the run's configuration (``[acceleration]``, ``[memory]``).
    :param override: the backend the caller named (``system.run(backend=...)``).
    :param noise: the run's noise model (some backends cannot take one).
    """

    plugins: LoadedPlugins
    config: SystemConfig
    override: str | None = None
    noise: NoiseModel | None = None

    def __call__(self, circuit: QuantumCircuit, context: RunContext) -> str:
        acceleration = self.config.acceleration
        name = self.override or acceleration.backend
        if name != "auto":
            self.plugins.registries.backends.get(name)  # unknown names fail here, clearly
            context.metrics["backend_reason"] = "set in the configuration"
            return name
        from qdframe_hal import BackendRequirements, select_backend

        requirements = BackendRequirements.from_circuit(
            circuit,
            precision=acceleration.precision,
            prefer_gpu=acceleration.use_gpu,
            require_gpu=acceleration.require_gpu,
            needs_noise=self.noise is not None,
        )
        # Judged as the run will create and use it, so the choice cannot then refuse.
        choice = select_backend(
            requirements,
            plugins=self.plugins,
            options=lambda backend: backend_options(backend, self.config),
            circuit=circuit,
        )
        context.metrics["backend_reason"] = choice.reason
        return choice.backend


def estimate_guard(choose: BackendChoice, max_seconds: float | None) -> Guard:
    """The check before execute: the executable circuit, its estimate, a refusal over the limit."""

    def check(state: RunState) -> RunState:
        from qdframe.backend import memory_budget
        from qdframe.estimate import (
            SLOW_RUN_S,
            check_estimate,
            check_memory_fits,
            estimate_run,
            simulation_profile,
        )

        circuit = state.require_program().to_circuit()
        config = choose.config
        noisy = state.noise is not None and not state.noise.is_ideal
        profile = simulation_profile(circuit, noisy=noisy)
        if _dense_methods(config) and not config.memory.spill_to_disk:
            # One refusal, with what would help, before a backend is chosen
            # (a state that spills to disk is checked by its backend instead).
            budget = memory_budget(config.memory.max_memory_bytes)
            check_memory_fits(
                profile,
                precision=config.acceleration.precision,
                budget_bytes=budget.bytes,
                budget_source=budget.source,
                data_qubits=len(state.require_program().layout.initial),
            )
        estimate = estimate_run(
            circuit,
            state.shots,
            batch_shots=config.recovery.checkpoint_interval,
            backend=choose(circuit, state.context),
            plugins=choose.plugins,
            precision=config.acceleration.precision,
            noisy=noisy,
            profile=profile,
        )
        state.context.metrics["estimate"] = estimate.to_dict()
        check_estimate(estimate, max_seconds)
        if estimate.seconds > SLOW_RUN_S:
            _log.warning(
                "this run may not finish soon: %s; stop it with Ctrl-C (it can be resumed) "
                "or refuse such runs with --max-seconds",
                estimate.describe(),
            )
        return state.replace(executable=circuit)

    return Guard("estimate", check)


def _dense_methods(config: SystemConfig) -> bool:
    """Whether every configured backend keeps a dense state (no ``method`` such as
    ``matrix_product_state`` that needs far less memory than a statevector)."""
    dense = {None, "automatic", "statevector"}
    return all(
        options.get("method") in dense for options in config.acceleration.backend_options.values()
    )


@dataclass(frozen=True)
class ExecuteStage:
    """Run the executable circuit's shots in checkpointed batches through the executor.

    :param plugins: the plugin set (backends; it travels with every job).
    :param config: the run's configuration (``[recovery]``, ``[memory]``, ``[acceleration]``).
    :param executor: runs the batches.
    :param choose: picks the backend.
    :param progress: ``progress(done, total)`` over shot batches.
    """

    plugins: LoadedPlugins
    config: SystemConfig
    executor: Executor
    choose: BackendChoice
    progress: Callable[[int, int], None] | None = None
    name: str = "execute"

    def run(self, state: RunState) -> RunState:
        from qdframe.distribute.circuit import METADATA_KEY
        from qdframe.execution import BatchJob, fire_job_hooks, plan_batches, run_batches

        circuit = state.executable
        if circuit is None:
            raise RuntimeError("the run state has no executable circuit (the estimate sets it)")
        recovery = self.config.recovery
        backend = self.choose(circuit, state.context)
        clbits = tuple(int(b) for b in circuit.metadata[METADATA_KEY]["source_clbits"])
        batches = plan_batches(state.shots, recovery.checkpoint_interval, state.seed)
        workers = max(1, int(getattr(self.executor, "workers", 1) or 1))
        share, concurrency = _memory.memory_share(
            circuit, self.config, workers, min(recovery.checkpoint_interval, state.shots)
        )
        fire_job_hooks(
            self.plugins,
            state.context,
            [b.index for b in batches],
            max_retries=recovery.max_retries,
            backoff_base_s=recovery.backoff_base_s,
        )
        run_dir = state.run_dir
        job = BatchJob(
            circuit,
            backend,
            backend_options(backend, self.config, max_memory_bytes=share),
            clbits,
            str(run_dir.path) if run_dir is not None else None,
            run_dir.compress if run_dir is not None else False,
            state.noise,
            run_key=state.run_key,
            plugins=self.plugins,
        )
        started = time.perf_counter()
        counts, info = run_batches(
            job,
            batches,
            self.executor,
            run_dir=run_dir,
            max_retries=recovery.max_retries,
            progress=self.progress,
            concurrency=concurrency,
        )
        info["time_s"] = time.perf_counter() - started
        return state.replace(counts=counts, backend=backend, execute_info=info)

    def hook_input(self, state: RunState) -> Any:
        return state.executable

    def hook_output(self, state: RunState) -> Any:
        return (dict(state.counts), state.backend, dict(state.execute_info))


@dataclass(frozen=True)
class CuttingStage:
    """Classical communication: estimate the observables by circuit cutting.

    The cut pieces fit ``qubits_per_node``; the sub-experiments run through
    the executor. There are no counts, only expectation values.

    :param plugins: the plugin set (communication modes, backends).
    :param config: the run's configuration.
    :param executor: runs the sub-experiments.
    """

    plugins: LoadedPlugins
    config: SystemConfig
    executor: Executor
    name: str = "execute"

    def run(self, state: RunState) -> RunState:
        from qdframe.distribute.modes import run_mode

        if not state.observables:
            raise ConfigError(
                "communication_mode 'classical' estimates expectation values by circuit "
                "cutting; give at least one observable (--observable ZZII)",
                key_path="distributed.communication_mode",
            )
        names = list(state.observables)
        source = state.circuit if state.circuit is not None else state.require_prepared()
        bare = source.remove_final_measurements(inplace=False)
        result = run_mode(
            "classical",
            bare,
            None,
            [state.observables[n] for n in names],
            self.config,
            shots=state.shots,
            seed=state.seed,
            executor=self.executor,
            plugins=self.plugins,
        )
        return state.replace(
            counts={},
            backend="cutting",
            mode_result=result,
            expectation_values=dict(zip(names, result.expectation_values, strict=True)),
        )

    def hook_input(self, state: RunState) -> Any:
        return state.circuit

    def hook_output(self, state: RunState) -> Any:
        return state.mode_result
