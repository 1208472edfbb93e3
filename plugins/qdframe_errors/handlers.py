"""The default error handlers: one branch of the seed's error-handling switch each.

=====================  ===================================================
error                  recovery
=====================  ===================================================
``CommunicationError``  re-route around the failed link and retry
``ResourceError``       reallocate without the failed node and retry
``HardwareError``       run the original circuit on the local simulator
                        (``recovery.fallback_strategy = "classical"``), or
                        abort (``"none"``)
anything else           log and abort
=====================  ===================================================

Every recovery is bounded by ``recovery.max_retries``: once a stage has been
retried that many times the answer is an abort saying so, and
``max_retries = 0`` turns recovery off. Retries wait
``backoff_base_s * 2**attempt`` seconds (exponential backoff).
"""

from __future__ import annotations

from qdframe.plugin import (
    EXIT_USAGE,
    CommunicationError,
    FallbackStrategy,
    HardwareError,
    QdframeError,
    RecoveryAction,
    RecoveryKind,
    ResourceError,
    RunContext,
)

__all__ = [
    "DEFAULT_HANDLERS",
    "CommunicationHandler",
    "HardwareHandler",
    "ResourceHandler",
    "UnrecoverableHandler",
    "backoff_delay",
    "describe_error",
]


def backoff_delay(context: RunContext, attempt: int) -> float:
    """Seconds to wait before retry number ``attempt + 1``: ``backoff_base_s * 2**attempt``."""
    return float(context.config.recovery.backoff_base_s * 2**attempt)


def describe_error(error: BaseException) -> str:
    """``"CommunicationError: link 0-1 dropped"`` (just the type when there is no message)."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _where(context: RunContext) -> str:
    return f"stage {context.stage!r}" if context.stage else "the run"


class _BuiltinHandler:
    """Shared checks of the built-in handlers.

    Being a built-in also matters for ordering: at equal specificity a
    third-party handler is asked before a built-in one (see
    :func:`qdframe_errors.chain.choose_action`).
    """

    name: str
    handles: tuple[type[BaseException], ...]

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        """The recovery action for ``error``, or ``None`` to defer to the next handler."""
        raise NotImplementedError

    def _precheck(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        """An abort when recovery cannot help: a usage error, or no retries left."""
        if isinstance(error, QdframeError) and error.exit_code == EXIT_USAGE:
            # The request itself does not fit (e.g. CapacityError): the same
            # request would fail the same way however often it is retried.
            return RecoveryAction(
                RecoveryKind.ABORT,
                f"{describe_error(error)} in {_where(context)}; the request itself must "
                "change, so it is not retried",
            )
        limit = context.config.recovery.max_retries
        if attempt >= limit:
            return RecoveryAction(
                RecoveryKind.ABORT,
                f"{describe_error(error)} in {_where(context)}; retries are exhausted "
                f"({attempt} of recovery.max_retries={limit} used)",
            )
        return None

    def _retry_note(self, context: RunContext, attempt: int) -> str:
        limit = context.config.recovery.max_retries
        return f"retry {attempt + 1} of {limit} in {backoff_delay(context, attempt):.3g} s"


class CommunicationHandler(_BuiltinHandler):
    """A link failed: re-route around it and retry.

    Answers :class:`~qdframe.context.RecoveryKind.REROUTE` with the failed link
    (as ``(min, max)``) in ``exclude_links``. When the error names no link,
    there is nothing to route around, so the answer is a plain
    :class:`~qdframe.context.RecoveryKind.RETRY` (links are often transient).
    """

    name = "communication"
    handles = (CommunicationError,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        if not isinstance(error, CommunicationError):
            return None
        stop = self._precheck(error, context, attempt)
        if stop is not None:
            return stop
        delay = backoff_delay(context, attempt)
        if error.link is None:
            return RecoveryAction(
                RecoveryKind.RETRY,
                f"{describe_error(error)} in {_where(context)}; no failed link named, "
                f"retrying over the same routes ({self._retry_note(context, attempt)})",
                delay_s=delay,
            )
        u, v = sorted(error.link)
        return RecoveryAction(
            RecoveryKind.REROUTE,
            f"{describe_error(error)} in {_where(context)}; re-routing around link {u}-{v} "
            f"and retrying ({self._retry_note(context, attempt)})",
            delay_s=delay,
            exclude_links=frozenset({(u, v)}),
        )


class ResourceHandler(_BuiltinHandler):
    """A node failed: reallocate without it and retry.

    Answers :class:`~qdframe.context.RecoveryKind.REALLOCATE` with the node in
    ``exclude_nodes``. A resource error that names no node (a memory budget,
    for instance) aborts: a new allocation over the same nodes would meet the
    same limit.
    """

    name = "resource"
    handles = (ResourceError,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        if not isinstance(error, ResourceError):
            return None
        stop = self._precheck(error, context, attempt)
        if stop is not None:
            return stop
        if error.node is None:
            return RecoveryAction(
                RecoveryKind.ABORT,
                f"{describe_error(error)} in {_where(context)}; the error names no failed "
                "node to leave out, so reallocating would meet the same limit",
            )
        return RecoveryAction(
            RecoveryKind.REALLOCATE,
            f"{describe_error(error)} in {_where(context)}; reallocating without node "
            f"{error.node} and retrying ({self._retry_note(context, attempt)})",
            delay_s=backoff_delay(context, attempt),
            exclude_nodes=frozenset({error.node}),
        )


class HardwareHandler(_BuiltinHandler):
    """A backend failed: fall back to the local simulator, or abort.

    Answers :class:`~qdframe.context.RecoveryKind.FALLBACK_CLASSICAL` (the
    orchestrator runs the original circuit on the local simulator and marks the
    result as a fallback) unless ``recovery.fallback_strategy`` is ``"none"``.
    """

    name = "hardware"
    handles = (HardwareError,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        if not isinstance(error, HardwareError):
            return None
        stop = self._precheck(error, context, attempt)
        if stop is not None:
            return stop
        backend = f"backend {error.backend!r}" if error.backend else "the backend"
        if context.config.recovery.fallback_strategy == FallbackStrategy.NONE:
            return RecoveryAction(
                RecoveryKind.ABORT,
                f"{describe_error(error)} in {_where(context)}; {backend} failed and "
                "recovery.fallback_strategy is 'none' (set it to 'classical' to run the "
                "circuit on the local simulator instead)",
            )
        return RecoveryAction(
            RecoveryKind.FALLBACK_CLASSICAL,
            f"{describe_error(error)} in {_where(context)}; {backend} failed, running the "
            "original circuit on the local simulator (result marked as fallback)",
        )


class UnrecoverableHandler(_BuiltinHandler):
    """Anything no other handler recovers: abort with the error named.

    The hook implementation logs the decision (see :mod:`qdframe_errors.plugin`).
    """

    name = "unrecoverable"
    handles = (Exception,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        return RecoveryAction(
            RecoveryKind.ABORT,
            f"unrecoverable {describe_error(error)} in {_where(context)}; aborting the run",
        )


#: The built-in handlers, most specific first. The plugin registers these
#: objects, and the hook falls back to them when the run carries no handlers.
DEFAULT_HANDLERS: tuple[_BuiltinHandler, ...] = (
    CommunicationHandler(),
    ResourceHandler(),
    HardwareHandler(),
    UnrecoverableHandler(),
)
