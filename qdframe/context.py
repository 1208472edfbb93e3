"""What a run carries from stage to stage, and what error handlers answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.config import SystemConfig
    from qdframe.protocols import ErrorHandler

__all__ = ["RecoveryAction", "RecoveryKind", "RunContext"]


@dataclass
class RunContext:
    """The state of one run that every stage and hook may read.

    ``metrics`` and ``notes`` are the only parts hooks are expected to add to;
    the rest is set by the orchestrator. ``error_handlers`` are the objects of
    the ``error_handlers`` registry, which the built-in ``qdframe_handle_error``
    asks (hooks never see the plugin set itself).
    """

    run_id: str
    config: SystemConfig
    run_dir: Path | None = None
    stage: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error_handlers: tuple[ErrorHandler, ...] = ()


class RecoveryKind(StrEnum):
    """The branches of the seed's error-handling switch."""

    RETRY = "retry"
    REROUTE = "reroute"
    REALLOCATE = "reallocate"
    FALLBACK_CLASSICAL = "fallback_classical"
    ABORT = "abort"


@dataclass(frozen=True)
class RecoveryAction:
    """How to recover from a failed stage.

    :param kind: what to do.
    :param reason: one line for logs and reports saying why.
    :param delay_s: how long to wait before acting (backoff).
    :param exclude_nodes: nodes to leave out when re-planning.
    :param exclude_links: links (node pairs) to avoid when re-routing.
    """

    kind: RecoveryKind
    reason: str
    delay_s: float = 0.0
    exclude_nodes: frozenset[int] = frozenset()
    exclude_links: frozenset[tuple[int, int]] = frozenset()
