"""Contributions that could not be sent yet, retried on the next sync.

Each entry keeps the ``Idempotency-Key`` it was first sent with, so a
contribution whose acknowledgement was lost is not counted twice when it is
sent again. The file is rewritten atomically under an advisory lock, so two
qdframe processes on one machine do not lose each other's entries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from qdframe.files import atomic_write_bytes, locked, quarantine

__all__ = ["Outbox", "OutboxEntry"]

_log = logging.getLogger("qdframe.network")
_MAX_ENTRIES = 1000


class OutboxEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: str
    body: dict[str, Any]
    queued_at: float
    attempts: int = 0
    last_error: str | None = None


class _OutboxFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = "qdframe-outbox"
    entries: list[OutboxEntry]


class Outbox:
    """The outbox file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> list[OutboxEntry]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return _OutboxFile.model_validate(json.loads(raw)).entries
        except (ValueError, UnicodeDecodeError, ValidationError) as exc:
            moved = quarantine(self.path)
            _log.warning(
                "Ignoring damaged contribution outbox %s (%s); moved to %s",
                self.path,
                type(exc).__name__,
                moved,
            )
            return []

    def _write(self, entries: list[OutboxEntry]) -> None:
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        document = _OutboxFile(entries=entries)
        atomic_write_bytes(self.path, document.model_dump_json(indent=2).encode("utf-8"))

    def entries(self) -> list[OutboxEntry]:
        """The queued contributions, oldest first."""
        with locked(self.path):
            return self._read()

    def add(self, body: dict[str, Any], idempotency_key: str, error: str | None = None) -> None:
        """Queue a contribution (the oldest are dropped beyond 1000 entries)."""
        with locked(self.path):
            entries = [e for e in self._read() if e.idempotency_key != idempotency_key]
            entries.append(
                OutboxEntry(
                    idempotency_key=idempotency_key,
                    body=body,
                    queued_at=time.time(),
                    attempts=1,
                    last_error=error,
                )
            )
            self._write(entries[-_MAX_ENTRIES:])

    def settle(self, done: set[str], failed: dict[str, str]) -> None:
        """Remove ``done`` keys; count an attempt for each key in ``failed``."""
        with locked(self.path):
            kept = []
            for entry in self._read():
                if entry.idempotency_key in done:
                    continue
                if entry.idempotency_key in failed:
                    entry = entry.model_copy(
                        update={
                            "attempts": entry.attempts + 1,
                            "last_error": failed[entry.idempotency_key],
                        }
                    )
                kept.append(entry)
            self._write(kept)
