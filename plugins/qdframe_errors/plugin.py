"""The ``errors`` plugin: registers the default handlers and answers ``qdframe_handle_error``.

Design: the hook receives the error, the run's context and the attempt, but
not the plugin set. The handlers to ask therefore come from the context
(``context.error_handlers``, filled by the orchestrator from the
``error_handlers`` registry) and default to this plugin's own handlers, kept
as data in :data:`qdframe_errors.handlers.DEFAULT_HANDLERS`. The
implementation is ``trylast``, so any other plugin's ``qdframe_handle_error``
that answers wins; a plugin can also register an :class:`ErrorHandler`, which
is asked before a built-in one of the same specificity.

Every decision is logged when ``recovery.enable_logging`` is on (aborts at
error level); :func:`qdframe.pipeline.run_stage` records it in
``context.metrics["recoveries"]``.
"""

from __future__ import annotations

import logging

import qdframe
from qdframe.plugin import (
    EXIT_USAGE,
    RecoveryAction,
    RecoveryKind,
    Registrar,
    ResourceError,
    RunContext,
)
from qdframe_errors.chain import choose_action, handlers_for
from qdframe_errors.handlers import DEFAULT_HANDLERS, describe_error

__all__ = ["qdframe_handle_error", "qdframe_register_error_handlers"]

_log = logging.getLogger("qdframe.recovery")

_DESCRIPTIONS = {
    "communication": "CommunicationError: re-route around the failed link and retry",
    "resource": "ResourceError: reallocate without the failed node and retry",
    "hardware": "HardwareError: run on the local simulator (fallback_strategy='classical')",
    "unrecoverable": "any other error: log and abort",
}


@qdframe.hookimpl
def qdframe_register_error_handlers(registry: Registrar) -> None:
    """Register the four branches of the seed's error-handling switch."""
    for handler in DEFAULT_HANDLERS:
        registry.add(handler.name, handler, description=_DESCRIPTIONS[handler.name])


def _record(
    context: RunContext, error: BaseException, attempt: int, action: RecoveryAction
) -> None:
    # The decision itself is recorded by qdframe.pipeline.run_stage, for every
    # plugin's answer; this plugin only logs its own.
    if not context.config.recovery.enable_logging:
        return
    if action.kind is RecoveryKind.ABORT:
        # The caller reports the error itself; the log says why it was not
        # recovered. The traceback is for debugging only.
        _log.debug("run %s: traceback of %s", context.run_id, action.reason, exc_info=error)
        if getattr(error, "exit_code", None) == EXIT_USAGE:
            return  # the input was wrong: nothing to recover, nothing surprising
        if isinstance(error, ResourceError) and error.node is None:
            return  # a budget refusal (memory, time): its own message says it all
        _log.error("run %s: %s", context.run_id, action.reason)
    else:
        _log.warning("run %s: %s -> %s", context.run_id, action.reason, action.kind.value)


@qdframe.hookimpl(trylast=True)
def qdframe_handle_error(
    error: BaseException, context: RunContext, attempt: int
) -> RecoveryAction | None:
    """Answer with the first matching handler's recovery action (see module docs)."""
    action = choose_action(error, context, attempt, handlers_for(context))
    if action is None:
        # Only reachable when the handlers on the context leave this error
        # unanswered; say so rather than let the run end without a reason.
        action = RecoveryAction(
            RecoveryKind.ABORT,
            f"no error handler answered {describe_error(error)}; aborting the run",
        )
    _record(context, error, attempt, action)
    return action
