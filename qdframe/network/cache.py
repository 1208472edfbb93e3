"""The local cache of shared optimizations: written atomically, validated on read.

A damaged cache (truncated, edited, from an incompatible release) is moved
aside with a warning and treated as absent; it never stops qdframe.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from qdframe.files import atomic_write_bytes, quarantine
from qdframe.network.schemas import SharedOptimizationsResponse

__all__ = ["CACHE_FORMAT", "CacheDocument", "SharedCache"]

CACHE_FORMAT: Final = "qdframe-shared-optimizations"

_log = logging.getLogger("qdframe.network")


class CacheDocument(BaseModel):
    """What the cache file holds."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["qdframe-shared-optimizations"] = CACHE_FORMAT
    format_version: Literal[1] = 1
    qdframe_version: str
    fetched_at: float
    server: str
    data: SharedOptimizationsResponse


class SharedCache:
    """The cache file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> CacheDocument | None:
        """The cached document, or ``None`` when absent or damaged (then moved aside)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            _log.warning("Cannot read the optimization cache %s: %s", self.path, exc)
            return None
        try:
            return CacheDocument.model_validate(json.loads(raw))
        except (ValueError, UnicodeDecodeError, ValidationError) as exc:
            moved = quarantine(self.path)
            where = f"moved to {moved}" if moved else "left in place"
            _log.warning(
                "Ignoring damaged optimization cache %s (%s); %s",
                self.path,
                type(exc).__name__,
                where,
            )
            return None

    def save(self, document: CacheDocument) -> None:
        """Replace the cache atomically."""
        atomic_write_bytes(self.path, document.model_dump_json(indent=2).encode("utf-8"))
