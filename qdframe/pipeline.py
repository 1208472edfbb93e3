"""Running the stages of the pipeline: hooks, failures and the bounded recovery loop.

Every stage (see :data:`qdframe.hookspecs.PIPELINE_STAGES`) runs between its
hooks: ``qdframe_before_stage`` sees the state it gets, the stage runs,
``qdframe_after_stage`` sees the state it returns (the deprecated
``qdframe_before_<stage>`` / ``qdframe_after_<stage>`` hooks still fire,
after the generic ones). When a stage raises, ``qdframe_handle_error`` is
asked how to recover; the answer travels with :class:`StageFailed`.

:class:`StageRunner` runs :class:`qdframe.stages.Stage` objects over a
:class:`qdframe.stages.RunState`. Its :meth:`StageRunner.run_with_recovery`
owns the recovery loop: a failed attempt is handed to the caller's recovery
function, and an attempt that the handlers keep asking to run again stops
after ``recovery.max_retries`` re-runs with :class:`RetriesExhaustedError`.
:func:`run_stage` runs one plain function as a stage, for callers that lower
circuits outside a whole run (the Qiskit primitives).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import DistributionError, QdframeError
from qdframe.hookspecs import PIPELINE_STAGES
from qdframe.plugins import LoadedPlugins

if TYPE_CHECKING:
    from qdframe.stages.state import Guard, RunState, Stage

__all__ = [
    "RERUN_KINDS",
    "RetriesExhaustedError",
    "StageFailed",
    "StageRunner",
    "configure_plugins",
    "run_stage",
]

T = TypeVar("T")

#: Recovery actions that run the distributed attempt again (bounded by
#: ``recovery.max_retries``); ``fallback_classical`` ends the run, ``abort`` fails it.
RERUN_KINDS = frozenset({RecoveryKind.RETRY, RecoveryKind.REROUTE, RecoveryKind.REALLOCATE})


class StageFailed(DistributionError):
    """A stage raised; ``action`` is the recovery the error hook chose."""

    def __init__(self, stage: str, error: BaseException, action: RecoveryAction) -> None:
        self.stage = stage
        self.error = error
        self.action = action
        super().__init__(f"stage {stage!r} failed: {error} (recovery: {action.kind.value})")
        if isinstance(error, QdframeError):
            self.exit_code = error.exit_code


class RetriesExhaustedError(DistributionError):
    """The handlers asked to run the attempt again more often than allowed.

    ``failure`` is the last :class:`StageFailed`; ``max_retries`` the bound
    (``recovery.max_retries``). The last stage error is the ``__cause__``.
    """

    def __init__(self, failure: StageFailed, max_retries: int) -> None:
        self.failure = failure
        self.max_retries = max_retries
        super().__init__(
            f"stage {failure.stage!r} still fails after {max_retries} recoveries "
            f"(recovery.max_retries={max_retries}); the last error was "
            f"{type(failure.error).__name__}: {failure.error}, and the handlers asked to "
            f"{failure.action.kind.value} again ({failure.action.reason}); raise "
            "recovery.max_retries or fix the cause"
        )


def _event(
    stage: str, error: BaseException, attempt: int, action: RecoveryAction
) -> dict[str, Any]:
    return {
        "stage": stage,
        "error": type(error).__name__,
        "message": str(error),
        "attempt": attempt,
        "action": action.kind.value,
        "reason": action.reason,
        "delay_s": action.delay_s,
        "exclude_nodes": sorted(action.exclude_nodes),
        "exclude_links": [list(link) for link in sorted(action.exclude_links)],
    }


def configure_plugins(plugins: LoadedPlugins, config: Any) -> None:
    """Fire ``qdframe_configure`` once, before the first stage of a system."""
    plugins.hook.qdframe_configure(config=config)


def _hooked(
    plugins: LoadedPlugins,
    context: RunContext,
    stage: str,
    body: Callable[[], T],
    *,
    state: RunState | None,
    value: Any,
    after: Callable[[T], tuple[RunState | None, Any]],
    attempt: int,
) -> T:
    """Run ``body`` as stage ``stage`` between its hooks (see the module docstring)."""
    if stage not in PIPELINE_STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(PIPELINE_STAGES)}")
    hook = plugins.hook
    context.stage = stage
    started = time.perf_counter()
    try:
        # Inside the try: a before-hook that raises (fault injection, a
        # plugin's own check) fails the stage like the stage itself would.
        hook.qdframe_before_stage(stage=stage, context=context, state=state)
        getattr(hook, f"qdframe_before_{stage}")(context=context, value=value)
        output = body()
    except Exception as error:
        action = hook.qdframe_handle_error(error=error, context=context, attempt=attempt)
        if action is None:
            action = RecoveryAction(RecoveryKind.ABORT, f"no handler for {type(error).__name__}")
        context.metrics.setdefault("recoveries", []).append(_event(stage, error, attempt, action))
        raise StageFailed(stage, error, action) from error
    finally:
        timings = context.metrics.setdefault("stage_seconds", {})
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started
    out_state, out_value = after(output)
    hook.qdframe_after_stage(stage=stage, context=context, state=out_state)
    getattr(hook, f"qdframe_after_{stage}")(context=context, value=out_value)
    return output


def run_stage(
    plugins: LoadedPlugins,
    context: RunContext,
    stage: str,
    fn: Callable[[Any], T],
    value: Any,
    *,
    attempt: int = 0,
) -> T:
    """Run ``fn(value)`` as pipeline stage ``stage``, firing its hooks.

    The generic hooks get ``state=None`` (there is no run state outside a
    whole run); the deprecated per-stage hooks get ``value`` and the output.
    The stage's wall time is added to ``context.metrics["stage_seconds"]``;
    a failure's recovery decision is appended to ``context.metrics["recoveries"]``.

    :raises ValueError: ``stage`` is not one of the pipeline stages.
    :raises StageFailed: ``fn`` raised; carries the chosen recovery action
        (``abort`` when no handler answered).
    """

    def body() -> T:
        return fn(value)

    def after(output: T) -> tuple[None, Any]:
        return None, output

    return _hooked(
        plugins,
        context,
        stage,
        body,
        state=None,
        value=value,
        after=after,
        attempt=attempt,
    )


#: What recovery does with a failed attempt: return the run's final state
#: (a fallback), ``None`` to run the attempt again, or raise to end the run.
Recover = Callable[["StageFailed", "RunState"], "RunState | None"]


class StageRunner:
    """Runs stages over a run state with the plugin set's hooks.

    :param plugins: the run's plugin set (its hooks fire around each stage).
    :param context: the run's context, which hooks and error handlers see.
    """

    def __init__(self, plugins: LoadedPlugins, context: RunContext) -> None:
        self._plugins = plugins
        self._context = context

    def attempt(self, stage: Stage, state: RunState) -> RunState:
        """Run one stage; a failure raises :class:`StageFailed` with the chosen action."""
        return _hooked(
            self._plugins,
            self._context,
            stage.name,
            lambda: stage.run(state),
            state=state,
            value=stage.hook_input(state),
            after=lambda out: (out, stage.hook_output(out)),
            attempt=state.attempt,
        )

    def run(self, stage: Stage, state: RunState) -> RunState:
        """Run a stage that has nothing to re-plan: a failure ends the run with its own error."""
        try:
            return self.attempt(stage, state)
        except StageFailed as failure:
            raise failure.error from failure

    def run_steps(self, steps: Sequence[Stage | Guard], state: RunState) -> RunState:
        """Run stages and guards in order (one attempt; no recovery)."""
        from qdframe.stages.state import Guard

        for step in steps:
            state = step.check(state) if isinstance(step, Guard) else self.attempt(step, state)
        return state

    def run_with_recovery(
        self,
        steps: Sequence[Stage | Guard],
        state: RunState,
        *,
        recover: Recover,
        max_retries: int,
    ) -> RunState:
        """Run ``steps`` as one attempt; after a failure let ``recover`` decide.

        ``recover(failure, state)`` returns the run's final state (ending it,
        e.g. a classical fallback), ``None`` to run the steps again with
        ``state.attempt`` one higher, or raises to end the run. At most
        ``max_retries`` re-runs happen, whatever the handlers answer.

        :raises RetriesExhaustedError: the handlers asked for another re-run
            after ``max_retries`` of them.
        """
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        last: StageFailed | None = None
        for attempt in range(max_retries + 1):
            try:
                return self.run_steps(steps, state.replace(attempt=attempt))
            except StageFailed as failure:
                last = failure
                if failure.action.kind in RERUN_KINDS and attempt == max_retries:
                    break
                final = recover(failure, state.replace(attempt=attempt))
                if final is not None:
                    return final
        assert last is not None
        raise RetriesExhaustedError(last, max_retries) from last.error
