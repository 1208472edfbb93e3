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

__all__ = ["PIPELINE_STAGES", "PROJECT_NAME", "hookimpl", "hookspec"]

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
        ``factory(**options)`` returns a :class:`qdframe.protocols.Executor`.
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
# ``value`` is the stage's input for ``before`` hooks and its output for
# ``after`` hooks; plugins observe it and must not mutate it.
# --------------------------------------------------------------------------


@hookspec
def qdframe_before_intake(context: RunContext, value: Any) -> None:
    """Fires before the intake stage loads and normalises the circuit.

    :param context: the run's context (config, run directory, metrics).
    :param value: the circuit as given (a ``QuantumCircuit`` or a file path).
    :returns: nothing.
    """


@hookspec
def qdframe_after_intake(context: RunContext, value: Any) -> None:
    """Fires after intake with the normalised ``QuantumCircuit``.

    :param context: the run's context.
    :param value: the circuit in the distribution basis.
    :returns: nothing.
    """


@hookspec
def qdframe_before_allocate(context: RunContext, value: Any) -> None:
    """Fires before qubits are allocated to nodes.

    :param context: the run's context.
    :param value: the allocation problem (circuit and topology).
    :returns: nothing.
    """


@hookspec
def qdframe_after_allocate(context: RunContext, value: Any) -> None:
    """Fires after allocation with the chosen allocation.

    :param context: the run's context.
    :param value: the allocation (qubit → node, possibly per time slice).
    :returns: nothing.
    """


@hookspec
def qdframe_before_optimize(context: RunContext, value: Any) -> None:
    """Fires before the optimizer plugins run, in configured order.

    :param context: the run's context.
    :param value: the allocated circuit the optimizers will work on.
    :returns: nothing.
    """


@hookspec
def qdframe_after_optimize(context: RunContext, value: Any) -> None:
    """Fires after every optimizer has run.

    :param context: the run's context.
    :param value: the optimized allocated circuit with each optimizer's report.
    :returns: nothing.
    """


@hookspec
def qdframe_before_lower(context: RunContext, value: Any) -> None:
    """Fires before non-local gates are lowered to protocols or cuts.

    :param context: the run's context.
    :param value: the optimized allocated circuit.
    :returns: nothing.
    """


@hookspec
def qdframe_after_lower(context: RunContext, value: Any) -> None:
    """Fires after lowering with the distributed program.

    :param context: the run's context.
    :param value: the distributed program (circuit, network operations).
    :returns: nothing.
    """


@hookspec
def qdframe_before_schedule(context: RunContext, value: Any) -> None:
    """Fires before the distributed program is scheduled on the network.

    :param context: the run's context.
    :param value: the distributed program.
    :returns: nothing.
    """


@hookspec
def qdframe_after_schedule(context: RunContext, value: Any) -> None:
    """Fires after scheduling with the schedule (makespan, fidelity estimate).

    :param context: the run's context.
    :param value: the schedule.
    :returns: nothing.
    """


@hookspec
def qdframe_before_execute(context: RunContext, value: Any) -> None:
    """Fires before the backend runs the distributed circuit.

    :param context: the run's context.
    :param value: the jobs about to be submitted to the executor.
    :returns: nothing.
    """


@hookspec
def qdframe_after_execute(context: RunContext, value: Any) -> None:
    """Fires after execution with the raw backend results.

    :param context: the run's context.
    :param value: the backend results, in submission order.
    :returns: nothing.
    """


@hookspec
def qdframe_before_mitigate(context: RunContext, value: Any) -> None:
    """Fires before error mitigation.

    :param context: the run's context.
    :param value: the raw results.
    :returns: nothing.
    """


@hookspec
def qdframe_after_mitigate(context: RunContext, value: Any) -> None:
    """Fires after error mitigation with the mitigated results.

    :param context: the run's context.
    :param value: the mitigated results.
    :returns: nothing.
    """


@hookspec
def qdframe_before_analyze(context: RunContext, value: Any) -> None:
    """Fires before metrics and reports are produced.

    :param context: the run's context.
    :param value: the mitigated results.
    :returns: nothing.
    """


@hookspec
def qdframe_after_analyze(context: RunContext, value: Any) -> None:
    """Fires after analysis with the run's final result.

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
