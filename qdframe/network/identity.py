"""The identities servers issued to this installation, one per server address.

A server signs each identity it issues; contributions carry it so that the
server counts installations it knows rather than names a client made up.
The file is written atomically (mode 0600: the token is a credential) under
an advisory lock, so two qdframe processes never lose each other's entries.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from qdframe.files import atomic_write_bytes, locked, quarantine

__all__ = ["Identity", "IdentityStore"]

_log = logging.getLogger("qdframe.network")


class Identity(BaseModel):
    """One issued identity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    install_token: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    issued_at: float

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        return f"Bearer {self.token}"


class _IdentitiesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["qdframe-identities"] = "qdframe-identities"
    identities: dict[str, Identity]


class IdentityStore:
    """The identities file at ``path`` (server address → identity)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Identity]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            _log.warning("Cannot read installation identities %s: %s", self.path, exc)
            return {}
        try:
            return dict(_IdentitiesFile.model_validate(json.loads(raw)).identities)
        except (ValueError, UnicodeDecodeError, ValidationError) as exc:
            moved = quarantine(self.path)
            _log.warning(
                "Ignoring damaged installation identities %s (%s); moved to %s; "
                "the installation registers again",
                self.path,
                type(exc).__name__,
                moved,
            )
            return {}

    def _write(self, identities: dict[str, Identity]) -> None:
        document = _IdentitiesFile(identities=identities)
        atomic_write_bytes(
            self.path, document.model_dump_json(indent=2).encode("utf-8"), mode=0o600
        )

    def get(self, server: str) -> Identity | None:
        """The identity ``server`` issued, if any."""
        with locked(self.path):
            return self._read().get(server)

    def put(self, server: str, install_token: str, token: str) -> Identity:
        """Store the identity ``server`` issued (replacing an older one)."""
        identity = Identity(install_token=install_token, token=token, issued_at=time.time())
        with locked(self.path):
            identities = self._read()
            identities[server] = identity
            self._write(identities)
        return identity

    def forget(self, server: str) -> None:
        """Drop the identity of ``server`` (it was refused)."""
        with locked(self.path):
            identities = self._read()
            if identities.pop(server, None) is not None:
                self._write(identities)
