"""Conformance kit for error handlers: what they handle and what they answer.

The decision type is documented in :mod:`qdframe.context`: ``handle`` returns a
:class:`~qdframe.context.RecoveryAction` or ``None`` (defer to the next
handler). The core bounds the recovery loop by ``recovery.max_retries``; a
handler must not ask for another attempt once those are used up.

Capability a handler declares:

``examples`` (default: one instance of each type in ``handles``)
    errors to ask it about, for types that cannot be built from one message.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from qdframe.config import SystemConfig, config_from_mapping
from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.protocols import ErrorHandler
from qdframe.testing._kit import CheckSkipped, Kit

__all__ = ["ErrorHandlerKit"]

_STOP = (RecoveryKind.ABORT, RecoveryKind.FALLBACK_CLASSICAL)


def _context(max_retries: int) -> RunContext:
    config: SystemConfig = config_from_mapping(
        {"recovery": {"max_retries": max_retries, "backoff_base_s": 0.25}}
    )
    return RunContext(run_id="conformance", config=config, stage="execute")


class ErrorHandlerKit(Kit):
    """Checks an error handler object (``registry.add("name", Handler())``)."""

    category: ClassVar[str] = "error_handlers"
    capability_defaults: ClassVar[dict[str, Any]] = {"examples": ()}

    def _examples(self) -> list[BaseException]:
        given = list(self.capabilities["examples"])
        if given:
            return given
        errors: list[BaseException] = []
        for kind in getattr(self.subject, "handles", ()):
            try:
                errors.append(kind("conformance check: link 0-1 failed on node 1"))
            except Exception:  # a type that needs more than a message: declare examples
                continue
        if not errors:
            raise CheckSkipped("no handled error type builds from a message; declare examples")
        return errors

    def _answer(self, error: BaseException, context: RunContext, attempt: int) -> Any:
        return self.subject.handle(error, context, attempt)

    # ------------------------------------------------------------------ checks

    def check_declares_what_it_handles(self) -> None:
        """handles is a non-empty tuple of exception classes; handle() exists."""
        assert isinstance(self.subject, ErrorHandler), (
            f"{type(self.subject).__name__} lacks handles/handle() of "
            "qdframe.protocols.ErrorHandler"
        )
        handles = self.subject.handles
        assert isinstance(handles, tuple) and handles, (
            f"handles must be a non-empty tuple, got {handles!r}"
        )
        for kind in handles:
            assert isinstance(kind, type) and issubclass(kind, BaseException), (
                f"handles lists {kind!r}, which is not an exception class"
            )

    def check_answers_a_recovery_action_or_none(self) -> None:
        """Each answer is None or a well-formed RecoveryAction."""
        context = _context(3)
        for error in self._examples():
            for attempt in (0, 1, 2):
                answer = self._answer(error, context, attempt)
                if answer is None:
                    continue
                what = f"{type(error).__name__} at attempt {attempt}"
                assert isinstance(answer, RecoveryAction), (
                    f"{what}: handle() returned {type(answer).__name__}; return "
                    "qdframe.context.RecoveryAction or None"
                )
                assert isinstance(answer.kind, RecoveryKind), f"{what}: kind {answer.kind!r}"
                assert isinstance(answer.reason, str) and answer.reason.strip(), (
                    f"{what}: a recovery action needs a reason"
                )
                assert math.isfinite(answer.delay_s) and answer.delay_s >= 0, (
                    f"{what}: delay_s {answer.delay_s} must be finite and >= 0"
                )
                assert all(isinstance(n, int) and n >= 0 for n in answer.exclude_nodes), (
                    f"{what}: exclude_nodes {answer.exclude_nodes} must hold node ids"
                )
                assert all(
                    isinstance(link, tuple) and len(link) == 2 for link in answer.exclude_links
                ), f"{what}: exclude_links {answer.exclude_links} must hold node pairs"

    def check_no_retry_once_retries_are_used_up(self) -> None:
        """At attempt >= recovery.max_retries the answer is None, abort or fallback."""
        for limit in (0, 2):
            context = _context(limit)
            for error in self._examples():
                answer = self._answer(error, context, limit)
                assert answer is None or answer.kind in _STOP, (
                    f"{type(error).__name__} with max_retries={limit} at attempt {limit}: "
                    f"answered {answer.kind.value!r}; once retries are used up answer None "
                    "or abort"
                )

    def check_same_question_same_answer(self) -> None:
        """The answer depends only on the error, the context and the attempt."""
        for error in self._examples():
            first = self._answer(error, _context(3), 1)
            second = self._answer(error, _context(3), 1)
            assert first == second, f"{type(error).__name__}: answered {first} then {second}"

    def check_leaves_the_context_alone(self) -> None:
        """Deciding does not change the run's configuration."""
        context = _context(3)
        before = context.config.model_dump()
        for error in self._examples():
            self._answer(error, context, 0)
        assert context.config.model_dump() == before, "handle() changed context.config"
