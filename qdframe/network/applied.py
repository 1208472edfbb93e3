"""The settings last applied from the network (a flat ``key → value`` file).

``qdframe network apply`` writes it; whoever creates backends and executors
reads it (through :func:`load_applied`) and applies it with
:func:`qdframe.network.apply_settings`, so the whitelist is checked again on
every use.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from qdframe.files import atomic_write_bytes, quarantine
from qdframe.network.schemas import SettingValue

__all__ = ["AppliedSettings", "load_applied", "save_applied"]

_log = logging.getLogger("qdframe.network")


class AppliedSettings(BaseModel):
    """The file's content."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["qdframe-applied-settings"] = "qdframe-applied-settings"
    updated_at: float
    source_system_type: str | None = None
    settings: dict[str, SettingValue]


def load_applied(path: Path) -> dict[str, Any]:
    """The applied settings, ``{}`` when absent or damaged (then moved aside)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        _log.warning("Cannot read applied settings %s: %s", path, exc)
        return {}
    try:
        return dict(AppliedSettings.model_validate(json.loads(raw)).settings)
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        moved = quarantine(path)
        _log.warning(
            "Ignoring damaged applied settings %s (%s); moved to %s",
            path,
            type(exc).__name__,
            moved,
        )
        return {}


def save_applied(
    path: Path, settings: Mapping[str, Any], *, source_system_type: str | None = None
) -> None:
    """Replace the applied settings atomically."""
    document = AppliedSettings(
        updated_at=time.time(),
        source_system_type=source_system_type,
        settings=dict(settings),
    )
    atomic_write_bytes(path, document.model_dump_json(indent=2).encode("utf-8"))
