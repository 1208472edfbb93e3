"""The sharing-network client: fetch, cache, fail over, contribute, apply, resync.

Servers are tried in order (primary, then backups), each behind its own
circuit breaker and timeout; when none answers, the local cache is used.
Contributions that cannot be sent wait in an outbox and go out with the next
sync; each goes out under the identity the receiving server issued to this
installation (registered on first contact, again when the server refuses it).
Settings are applied only when this qdframe's plugins whitelist them, and a
setting that can change numerical results only after this host checked that
its results still agree.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import ValidationError

from qdframe._version import __version__
from qdframe.config import NetworkClientConfig, SystemConfig
from qdframe.errors import ConfigError
from qdframe.network.apply import SettingChange, apply_settings, current_settings
from qdframe.network.breaker import CircuitBreaker
from qdframe.network.cache import CacheDocument, SharedCache
from qdframe.network.errors import ContributionRejected, NetworkError
from qdframe.network.host import detect_system, system_traits
from qdframe.network.identity import Identity, IdentityStore
from qdframe.network.matching import SystemMatch, closest_match
from qdframe.network.outbox import Outbox
from qdframe.network.proof import solve
from qdframe.network.schemas import (
    ContributeResponse,
    ContributionIn,
    CurrentSystem,
    NetworkStatus,
    RegistrationChallenge,
    RegistrationResponse,
    Servers,
    SharedOptimizationsResponse,
    StatusResponse,
    SyncResponse,
)
from qdframe.network.state import StatePaths, install_token
from qdframe.network.transport import (
    RateLimited,
    Rejected,
    Reply,
    ServerUnavailable,
    TransportError,
    call,
)
from qdframe.network.whitelist import Whitelist

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.tuning.verify import ResultCheck

__all__ = ["DistributedOptimizationNetwork", "FlushResult"]

_log = logging.getLogger("qdframe.network")

MSG_ALL_DOWN = "All servers unavailable, using cached data"
MSG_NO_DATA = "No shared optimizations found for system type: {}"
MSG_SYNC_FAILED = "Scheduled network sync failed"
#: Page size asked of the server, and most pages read (bounds one fetch).
_PAGE_SIZE = 200
_MAX_PAGES = 50


class _AllUnavailable(NetworkError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors) if errors else "no server configured")
        self.errors = errors


class FlushResult:
    """What a flush of the outbox did."""

    def __init__(self, sent: int, dropped: int, remaining: int) -> None:
        self.sent = sent
        self.dropped = dropped
        self.remaining = remaining

    def __repr__(self) -> str:
        return f"FlushResult(sent={self.sent}, dropped={self.dropped}, remaining={self.remaining})"


class DistributedOptimizationNetwork:
    """Client of the optimization-sharing network.

    :param config: the ``[network]`` block (servers, cache file, timeouts...).
    :param cache_dir: keep every client file in this directory instead of the
        directory of ``config.local_cache_file``.
    :param system_type: this host's HAL system type; detected when omitted.
    :param whitelist: settings that may be applied; the declarations of
        ``plugins`` when omitted.
    :param plugins: the plugins whose backends check shared settings on this
        host before they are applied (the process default when omitted).
    :param check_results: check that shared settings keep this host's results
        before applying them (see :meth:`apply`); turn off only in tests of
        something else.
    :param failure_threshold: failures in a row that open a server's breaker.
    :param reset_timeout_s: how long an open breaker skips its server.
    """

    def __init__(
        self,
        config: NetworkClientConfig | None = None,
        *,
        cache_dir: str | Path | None = None,
        system_type: str | None = None,
        whitelist: Whitelist | None = None,
        plugins: LoadedPlugins | None = None,
        check_results: bool = True,
        failure_threshold: int = 3,
        reset_timeout_s: float = 30.0,
    ) -> None:
        self.config = config if config is not None else NetworkClientConfig.model_validate({})
        self.paths = StatePaths.resolve(self.config, cache_dir)
        self.qdframe_version = __version__
        self._cache = SharedCache(self.paths.cache_file)
        self.outbox = Outbox(self.paths.outbox_file)
        self.identities = IdentityStore(self.paths.identity_file)
        self._system_type = system_type
        self._plugins = plugins
        self._whitelist = whitelist
        self._check_results = check_results
        self.last_check: ResultCheck | None = None
        self._breakers = {
            url: CircuitBreaker(
                failure_threshold=failure_threshold, reset_timeout_s=reset_timeout_s
            )
            for url in self.servers
        }
        self.local_cache: SharedOptimizationsResponse | None = None
        self.last_sync: int | None = None
        self.network_available = False
        self.applied_config: SystemConfig | None = None
        self.applied_changes: list[SettingChange] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- basics
    @property
    def servers(self) -> list[str]:
        """Primary first, then backups, without duplicates or blanks."""
        ordered: list[str] = []
        for url in [self.config.primary_server, *self.config.backup_servers]:
            cleaned = url.strip().rstrip("/")
            if cleaned and cleaned not in ordered:
                ordered.append(cleaned)
        return ordered

    @property
    def system_type(self) -> str:
        if self._system_type is None:
            self._system_type = detect_system().system_type
        return self._system_type

    @property
    def plugins(self) -> LoadedPlugins:
        if self._plugins is None:
            from qdframe.plugins import default_plugins

            self._plugins = default_plugins()
        return self._plugins

    @property
    def whitelist(self) -> Whitelist:
        if self._whitelist is None:
            self._whitelist = Whitelist.from_plugins(self.plugins)
        return self._whitelist

    def breaker(self, url: str) -> CircuitBreaker:
        """The circuit breaker of one configured server."""
        return self._breakers[url.rstrip("/")]

    def _each_server(self) -> list[tuple[str, str]]:
        roles = []
        for index, url in enumerate(self.servers):
            roles.append(("primary" if index == 0 else "backup", url))
        return roles

    def _call(
        self,
        url: str,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str | None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        breaker = self._breakers[url]
        try:
            reply = call(
                method,
                url,
                path,
                timeout_s=self.config.timeout_s,
                body=body,
                query=query,
                headers=headers,
            )
        except ServerUnavailable:
            breaker.record_failure()
            raise
        except TransportError:
            # The server answered (429 or another 4xx): it is alive.
            breaker.record_success()
            raise
        breaker.record_success()
        return reply

    # ---------------------------------------------------------------- cache
    def load_cache(self) -> SharedOptimizationsResponse | None:
        """Load the local cache (a damaged one is moved aside and ignored)."""
        document = self._cache.load()
        with self._lock:
            if document is None:
                return self.local_cache
            if document.qdframe_version != self.qdframe_version:
                _log.info(
                    "Cached optimizations are for qdframe %s, not %s; ignored",
                    document.qdframe_version,
                    self.qdframe_version,
                )
                return self.local_cache
            self.local_cache = document.data
            self.last_sync = int(document.fetched_at)
            return self.local_cache

    # ---------------------------------------------------------------- fetch
    def fetch_shared_optimizations(self) -> SharedOptimizationsResponse | None:
        """Fetch from the first server that answers; the cache when none does."""
        errors: list[str] = []
        for role, url in self._each_server():
            if not self._breakers[url].allow():
                errors.append(f"{url}: skipped (circuit open after repeated failures)")
                continue
            _log.info("Trying server: %s", url)
            try:
                data = self._fetch_pages(url)
            except (TransportError, ValidationError) as exc:
                if isinstance(exc, ValidationError):
                    self._breakers[url].record_failure()
                errors.append(
                    f"{url}: {exc}" if isinstance(exc, TransportError) else f"{url}: bad reply"
                )
                _log.info("Server %s failed: %s", url, errors[-1])
                continue
            if data.qdframe_version != self.qdframe_version:
                errors.append(f"{url}: answered for qdframe {data.qdframe_version}")
                continue
            where = "primary server" if role == "primary" else f"backup server {url}"
            _log.info("Successfully fetched optimizations from %s", where)
            _log.info("Total optimizations available: %d", len(data.available_optimizations))
            now = time.time()
            with self._lock:
                self.local_cache = data
                self.last_sync = int(now)
                self.network_available = True
            self._cache.save(
                CacheDocument(
                    qdframe_version=self.qdframe_version, fetched_at=now, server=url, data=data
                )
            )
            return data
        with self._lock:
            self.network_available = False
        _log.warning(MSG_ALL_DOWN)
        for line in errors:
            _log.debug("  %s", line)
        cached = self.local_cache if self.local_cache is not None else self.load_cache()
        if cached is None:
            _log.warning("No cached optimizations either")
        return cached

    def _fetch_pages(self, url: str) -> SharedOptimizationsResponse:
        """Every page of ``GET /api/shared-optimizations`` from ``url``, joined."""
        query = {"qdframe_version": self.qdframe_version, "system_type": self.system_type}
        first: SharedOptimizationsResponse | None = None
        available = []
        offset: int | None = 0
        for _ in range(_MAX_PAGES):
            page_query = {**query, "limit": str(_PAGE_SIZE), "offset": str(offset)}
            reply = self._call(url, "GET", "/api/shared-optimizations", query=page_query)
            page = SharedOptimizationsResponse.model_validate(reply.data)
            first = first or page
            available.extend(page.available_optimizations)
            following = page.next_offset
            if following is None or offset is None or following <= offset:
                break
            offset = following
        assert first is not None
        return first.model_copy(
            update={"available_optimizations": available, "offset": 0, "next_offset": None}
        )

    # ---------------------------------------------------------------- lookup
    def get_optimizations_for_system(
        self, system_type: str | None = None, *, quiet: bool = False
    ) -> SystemMatch | None:
        """Shared data for ``system_type`` (this host's by default), or the closest match.

        Logs the seed's "No shared optimizations found for system type: X"
        when there is no exact match, and the level of the match used instead.
        """
        target = system_type or self.system_type
        data = self.local_cache if self.local_cache is not None else self.load_cache()
        available = data.available_optimizations if data is not None else []
        match = closest_match(target, available, traits=system_traits())
        log = _log.debug if quiet else _log.warning
        if match is None or match.level != "exact":
            log(MSG_NO_DATA.format(target))
        if match is not None and match.level != "exact":
            (_log.debug if quiet else _log.info)(
                "Using closest match %s (match level: %s)", match.system_type, match.level
            )
        return match

    # ---------------------------------------------------------------- apply
    @overload
    def apply(
        self, target: SystemConfig, match: SystemMatch | None = None
    ) -> tuple[SystemConfig, list[SettingChange]]: ...

    @overload
    def apply(
        self, target: Mapping[str, Any], match: SystemMatch | None = None
    ) -> tuple[dict[str, Any], list[SettingChange]]: ...

    def apply(
        self, target: SystemConfig | Mapping[str, Any], match: SystemMatch | None = None
    ) -> tuple[SystemConfig | dict[str, Any], list[SettingChange]]:
        """Apply the recommended settings for this host to a copy of ``target``.

        Only whitelisted settings are applied, and only those this host checked
        (the tuner's correctness check, :func:`qdframe.tuning.check_results`):
        a setting whose results differ here, or that may change numerical
        results (precision, approximate methods) and cannot be run here, is
        refused with the reason. :attr:`last_check` holds the check.

        :returns: the updated copy and every change (or refusal), each logged.
        """
        chosen = match if match is not None else self.get_optimizations_for_system()
        if chosen is None:
            copy = (
                target.model_copy(deep=True) if isinstance(target, SystemConfig) else dict(target)
            )
            return copy, []
        data = chosen.data
        suffix = "" if chosen.level == "exact" else f" (match level: {chosen.level})"
        _log.info("Applying shared optimizations for %s%s", data.system_type, suffix)
        _log.info(
            "Based on %d optimizations from %d installations",
            data.optimization_count,
            data.contributor_count,
        )
        energy = (
            f", energy {data.average_energy_savings:.1f}%"
            if data.average_energy_savings is not None
            else ""
        )
        _log.info("Expected savings: %.1f%% (time)%s", data.average_savings, energy)
        updated, changes = apply_settings(target, data.recommended_settings, self.whitelist)
        if self._check_results:
            updated, changes = self._keep_checked(target, updated, changes)
        for change in changes:
            (_log.info if change.applied else _log.warning)(change.describe())
        if not changes:
            _log.info("Settings already match the recommendation")
        return updated, changes

    def _keep_checked(
        self,
        target: SystemConfig | Mapping[str, Any],
        updated: SystemConfig | dict[str, Any],
        changes: list[SettingChange],
    ) -> tuple[Any, list[SettingChange]]:
        """Undo the changes this host's correctness check does not let through."""
        accepted = {c.key: c.new for c in changes if c.applied}
        if not accepted:
            return updated, changes
        from qdframe.tuning.verify import check_results

        current = (
            current_settings(self.whitelist, target)
            if isinstance(target, SystemConfig)
            else dict(target)
        )
        _log.info("Checking %d shared setting(s) on this host before applying", len(accepted))
        check = check_results(
            current, accepted, plugins=self.plugins, changes_results=self.whitelist.changes_results
        )
        self.last_check = check
        if not check.failed:
            return updated, changes
        allowed = {k: v for k, v in accepted.items() if k not in check.failed}
        kept_copy, kept = apply_settings(target, allowed, self.whitelist)
        refused = [
            SettingChange(c.key, c.old, c.new, False, check.failed[c.key])
            for c in changes
            if c.applied and c.key in check.failed
        ]
        earlier = [c for c in changes if not c.applied]
        return kept_copy, sorted([*earlier, *kept, *refused], key=lambda c: c.key)

    # ---------------------------------------------------------------- identities
    def _register(self, url: str) -> Identity:
        """Register this installation with ``url`` and store the identity it issues.

        :raises TransportError: the server did not register us (unreachable,
            rate limited, refused).
        """
        reply = self._call(url, "GET", "/api/network/register")
        puzzle = RegistrationChallenge.model_validate(reply.data)
        try:
            nonce = solve(puzzle.challenge, puzzle.difficulty_bits)
        except ValueError as exc:
            raise ServerUnavailable(url, str(exc)) from None
        _log.info("Registering this installation with %s", url)
        reply = self._call(
            url,
            "POST",
            "/api/network/register",
            body={"challenge": puzzle.challenge, "nonce": nonce},
        )
        issued = RegistrationResponse.model_validate(reply.data)
        return self.identities.put(url, issued.install_token, issued.token)

    def identity(self, url: str) -> Identity:
        """The identity ``url`` issued to this installation (registering on first use)."""
        found = self.identities.get(url)
        return found if found is not None else self._register(url)

    def _send(self, url: str, body: Mapping[str, Any], key: str) -> Reply:
        """POST one contribution under ``url``'s identity; register again once if refused."""
        for attempt in range(2):
            identity = self.identity(url)
            try:
                return self._call(
                    url,
                    "POST",
                    "/api/network/contribute",
                    body={**body, "install_token": identity.install_token},
                    headers={"Idempotency-Key": key, "Authorization": identity.authorization},
                )
            except Rejected as exc:
                if exc.status != 401 or attempt:
                    raise
                _log.info("%s no longer knows this installation's identity; registering again", url)
                self.identities.forget(url)
        raise AssertionError("unreachable")  # pragma: no cover

    # ---------------------------------------------------------------- contribute
    def _post_contribution(self, body: Mapping[str, Any], key: str) -> ContributeResponse:
        errors: list[str] = []
        for _, url in self._each_server():
            if not self._breakers[url].allow():
                errors.append(f"{url}: skipped (circuit open)")
                continue
            try:
                reply = self._send(url, body, key)
                return ContributeResponse.model_validate(reply.data)
            except ServerUnavailable as exc:
                errors.append(str(exc))
            except ValidationError:
                errors.append(f"{url}: bad reply")
        raise _AllUnavailable(errors)

    def build_contribution(self, data: ContributionIn | Mapping[str, Any]) -> ContributionIn:
        """Validate ``data`` as a contribution, filling in token, version and system type."""
        if isinstance(data, ContributionIn):
            return data
        filled = dict(data)
        known = self.identities.get(self.servers[0]) if self.servers else None
        filled.setdefault(
            "install_token", known.install_token if known else install_token(self.paths)
        )
        filled.setdefault("qdframe_version", self.qdframe_version)
        filled.setdefault("system_type", self.system_type)
        try:
            return ContributionIn.model_validate(filled)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ConfigError(f"invalid contribution: {where}: {first.get('msg')}") from None

    def contribute_optimization(
        self, data: ContributionIn | Mapping[str, Any]
    ) -> ContributeResponse | None:
        """Send one contribution; queue it in the outbox when no server takes it now.

        :returns: the server's answer, or ``None`` when the contribution was queued.
        :raises NetworkError: contributions are disabled in the configuration.
        :raises ContributionRejected: a server refused it as invalid.
        """
        if not self.config.contribution_enabled:
            raise NetworkError("contributions are disabled: network.contribution_enabled is false")
        contribution = self.build_contribution(data)
        body = contribution.model_dump(mode="json")
        key = uuid.uuid4().hex
        try:
            response = self._post_contribution(body, key)
        except Rejected as exc:
            raise ContributionRejected(
                f"the server refused the contribution: {exc.message}"
            ) from None
        except (_AllUnavailable, RateLimited) as exc:
            self.outbox.add(body, key, str(exc))
            _log.warning("All servers unavailable, contribution queued for the next sync")
            return None
        _log.info("Optimization contributed to network")
        return response

    def flush_outbox(self) -> FlushResult:
        """Send queued contributions, oldest first, until a server stops taking them."""
        done: set[str] = set()
        failed: dict[str, str] = {}
        dropped = 0
        entries = self.outbox.entries()
        for entry in entries:
            try:
                self._post_contribution(entry.body, entry.idempotency_key)
            except Rejected as exc:
                dropped += 1
                done.add(entry.idempotency_key)
                _log.warning("Dropped a queued contribution the server refused: %s", exc.message)
            except (_AllUnavailable, RateLimited) as exc:
                failed[entry.idempotency_key] = str(exc)
                break
            else:
                done.add(entry.idempotency_key)
        if entries:
            self.outbox.settle(done, failed)
        sent = len(done) - dropped
        if sent:
            _log.info("Sent %d queued contribution(s)", sent)
        return FlushResult(sent, dropped, len(entries) - len(done))

    # ---------------------------------------------------------------- sync
    def sync(self, *, apply_to: SystemConfig | None = None) -> SyncResponse:
        """Send queued contributions, fetch, and (optionally) apply to ``apply_to``."""
        self.flush_outbox()
        data = self.fetch_shared_optimizations()
        applied = False
        if apply_to is not None and data is not None:
            updated, changes = self.apply(apply_to)
            with self._lock:
                self.applied_config, self.applied_changes = updated, changes
            applied = any(c.applied for c in changes)
        if self.network_available:
            message = "Successfully synced with distributed network"
        else:
            message = MSG_ALL_DOWN
        return SyncResponse(
            success=self.network_available,
            message=message,
            optimizations_fetched=(
                len(data.available_optimizations)
                if data is not None and self.network_available
                else 0
            ),
            optimizations_applied=applied,
            last_sync=self.last_sync,
        )

    # ---------------------------------------------------------------- status
    def status(self, *, refresh: bool = False) -> StatusResponse:
        """Network status as this client sees it (the seed's ``/api/network/status``)."""
        if refresh:
            self.fetch_shared_optimizations()
        data = self.local_cache if self.local_cache is not None else self.load_cache()
        match = self.get_optimizations_for_system(quiet=True) if data is not None else None
        return StatusResponse(
            network_status=NetworkStatus(
                enabled=self.config.enabled,
                network_available=self.network_available,
                last_sync=self.last_sync,
                cached_optimizations=len(data.available_optimizations) if data else 0,
                auto_sync_enabled=self.config.enabled and self.config.auto_sync_interval_s > 0,
            ),
            current_system=CurrentSystem(
                type=self.system_type,
                optimizations_available=match is not None,
                optimization_data=match.data if match is not None else None,
                match_level=match.level if match is not None else None,
            ),
            servers=Servers(
                primary=self.servers[0] if self.servers else "", backups=self.servers[1:]
            ),
        )

    # ---------------------------------------------------------------- lifecycle
    def start(self, config: SystemConfig | None = None) -> list[SettingChange]:
        """The startup sequence: load cache → auto-fetch → apply → schedule sync.

        :param config: the configuration to apply shared settings to; the
            result is in :attr:`applied_config`.
        :returns: the changes applied to ``config``.
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self.applied_changes
        _log.info("Initializing distributed optimization network...")
        self.load_cache()
        if self.config.auto_fetch_on_startup:
            _log.info("Auto-fetching shared optimizations on startup...")
            self.fetch_shared_optimizations()
            if self.network_available:
                self.flush_outbox()
        changes: list[SettingChange] = []
        if config is not None:
            updated, changes = self.apply(config)
            with self._lock:
                self.applied_config, self.applied_changes = updated, changes
        self._stop.clear()
        thread = threading.Thread(target=self._periodic, name="qdframe-network-sync", daemon=True)
        with self._lock:
            self._thread = thread
        thread.start()
        return changes

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the periodic sync (waits for a sync in progress up to ``timeout_s``)."""
        self._stop.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    @property
    def running(self) -> bool:
        """Whether the periodic sync thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _periodic(self) -> None:
        while not self._stop.wait(self.config.auto_sync_interval_s):
            try:
                result = self.sync(apply_to=self.applied_config)
            except Exception:
                _log.warning(MSG_SYNC_FAILED, exc_info=True)
                continue
            if not result.success:
                _log.warning(MSG_SYNC_FAILED)

    def __enter__(self) -> DistributedOptimizationNetwork:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.stop()
        return False
