"""Settings of one sharing-server process."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from qdframe.errors import ConfigError
from qdframe.network.aggregation import DEFAULT_MIN_CONTRIBUTORS
from qdframe.network.proof import MAX_BITS
from qdframe.network.whitelist import Whitelist

__all__ = ["MAX_EXTRA_SYSTEM_TYPES", "SYSTEM_TYPE_PATTERN", "ServerSettings"]

#: Most system types a server may accept beyond the HAL's own.
MAX_EXTRA_SYSTEM_TYPES: Final = 256
SYSTEM_TYPE_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")


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
    :param identity_secret: key that signs installation identities (at least
        32 characters); when omitted, one is created and kept in the database,
        so every process sharing the database accepts the same identities.
    :param pow_bits: proof of work asked of each registration, in bits
        (0: none; each bit doubles the client's work).
    :param registration_per_hour: sustained registrations per client address
        per hour (the address is held in memory for this only).
    :param registration_burst: registrations one address may make at once.
    :param global_rate_per_minute: sustained contributions per minute from
        all installations together, per server process.
    :param global_burst: contributions all installations may send at once.
    :param system_types: system types accepted besides the HAL's profiles and
        the generic ``<os>_<arch>_generic`` types.
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
    identity_secret: str | None = field(default=None, repr=False)
    pow_bits: int = 0
    registration_per_hour: float = 10.0
    registration_burst: int = 5
    global_rate_per_minute: float = 6000.0
    global_burst: int = 1000
    system_types: tuple[str, ...] = ()

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
        if self.identity_secret is not None and len(self.identity_secret) < 32:
            raise ConfigError(
                "the identity secret must be at least 32 characters",
                key_path="--secret-file",
                allowed="a file with 32 or more random characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        if not 0 <= self.pow_bits <= MAX_BITS:
            raise ConfigError(
                f"proof of work must be 0 to {MAX_BITS} bits, got {self.pow_bits}",
                key_path="--pow-bits",
            )
        if self.registration_per_hour <= 0 or self.registration_burst < 1:
            raise ConfigError(
                "registration limit needs a positive rate and a burst of at least 1",
                key_path="--registration-limit",
            )
        if self.global_rate_per_minute <= 0 or self.global_burst < 1:
            raise ConfigError(
                "global write limit needs a positive rate and a burst of at least 1",
                key_path="--global-rate-limit",
            )
        if len(self.system_types) > MAX_EXTRA_SYSTEM_TYPES:
            raise ConfigError(
                f"at most {MAX_EXTRA_SYSTEM_TYPES} extra system types, got "
                f"{len(self.system_types)}",
                key_path="--system-type",
            )
        for name in self.system_types:
            if not SYSTEM_TYPE_PATTERN.match(name):
                raise ConfigError(
                    f"invalid system type {name!r}",
                    key_path="--system-type",
                    allowed="lower-case letters, digits, '_', '.', '-'; at most 64 characters",
                )
        if self.rate_per_minute <= 0 or self.rate_burst < 1:
            raise ConfigError(
                "rate limit needs a positive rate and a burst of at least 1",
                key_path="--rate-limit",
            )
