"""Every hook qdframe calls, in one place.

Hooks are grouped as in pytest's ``hookspec.py``: registration hooks that fill
the registries at start-up, one configuration hook, the pipeline hooks that fire
before and after each stage of a run, and the error hook whose first answer
decides how a failure is recovered.

Plugin authors implement hooks with :data:`qdframe.hookimpl`::

    import qdframe

    @qdframe.hookimpl
    def qdframe_register_topologies(registry):
        registry.add("moebius", build_moebius, description="Moebius ladder")

Every hook is documented in ``docs/hooks.md``; a test checks that the page and
this module agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from qdframe.config import SystemConfig
    from qdframe.context import RecoveryAction, RunContext
    from qdframe.registry import Registrar
    from qdframe.stages.state import RunState

__all__ = [
    "PIPELINE_STAGES",
    "PROJECT_NAME",
    "StageHookDeprecationWarning",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "qdframe"

#: The stages of one run, in the order they fire.
PIPELINE_STAGES: tuple[str, ...] = (
    "intake",
    "allocate",
    "optimize",
    "lower",
    "schedule",
    "execute",
    "mitigate",
    "analyze",
)

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class StageHookDeprecationWarning(DeprecationWarning):
    """A plugin implements a per-stage hook (``qdframe_before_<stage>`` or
    ``qdframe_after_<stage>``); implement ``qdframe_before_stage`` /
    ``qdframe_after_stage`` instead, which receive the stage's name."""


def _deprecated(name: str) -> StageHookDeprecationWarning:
    when, stage = name.removeprefix("qdframe_").split("_", 1)
    return StageHookDeprecationWarning(
        f"{name} is deprecated; implement qdframe_{when}_stage(stage, context, state) "
        f"and act when stage == {stage!r}"
    )


# --------------------------------------------------------------------------
# Registration hooks: fire once, when the registries are first needed.
# Each receives a registrar whose ``add(name, obj, *, description="")``
# records ``obj`` under ``name`` on behalf of the calling plugin.
# --------------------------------------------------------------------------


@hookspec
def qdframe_register_backends(registry: Registrar) -> None:
    """Register simulator backends.

    Fires once per plugin set, when a backend is first looked up.

    :param registry: add each backend as ``registry.add(name, factory)`` where
        ``factory(**options)`` returns an object satisfying
        :class:`qdframe.protocols.Backend`. A class whose constructor takes
        keyword options is a valid factory.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_topologies(registry: Registrar) -> None:
    """Register network topologies.

    Fires once per plugin set, when a topology is first looked up.

    :param registry: add each topology as ``registry.add(name, builder)`` where
        ``builder`` satisfies :class:`qdframe.protocols.TopologyBuilder`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_allocators(registry: Registrar) -> None:
    """Register qubit allocators (qubit → node assignment strategies).

    Fires once per plugin set, when an allocator is first looked up.

    :param registry: add each allocator as ``registry.add(name, factory)`` where
        ``factory(**options)`` returns a :class:`qdframe.protocols.Allocator`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_optimizers(registry: Registrar) -> None:
    """Register optimizers (circuit pre-optimisation, burst merging, routing).

    Fires once per plugin set, when an optimizer is first looked up.

    :param registry: add each optimizer as ``registry.add(name, factory)`` where
        ``factory(**options)`` returns a :class:`qdframe.protocols.Optimizer`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_error_handlers(registry: Registrar) -> None:
    """Register error handlers used by the built-in :func:`qdframe_handle_error`.

    Fires once per plugin set, when error handling is first needed.

    :param registry: add each handler as ``registry.add(name, handler)`` where
        ``handler`` satisfies :class:`qdframe.protocols.ErrorHandler`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_executors(registry: Registrar) -> None:
    """Register executors that run independent jobs (local pool, Dask, ...).

    Fires once per plugin set, when an executor is first looked up.

    :param registry: add each executor as ``registry.add(name, factory)`` where
        ``factory(*, config, **options)`` returns a :class:`qdframe.protocols.Executor`
        (``config`` is the run's :class:`qdframe.config.SystemConfig`).
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_communication_modes(registry: Registrar) -> None:
    """Register communication modes carried out outside the EPR lowering.

    Fires once per plugin set, when a run in a mode other than ``quantum``
    first needs one (the built-in cutting plugin adds ``classical`` and
    ``hybrid``).

    :param registry: add each mode as ``registry.add(name, factory)`` where
        ``factory()`` returns a :class:`qdframe.distribute.modes.CommunicationMode`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_mitigators(registry: Registrar) -> None:
    """Register error mitigators (readout-error mitigation, zero-noise extrapolation).

    Fires once per plugin set, when the mitigate stage first needs them.

    :param registry: add each mitigator as ``registry.add(name, factory)`` where
        ``factory(**options)`` returns a :class:`qdframe.protocols.Mitigator`.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_hardware_profiles(registry: Registrar) -> None:
    """Register hardware profiles the HAL can match a host against.

    Fires once per plugin set, when the HAL first needs its profiles.

    :param registry: add each profile as ``registry.add(system_type, profile)``
        where ``profile`` is a :class:`qdframe_hal.HardwareProfile` whose
        ``system_type`` equals the name.
    :returns: nothing; results go through ``registry``.
    """


@hookspec
def qdframe_register_tunable_settings(registry: Registrar) -> None:
    """Declare settings the tuner may vary and the sharing network may apply.

    Fires once per plugin set, when the tuner or the network client starts.
    Only declared settings are ever applied from shared data (a whitelist).

    :param registry: add each setting as ``registry.add(key, setting)`` where
        ``setting`` is a :class:`qdframe.settings.TunableSetting` whose ``key``
        equals the name (a dotted configuration path such as
        ``"acceleration.precision"``).
    :returns: nothing; results go through ``registry``.
    """


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


@hookspec
def qdframe_configure(config: SystemConfig) -> None:
    """Let plugins read the configuration a system was started with.

    Fires once when a :class:`qdframe.DistributedSystem` is initialised, after
    every plugin is loaded and before the first stage runs.

    :param config: the validated system configuration (read-only).
    :returns: nothing.
    """


# --------------------------------------------------------------------------
# Pipeline hooks: fire around each stage of a run, in PIPELINE_STAGES order.
# ``state`` is the frozen run state the stage receives (``before``) or
# returns (``after``); plugins read it and may add to ``context.metrics``
# and ``context.notes``.
# --------------------------------------------------------------------------


@hookspec
def qdframe_before_stage(stage: str, context: RunContext, state: RunState | None) -> None:
    """Fires before every stage of a run, in ``PIPELINE_STAGES`` order.

    Raising here fails the stage: the error goes through
    ``qdframe_handle_error`` exactly like one the stage raised (this is how
    the built-in ``faults`` plugin injects failures). Stages from allocate to
    execute fire again on every recovery attempt.

    :param stage: the stage about to run, one of ``PIPELINE_STAGES``.
    :param context: the run's context; ``context.stage`` equals ``stage``.
    :param state: the :class:`qdframe.stages.RunState` the stage receives
        (read-only; ``None`` when a stage runs outside a whole run, as in the
        Qiskit primitives).
    :returns: nothing.
    """


@hookspec
def qdframe_after_stage(stage: str, context: RunContext, state: RunState | None) -> None:
    """Fires after every stage of a run that returned, with the state it returned.

    Does not fire for a stage that raised (``qdframe_handle_error`` does).

    :param stage: the stage that ran, one of ``PIPELINE_STAGES``.
    :param context: the run's context (the stage's timing is in
        ``context.metrics["stage_seconds"]``).
    :param state: the :class:`qdframe.stages.RunState` the stage returned
        (read-only; ``None`` outside a whole run).
    :returns: nothing.
    """


# --------------------------------------------------------------------------
# Deprecated per-stage hooks: still called, after the generic ones; pluggy
# warns (StageHookDeprecationWarning) when a plugin implementing one registers.
# ``value`` is the stage's input for ``before`` hooks and its output for
# ``after`` hooks; plugins observe it and must not mutate it.
# --------------------------------------------------------------------------


@hookspec(warn_on_impl=_deprecated("qdframe_before_intake"))
def qdframe_before_intake(context: RunContext, value: Any) -> None:
    """Fires before the intake stage loads and normalises the circuit.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context (config, run directory, metrics).
    :param value: the circuit as given (a ``QuantumCircuit`` or a file path).
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_intake"))
def qdframe_after_intake(context: RunContext, value: Any) -> None:
    """Fires after intake with the normalised ``QuantumCircuit``.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the circuit in the distribution basis.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_allocate"))
def qdframe_before_allocate(context: RunContext, value: Any) -> None:
    """Fires before qubits are allocated to nodes.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the allocation problem (circuit and topology).
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_allocate"))
def qdframe_after_allocate(context: RunContext, value: Any) -> None:
    """Fires after allocation with the chosen allocation.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the allocation (qubit → node, possibly per time slice).
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_optimize"))
def qdframe_before_optimize(context: RunContext, value: Any) -> None:
    """Fires before the optimizer plugins run, in configured order.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the allocated circuit the optimizers will work on.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_optimize"))
def qdframe_after_optimize(context: RunContext, value: Any) -> None:
    """Fires after every optimizer has run.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the optimized allocated circuit with each optimizer's report.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_lower"))
def qdframe_before_lower(context: RunContext, value: Any) -> None:
    """Fires before non-local gates are lowered to protocols or cuts.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the optimized allocated circuit.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_lower"))
def qdframe_after_lower(context: RunContext, value: Any) -> None:
    """Fires after lowering with the distributed program.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the distributed program (circuit, network operations).
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_schedule"))
def qdframe_before_schedule(context: RunContext, value: Any) -> None:
    """Fires before the distributed program is scheduled on the network.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the distributed program.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_schedule"))
def qdframe_after_schedule(context: RunContext, value: Any) -> None:
    """Fires after scheduling with the schedule (makespan, fidelity estimate).

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the schedule.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_execute"))
def qdframe_before_execute(context: RunContext, value: Any) -> None:
    """Fires before the backend runs the distributed circuit.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the jobs about to be submitted to the executor.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_execute"))
def qdframe_after_execute(context: RunContext, value: Any) -> None:
    """Fires after execution with the raw backend results.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the backend results, in submission order.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_mitigate"))
def qdframe_before_mitigate(context: RunContext, value: Any) -> None:
    """Fires before error mitigation.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the raw results.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_mitigate"))
def qdframe_after_mitigate(context: RunContext, value: Any) -> None:
    """Fires after error mitigation with the mitigated results.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the mitigated results.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_before_analyze"))
def qdframe_before_analyze(context: RunContext, value: Any) -> None:
    """Fires before metrics and reports are produced.

    *Deprecated*: implement ``qdframe_before_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the mitigated results.
    :returns: nothing.
    """


@hookspec(warn_on_impl=_deprecated("qdframe_after_analyze"))
def qdframe_after_analyze(context: RunContext, value: Any) -> None:
    """Fires after analysis with the run's final result.

    *Deprecated*: implement ``qdframe_after_stage`` instead (still called,
    after it).

    :param context: the run's context.
    :param value: the result returned to the caller.
    :returns: nothing.
    """


@hookspec
def qdframe_before_job(context: RunContext, job_index: int) -> None:
    """Fires once per job of the execute stage, before the jobs are submitted.

    A job is one unit of independent work: a shot batch, a circuit of a batch,
    a cutting sub-experiment. Raising here fails that job: the hook is fired
    again, with exponential backoff, up to ``recovery.max_retries`` times; when
    it still raises, the execute stage fails with that error and
    ``qdframe_handle_error`` decides the recovery.

    :param context: the run's context.
    :param job_index: the job's position in submission order (0-based).
    :returns: nothing.
    """


# --------------------------------------------------------------------------
# Error handling
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def qdframe_handle_error(
    error: BaseException, context: RunContext, attempt: int
) -> RecoveryAction | None:
    """Decide how to recover from an error raised by a stage.

    Fires when a stage raises. The first non-``None`` answer wins, so a plugin
    that wants to override the defaults uses ``tryfirst=True``.

    :param error: the exception the stage raised.
    :param context: the run's context; ``context.stage`` names the failed stage.
    :param attempt: how many times this stage has already been retried (0 on
        the first failure).
    :returns: the :class:`qdframe.context.RecoveryAction` to take, or ``None``
        to let the next implementation decide.
    """
