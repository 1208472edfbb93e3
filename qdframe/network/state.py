"""Where the client keeps its files, and the random install token.

Everything lives in one directory (by default the directory of
``[network] local_cache_file``): the shared-optimizations cache, the outbox of
unsent contributions, the install token, the identities servers issued, the
last tuning result and the settings last applied from the network.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from qdframe.config import NetworkClientConfig
from qdframe.files import atomic_write_bytes

__all__ = ["StatePaths", "install_token"]

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class StatePaths:
    """The client's files."""

    directory: Path
    cache_file: Path

    @classmethod
    def resolve(
        cls, config: NetworkClientConfig | None = None, cache_dir: str | Path | None = None
    ) -> StatePaths:
        """Paths from ``cache_dir`` when given, else from ``config.local_cache_file``."""
        if cache_dir is not None:
            directory = Path(cache_dir).expanduser()
            return cls(directory, directory / "shared_optimizations.json")
        resolved = config if config is not None else NetworkClientConfig.model_validate({})
        cache_file = Path(resolved.local_cache_file).expanduser()
        return cls(cache_file.parent, cache_file)

    @property
    def outbox_file(self) -> Path:
        return self.directory / "outbox.json"

    @property
    def token_file(self) -> Path:
        return self.directory / "install_token"

    @property
    def identity_file(self) -> Path:
        return self.directory / "identities.json"

    @property
    def tuning_file(self) -> Path:
        return self.directory / "tune_result.json"

    @property
    def applied_file(self) -> Path:
        return self.directory / "applied_settings.json"


def install_token(paths: StatePaths) -> str:
    """This installation's local random token, created on first use.

    128 random bits, unrelated to the host, the user or the network. It fills
    ``install_token`` of a contribution built before any server issued an
    identity; when the contribution is sent, the identity the receiving server
    issued replaces it (see :class:`qdframe.network.identity.IdentityStore`).
    Delete the file (and ``identities.json``) to start over as a new,
    unrelated contributor.
    """
    try:
        existing = paths.token_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        existing = ""
    if _TOKEN.match(existing):
        return existing
    token = secrets.token_hex(16)
    atomic_write_bytes(paths.token_file, (token + "\n").encode("ascii"), mode=0o600)
    return token
