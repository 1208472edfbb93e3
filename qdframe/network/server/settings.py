"""Settings of one sharing-server process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from qdframe.errors import ConfigError
from qdframe.network.aggregation import DEFAULT_MIN_CONTRIBUTORS
from qdframe.network.whitelist import Whitelist

__all__ = ["ServerSettings"]


@dataclass(frozen=True)
class ServerSettings:
    """How a server stores, limits and aggregates.

    :param database_url: ``sqlite:///file`` (default under the data directory)
        or ``postgresql+psycopg://...``; several processes may share one
        PostgreSQL database.
    :param min_contributors: installations needed before a system type (or a
        setting choice) is published.
    :param max_body_bytes: larger request bodies are answered with 413.
    :param rate_per_minute: sustained contributions per install token per minute.
    :param rate_burst: contributions one install token may send at once.
    :param whitelists: accepted settings per qdframe version; the server's own
        version comes from its plugins unless given here.
    :param refresh_s: how often to pick up rows other server processes wrote.
    :param idempotency_ttl_s: how long an ``Idempotency-Key`` is remembered.
    :param public_url: this server's address as clients should see it.
    :param peers: other servers of the same network (shown as backups).
    :param access_log: log one line per request (method, path, status, time;
        never the client address).
    """

    database_url: str | None = None
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS
    max_body_bytes: int = 64 * 1024
    rate_per_minute: float = 30.0
    rate_burst: int = 30
    whitelists: Mapping[str, Whitelist] = field(default_factory=dict)
    refresh_s: float = 2.0
    idempotency_ttl_s: float = 7 * 24 * 3600.0
    public_url: str | None = None
    peers: tuple[str, ...] = ()
    access_log: bool = False

    def __post_init__(self) -> None:
        if self.min_contributors < 1:
            raise ConfigError(
                f"min_contributors must be at least 1, got {self.min_contributors}",
                key_path="--min-contributors",
            )
        if self.max_body_bytes < 1024:
            raise ConfigError(
                f"max_body_bytes must be at least 1024, got {self.max_body_bytes}",
                key_path="--max-body-bytes",
            )
        if self.refresh_s <= 0:
            raise ConfigError(f"refresh_s must be positive, got {self.refresh_s}")
        if self.rate_per_minute <= 0 or self.rate_burst < 1:
            raise ConfigError(
                "rate limit needs a positive rate and a burst of at least 1",
                key_path="--rate-limit",
            )
