"""The network client against real servers on 127.0.0.1: failover, cache, outbox, sync."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe.config import NetworkClientConfig, SystemConfig  # noqa: E402
from qdframe.network import DistributedOptimizationNetwork  # noqa: E402
from qdframe.network.breaker import CircuitBreaker  # noqa: E402

pytestmark = pytest.mark.network


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)

SYSTEM = "apple_silicon_m3"


def _dead_url() -> str:
    return f"http://127.0.0.1:{nf.free_port()}"  # nothing listens there


def _client(
    tmp_path: Path, primary: str, backups: list[str] | None = None, **config: Any
) -> DistributedOptimizationNetwork:
    settings = NetworkClientConfig.model_validate(
        {"primary_server": primary, "backup_servers": backups or [], "timeout_s": 2.0, **config}
    )
    return DistributedOptimizationNetwork(
        settings,
        cache_dir=tmp_path / "client",
        system_type=SYSTEM,
        whitelist=nf.make_whitelist(),
        plugins=nf.load_test_plugins(),
    )


def _seed(url: str, system_type: str = SYSTEM, count: int = 3, **kwargs: Any) -> None:
    """``count`` installations, each registered and contributing once."""
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(count):
            body = nf.contribution(system_type=system_type, **kwargs)
            assert nf.post(client, body).status_code == 200


def _wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def live(tmp_path: Path) -> Any:
    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'live.db'}") as url:
        _seed(url, settings={"acceleration.precision": "complex64"})
        yield url


def test_primary_down_uses_backup(
    tmp_path: Path, live: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = _dead_url()
    client = _client(tmp_path, dead, [live])
    with caplog.at_level(logging.INFO, logger="qdframe.network"):
        data = client.fetch_shared_optimizations()
    assert data is not None and [s.system_type for s in data.available_optimizations] == [SYSTEM]
    assert client.network_available
    assert f"Successfully fetched optimizations from backup server {live}" in caplog.text
    assert f"Trying server: {dead}" in caplog.text
    assert client.paths.cache_file.exists()


def test_all_down_uses_cache_with_message(
    tmp_path: Path, live: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert _client(tmp_path, live).fetch_shared_optimizations() is not None
    offline = _client(tmp_path, _dead_url(), [_dead_url()])  # a new process, same cache
    with caplog.at_level(logging.INFO, logger="qdframe.network"):
        data = offline.fetch_shared_optimizations()
    assert "All servers unavailable, using cached data" in caplog.text
    assert data is not None and data.available_optimizations[0].system_type == SYSTEM
    assert not offline.network_available
    match = offline.get_optimizations_for_system()
    assert match is not None and match.level == "exact"
    result = offline.sync()
    assert not result.success and result.message == "All servers unavailable, using cached data"


def test_corrupt_cache_is_moved_aside_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(tmp_path, _dead_url())
    client.paths.cache_file.parent.mkdir(parents=True)
    client.paths.cache_file.write_text('{"format": "qdframe-shared-optimizations", "da')
    with caplog.at_level(logging.WARNING, logger="qdframe.network"):
        assert client.load_cache() is None
        assert client.fetch_shared_optimizations() is None
    assert not client.paths.cache_file.exists()
    moved = list(client.paths.directory.glob("shared_optimizations.json.corrupt-*"))
    assert len(moved) == 1
    assert "Ignoring damaged optimization cache" in caplog.text
    # A well-formed file of the wrong shape is damaged too.
    client.paths.cache_file.write_text(json.dumps({"format": "something else"}))
    assert client.load_cache() is None


def test_cache_write_is_atomic_and_validated(tmp_path: Path, live: str) -> None:
    client = _client(tmp_path, live)
    client.fetch_shared_optimizations()
    leftovers = [p for p in client.paths.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    document = json.loads(client.paths.cache_file.read_text())
    assert document["format"] == "qdframe-shared-optimizations"
    assert document["server"] == live


def test_outbox_retries_on_next_sync_without_duplicates(tmp_path: Path) -> None:
    port = nf.free_port()
    url = f"http://127.0.0.1:{port}"
    client = _client(tmp_path, url)
    body = nf.contribution(system_type=SYSTEM)
    assert client.contribute_optimization(body) is None  # queued: nothing listens yet
    entries = client.outbox.entries()
    assert len(entries) == 1
    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'late.db'}", port=port):
        # The server stores the entry but the client "crashes" before forgetting it.
        client._post_contribution(entries[0].body, entries[0].idempotency_key)
        result = client.sync()
        assert result.success
        assert client.outbox.entries() == []
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/api/health").json()["contributions"] == 1


def test_rejected_contribution_raises_and_is_not_queued(tmp_path: Path, live: str) -> None:
    from qdframe.network import ContributionRejected

    client = _client(tmp_path, live)
    body = nf.contribution(settings={"backend.qsv.cross_check": "maybe"})
    with pytest.raises(ContributionRejected, match="allowed: True, False"):
        client.contribute_optimization(body)
    assert client.outbox.entries() == []


def test_contributions_disabled_are_refused(tmp_path: Path, live: str) -> None:
    from qdframe.network import NetworkError

    client = _client(tmp_path, live, contribution_enabled=False)
    with pytest.raises(NetworkError, match="contribution_enabled"):
        client.contribute_optimization(nf.contribution())


def test_circuit_breaker_skips_dead_server(tmp_path: Path, live: str) -> None:
    dead = _dead_url()
    client = _client(tmp_path, dead, [live])
    for _ in range(3):
        client.fetch_shared_optimizations()
    assert client.breaker(dead).state == "open"
    assert client.fetch_shared_optimizations() is not None  # backup still answers


def test_breaker_states() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=10, clock=lambda: now[0])
    seen: list[str] = []
    breaker.record_failure()
    seen.append(breaker.state)
    assert breaker.allow()
    breaker.record_failure()
    seen.append(breaker.state)
    assert not breaker.allow()
    now[0] = 10.0
    seen.append(breaker.state)
    assert breaker.allow() and not breaker.allow()  # a single trial call
    breaker.record_failure()
    seen.append(breaker.state)
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    seen.append(breaker.state)
    assert seen == ["closed", "open", "half_open", "open", "closed"]


def test_closest_match_states_level(
    tmp_path: Path, live: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = DistributedOptimizationNetwork(
        NetworkClientConfig.model_validate({"primary_server": live}),
        cache_dir=tmp_path / "c",
        system_type="apple_silicon_m3_pro",
        whitelist=nf.make_whitelist(),
        plugins=nf.load_test_plugins(),
    )
    client.fetch_shared_optimizations()
    with caplog.at_level(logging.INFO, logger="qdframe.network"):
        match = client.get_optimizations_for_system()
    assert match is not None and match.system_type == SYSTEM and match.level == "family"
    assert "No shared optimizations found for system type: apple_silicon_m3_pro" in caplog.text
    assert "match level: family" in caplog.text
    status = client.status()
    assert status.current_system.match_level == "family"


def test_apply_changes_only_whitelisted_settings(
    tmp_path: Path, live: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(tmp_path, live)
    client.fetch_shared_optimizations()
    with caplog.at_level(logging.INFO, logger="qdframe.network"):
        config, changes = client.apply(SystemConfig())
    assert config.acceleration.precision == "complex64"
    assert [(c.key, c.old, c.new, c.applied) for c in changes] == [
        ("acceleration.precision", "complex128", "complex64", True)
    ]
    assert "Set acceleration.precision to 'complex64' (was 'complex128')" in caplog.text
    assert "Based on 3 optimizations from 3 installations" in caplog.text
    # A client whose plugins do not declare the setting applies nothing.
    from qdframe.network.whitelist import Whitelist

    strict = DistributedOptimizationNetwork(
        client.config,
        cache_dir=tmp_path / "client",
        system_type=SYSTEM,
        whitelist=Whitelist("0", {}),
    )
    config, changes = strict.apply(SystemConfig())
    assert config.acceleration.precision == "complex128"
    assert len(changes) == 1 and not changes[0].applied
    assert "not declared" in changes[0].reason


def test_start_applies_and_periodic_sync_follows_the_network(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = nf.free_port()
    db = f"sqlite:///{tmp_path / 'sync.db'}"
    client = _client(tmp_path, f"http://127.0.0.1:{port}", auto_sync_interval_s=0.2, enabled=True)
    with caplog.at_level(logging.INFO, logger="qdframe.network"):
        with nf.thread_server(database_url=db, port=port, min_contributors=1) as url:
            _seed(url, count=1, settings={"acceleration.precision": "complex64"})
            changes = client.start(SystemConfig())
            assert client.running
            assert [c.key for c in changes if c.applied] == ["acceleration.precision"]
            assert client.applied_config is not None
            assert client.applied_config.acceleration.precision == "complex64"
            assert "Auto-fetching shared optimizations on startup..." in caplog.text
            _seed(url, system_type="intel_mac_i7", count=1)
            _wait_for(
                lambda: (
                    client.local_cache is not None
                    and len(client.local_cache.available_optimizations) == 2
                )
            )
        # The server is gone: the next scheduled sync fails, and says so.
        _wait_for(lambda: "Scheduled network sync failed" in caplog.text)
        client.stop()
    assert not client.running
