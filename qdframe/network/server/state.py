"""Everything one server process holds: database, writer, view, limits, caches."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, text

from qdframe._version import __version__
from qdframe.network.server.identities import IdentityIssuer
from qdframe.network.server.ratelimit import RateLimiter
from qdframe.network.server.settings import ServerSettings
from qdframe.network.server.storage import (
    checkpoint,
    create_database_engine,
    default_database_url,
    iter_contributions,
    load_or_create_secret,
    prune_idempotency,
    upgrade_schema,
)
from qdframe.network.server.systems import accepted_system_types
from qdframe.network.server.view import AggregatedView
from qdframe.network.server.writer import Writer
from qdframe.network.whitelist import Whitelist

__all__ = ["ServerState"]

_log = logging.getLogger("qdframe.network.server")


@dataclass(frozen=True)
class _Remembered:
    body_hash: str
    response: str


class _LRU:
    """A small bounded map (idempotency answers, rendered responses)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[object, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class ServerState:
    """Opened by the application's lifespan, closed when the server stops."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.version = __version__
        self.database_url = settings.database_url or default_database_url()
        self.engine: Engine = create_database_engine(self.database_url)
        self.dialect = self.engine.dialect.name
        self.view = AggregatedView(settings.min_contributors)
        self.limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
        self.global_limiter = RateLimiter(settings.global_rate_per_minute, settings.global_burst)
        self.registration_limiter = RateLimiter(
            settings.registration_per_hour / 60.0, settings.registration_burst
        )
        self.system_types = accepted_system_types(settings.system_types)
        self._issuer: IdentityIssuer | None = None
        whitelists = dict(settings.whitelists)
        if self.version not in whitelists:
            from qdframe.plugins import default_plugins

            whitelists[self.version] = Whitelist.from_plugins(default_plugins())
        self.whitelists: dict[str, Whitelist] = whitelists
        self.writer = Writer(self.engine, self.view.add)
        self.responses = _LRU(1024)
        self._idempotency = _LRU(50_000)
        self._stop = threading.Event()
        self._refresher = threading.Thread(
            target=self._refresh_loop, name="qdframe-refresh", daemon=True
        )
        self._last_pull = 0.0

    # ------------------------------------------------------------ lifecycle
    def open(self) -> None:
        upgrade_schema(self.engine)
        secret = self.settings.identity_secret or load_or_create_secret(
            self.engine, "identity", lambda: secrets.token_hex(32)
        )
        self._issuer = IdentityIssuer(secret.encode(), difficulty_bits=self.settings.pow_bits)
        self.view.add(iter_contributions(self.engine))
        self.writer.start()
        self._refresher.start()
        _log.info(
            "sharing server ready: %s database, %d contribution(s), qdframe %s",
            self.dialect,
            self.view.contribution_count,
            self.version,
        )

    def close(self) -> None:
        self._stop.set()
        self.writer.stop()
        if self._refresher.is_alive():
            self._refresher.join(5.0)
        try:
            checkpoint(self.engine, truncate=True)
        except Exception as exc:  # the log is replayed on the next start anyway
            _log.warning("final checkpoint failed: %s", exc)
        self.engine.dispose()

    def _refresh_loop(self) -> None:
        last_pull = last_prune = time.monotonic()
        while not self._stop.wait(min(1.0, self.settings.refresh_s)):
            now = time.monotonic()
            try:
                checkpoint(self.engine)
                if now - last_pull >= self.settings.refresh_s:
                    last_pull = now
                    self.pull()
                if now - last_prune > 3600:
                    last_prune = now
                    prune_idempotency(self.engine, self.settings.idempotency_ttl_s)
            except Exception as exc:  # the database may be briefly unreachable
                _log.warning("refreshing from the database failed: %s", exc)

    @property
    def issuer(self) -> IdentityIssuer:
        if self._issuer is None:
            raise RuntimeError("the server state is not open")
        return self._issuer

    # ------------------------------------------------------------ operations
    def pull(self, *, min_interval_s: float = 0.0) -> bool:
        """Pick up rows other processes wrote (at most once per ``min_interval_s``)."""
        now = time.monotonic()
        if now - self._last_pull < min_interval_s:
            return False
        self._last_pull = now
        return self.view.pull(self.engine)

    def database_ok(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            _log.warning("database check failed: %s", exc)
            return False
        return True

    def remembered(self, key: str) -> tuple[str, str] | None:
        found = self._idempotency.get(key)
        if isinstance(found, _Remembered):
            return found.body_hash, found.response
        return None

    def remember(self, key: str, body_hash: str, response: str) -> None:
        self._idempotency.put(key, _Remembered(body_hash, response))
