"""Asking a sequence of error handlers, most specific first.

A handler matches an error when the error is an instance of one of its
``handles`` types. Matching handlers are asked in order of specificity: the
fewer steps up the error's class hierarchy to the handled type, the earlier.
At equal specificity a third-party handler is asked before a built-in one, and
otherwise the given order holds. The first non-``None`` answer wins.

So a plugin that registers a handler for ``CommunicationError`` replaces the
built-in re-routing for that error, and one for ``TimeoutError`` is asked
before the built-in catch-all, without any ``tryfirst`` ordering.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from qdframe.plugin import ErrorHandler, RecoveryAction, RunContext
from qdframe_errors.handlers import DEFAULT_HANDLERS, _BuiltinHandler

__all__ = ["choose_action", "handlers_for", "matching_handlers"]


def _distance(error: BaseException, handles: Iterable[type[BaseException]]) -> int | None:
    """Steps from ``type(error)`` up its MRO to the nearest handled type; None if none."""
    mro = type(error).__mro__
    # A virtual subclass (abc.register) matches without being in the MRO: rank it last.
    steps = [
        mro.index(kind) if kind in mro else len(mro) for kind in handles if isinstance(error, kind)
    ]
    return min(steps) if steps else None


def matching_handlers(error: BaseException, handlers: Sequence[ErrorHandler]) -> list[ErrorHandler]:
    """The handlers that match ``error``, in the order they are asked."""
    ranked: list[tuple[int, bool, int, ErrorHandler]] = []
    for index, handler in enumerate(handlers):
        distance = _distance(error, tuple(getattr(handler, "handles", ())))
        if distance is not None:
            ranked.append((distance, isinstance(handler, _BuiltinHandler), index, handler))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


def choose_action(
    error: BaseException,
    context: RunContext,
    attempt: int,
    handlers: Sequence[ErrorHandler] = DEFAULT_HANDLERS,
) -> RecoveryAction | None:
    """The first answer of the handlers matching ``error``, or ``None`` if none answers."""
    for handler in matching_handlers(error, handlers):
        action = handler.handle(error, context, attempt)
        if action is not None:
            return action
    return None


def handlers_for(context: RunContext) -> Sequence[ErrorHandler]:
    """The handlers to ask for a run.

    The orchestrator may put the ``error_handlers`` registry's objects on the
    context as ``context.error_handlers``; then those are asked (they include
    the built-ins unless this plugin is blocked). Otherwise the built-ins are.
    """
    registered: Any = getattr(context, "error_handlers", None)
    if registered:
        return tuple(registered)
    return DEFAULT_HANDLERS
