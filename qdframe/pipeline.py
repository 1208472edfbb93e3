"""Running one stage of the pipeline with its hooks.

Each stage of a run (see :data:`qdframe.hookspecs.PIPELINE_STAGES`) goes through
:func:`run_stage`: the ``qdframe_before_<stage>`` hooks see its input, the stage
runs, the ``qdframe_after_<stage>`` hooks see its output. When the stage
raises, ``qdframe_handle_error`` is asked how to recover and the answer travels
with the :class:`StageFailed` exception to the orchestrator, which acts on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import DistributionError, QdframeError
from qdframe.hookspecs import PIPELINE_STAGES
from qdframe.plugins import LoadedPlugins

__all__ = ["StageFailed", "configure_plugins", "run_stage"]

T = TypeVar("T")


class StageFailed(DistributionError):
    """A stage raised; ``action`` is the recovery the error hook chose."""

    def __init__(self, stage: str, error: BaseException, action: RecoveryAction) -> None:
        self.stage = stage
        self.error = error
        self.action = action
        super().__init__(f"stage {stage!r} failed: {error} (recovery: {action.kind.value})")
        if isinstance(error, QdframeError):
            self.exit_code = error.exit_code


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

    The stage's wall time is added to ``context.metrics["stage_seconds"]``;
    a failure's recovery decision is appended to ``context.metrics["recoveries"]``.

    :raises ValueError: ``stage`` is not one of the pipeline stages.
    :raises StageFailed: ``fn`` raised; carries the chosen recovery action
        (``abort`` when no handler answered).
    """
    if stage not in PIPELINE_STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(PIPELINE_STAGES)}")
    hook = plugins.hook
    context.stage = stage
    started = time.perf_counter()
    try:
        # Inside the try: a before-hook that raises (fault injection, a
        # plugin's own check) fails the stage like the stage itself would.
        getattr(hook, f"qdframe_before_{stage}")(context=context, value=value)
        output = fn(value)
    except Exception as error:
        action = hook.qdframe_handle_error(error=error, context=context, attempt=attempt)
        if action is None:
            action = RecoveryAction(RecoveryKind.ABORT, f"no handler for {type(error).__name__}")
        context.metrics.setdefault("recoveries", []).append(_event(stage, error, attempt, action))
        raise StageFailed(stage, error, action) from error
    finally:
        timings = context.metrics.setdefault("stage_seconds", {})
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started
    getattr(hook, f"qdframe_after_{stage}")(context=context, value=output)
    return output
