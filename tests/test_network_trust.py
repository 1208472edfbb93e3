"""The client side of trust: one registration per server, re-registration when refused,
and no shared setting applied before this host checked its results."""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe._version import __version__  # noqa: E402
from qdframe.config import NetworkClientConfig, SystemConfig  # noqa: E402
from qdframe.network import DistributedOptimizationNetwork  # noqa: E402
from qdframe.network.actions import apply_shared  # noqa: E402
from qdframe.network.whitelist import Whitelist, changes_results  # noqa: E402
from qdframe.settings import TunableSetting  # noqa: E402
from qdframe.tuning.verify import check_results  # noqa: E402

pytestmark = pytest.mark.network


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)

SYSTEM = "linux_x86_64_generic"
#: A setting of a backend these tests do not install (as Aer is absent on a plain install).
AER_METHOD = TunableSetting(
    "backend.aer.method", ("automatic", "matrix_product_state"), "automatic", "Aer method."
)
WHITELIST = Whitelist.from_settings([*nf.SETTINGS, AER_METHOD])


def _client(tmp_path: Path, url: str, **config: Any) -> DistributedOptimizationNetwork:
    settings = NetworkClientConfig.model_validate(
        {"primary_server": url, "timeout_s": 5.0, **config}
    )
    return DistributedOptimizationNetwork(
        settings,
        cache_dir=tmp_path / "client",
        system_type=SYSTEM,
        whitelist=WHITELIST,
        plugins=nf.load_test_plugins(),
    )


def _server(tmp_path: Path, name: str = "trust", **settings: Any) -> Any:
    settings.setdefault("whitelists", {__version__: WHITELIST})
    return nf.thread_server(database_url=f"sqlite:///{tmp_path / f'{name}.db'}", **settings)


def _installations(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        (count,) = connection.execute("SELECT count(*) FROM installations").fetchone()
    return int(count)


def test_client_registers_once_and_keeps_its_identity_privately(tmp_path: Path) -> None:
    with _server(tmp_path) as url:
        client = _client(tmp_path, url)
        for savings in (5.0, 6.0, 7.0):
            assert client.contribute_optimization(nf.contribution(savings=savings)) is not None
        again = _client(tmp_path, url)  # a new process, same cache directory
        assert again.contribute_optimization(nf.contribution()) is not None
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/api/health").json()["contributions"] == 4
    assert _installations(tmp_path / "trust.db") == 1
    document = json.loads(client.paths.identity_file.read_text())
    identity = document["identities"][url]
    assert stat.S_IMODE(client.paths.identity_file.stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "trust.db") as db:
        tokens = {row[0] for row in db.execute("SELECT install_token FROM contributions")}
    assert tokens == {identity["install_token"]}
    leftovers = [p.name for p in client.paths.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_client_registers_again_when_the_server_refuses_its_identity(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = nf.free_port()
    with _server(tmp_path, "a", port=port, identity_secret="a" * 40) as url:
        client = _client(tmp_path, url)
        assert client.contribute_optimization(nf.contribution()) is not None
        first = client.identities.get(url)
    # The server's secret changed (rotated, or another server at that address).
    with (
        _server(tmp_path, "b", port=port, identity_secret="b" * 40),
        caplog.at_level(logging.INFO, logger="qdframe.network"),
    ):
        assert client.contribute_optimization(nf.contribution()) is not None
    second = client.identities.get(url)
    assert first is not None and second is not None
    assert second.install_token != first.install_token
    assert "registering again" in caplog.text
    assert _installations(tmp_path / "b.db") == 1


def test_damaged_identity_file_is_moved_aside_and_replaced(tmp_path: Path) -> None:
    with _server(tmp_path) as url:
        client = _client(tmp_path, url)
        client.paths.identity_file.parent.mkdir(parents=True)
        client.paths.identity_file.write_text('{"format": "qdframe-identities", "iden')
        assert client.contribute_optimization(nf.contribution()) is not None
    assert list(client.paths.directory.glob("identities.json.corrupt-*"))
    assert client.identities.get(url) is not None


def test_registration_limit_sends_the_contribution_to_the_outbox(tmp_path: Path) -> None:
    with _server(tmp_path, registration_per_hour=1.0, registration_burst=1) as url:
        nf.register(url)  # someone at this address took the only registration
        client = _client(tmp_path, url)
        assert client.contribute_optimization(nf.contribution()) is None
    assert len(client.outbox.entries()) == 1


def test_client_reads_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qdframe.network.client as client_module

    systems = ["apple_silicon_m1", "apple_silicon_m2", "intel_mac_i7", SYSTEM, "intel_mac_i5"]
    monkeypatch.setattr(client_module, "_PAGE_SIZE", 2)
    with _server(tmp_path, min_contributors=1) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            for system_type in systems:
                assert nf.post(http, system_type=system_type).status_code == 200
        data = _client(tmp_path, url).fetch_shared_optimizations()
    assert data is not None
    assert sorted(s.system_type for s in data.available_optimizations) == sorted(systems)
    assert data.next_offset is None


def _seed(url: str, settings: dict[str, Any]) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        assert nf.post(http, settings=settings).status_code == 200


RISKY = {
    "acceleration.precision": "complex64",  # checked: results agree
    "backend.qsv.cross_check": False,  # checked: results agree
    "backend.qsv.approximate": True,  # checked: results differ
    "backend.aer.method": "matrix_product_state",  # cannot be run here
    "resources.executor_workers": 2,  # cannot change results
}


def test_start_applies_only_what_this_host_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _server(tmp_path, min_contributors=1) as url:
        _seed(url, RISKY)
        client = _client(tmp_path, url, auto_sync_interval_s=3600)
        with caplog.at_level(logging.INFO, logger="qdframe.network"):
            changes = client.start(SystemConfig())
        client.stop()
    by_key = {c.key: c for c in changes}
    assert {k for k, c in by_key.items() if c.applied} == {
        "acceleration.precision",
        "backend.qsv.cross_check",
        "resources.executor_workers",
    }
    assert "changes results on this host" in by_key["backend.qsv.approximate"].reason
    assert "could not be checked on this host" in by_key["backend.aer.method"].reason
    config = client.applied_config
    assert config is not None and config.acceleration.precision == "complex64"
    assert "aer" not in config.acceleration.backend_options
    assert config.acceleration.backend_options.get("qsv", {}).get("approximate") is not True
    check = client.last_check
    assert check is not None
    assert set(check.passed) == {"acceleration.precision", "backend.qsv.cross_check"}
    assert check.unaffected.keys() == {"resources.executor_workers"}
    assert "Not applied: backend.qsv.approximate = True" in caplog.text


def test_network_apply_checks_before_writing(tmp_path: Path) -> None:
    with _server(tmp_path, min_contributors=1) as url:
        _seed(url, {"backend.qsv.approximate": True, "backend.aer.method": "matrix_product_state"})
        client = _client(tmp_path, url)
        report = apply_shared(client, config=SystemConfig())
    assert report.kept is False and report.written == []
    assert "failed the check on this host" in report.reason
    assert not client.paths.applied_file.exists()
    assert set(report.to_json()["results_check"]["failed"]) == {
        "backend.qsv.approximate",
        "backend.aer.method",
    }


def test_network_apply_keeps_checked_settings(tmp_path: Path) -> None:
    with _server(tmp_path, min_contributors=1) as url:
        _seed(url, {"backend.qsv.cross_check": False, "backend.qsv.approximate": True})
        client = _client(tmp_path, url)
        report = apply_shared(client, config=SystemConfig())
    assert report.kept
    applied = json.loads(client.paths.applied_file.read_text())["settings"]
    assert applied == {"backend.qsv.cross_check": False}


def test_check_results_refuses_what_it_cannot_run_or_what_differs() -> None:
    plugins = nf.load_test_plugins()
    current = dict(nf.make_whitelist().defaults)
    check = check_results(
        current,
        {"backend.qsv.approximate": True, "backend.missing.method": "fast", "memory.spill": True},
        plugins=plugins,
        changes_results=changes_results,
    )
    assert "changes results" in check.failed["backend.qsv.approximate"]
    assert "could not be checked" in check.failed["backend.missing.method"]
    assert "memory.spill" in check.unaffected and not check.ok
    shared = {"backend.qsv.cross_check": False}
    fine = check_results(current, shared, plugins=plugins, changes_results=changes_results)
    assert fine.ok and fine.passed["backend.qsv.cross_check"] <= fine.tolerance
    # A backend that is named but does not exist cannot be checked.
    broken = check_results(
        current,
        {"acceleration.backend": "nonexistent"},
        plugins=plugins,
        changes_results=changes_results,
    )
    assert "acceleration.backend" in broken.failed


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("acceleration.precision", True),
        ("backend.aer.method", True),
        ("backend.qsv.approximate", True),
        ("backend.x.approximation_degree", True),
        ("backend.numpy.fusion_max_qubits", False),
        ("resources.executor_workers", False),
    ],
)
def test_which_settings_can_change_results(key: str, expected: bool) -> None:
    assert changes_results(key) is expected


def test_a_plugin_tag_marks_a_setting_as_result_changing() -> None:
    tagged = TunableSetting("backend.x.trick", (1, 2), 1, tags=frozenset({"changes_results"}))
    whitelist = Whitelist.from_settings([tagged])
    assert whitelist.changes_results("backend.x.trick")
    assert Whitelist.from_json(whitelist.to_json()).changes_results("backend.x.trick")
    untagged = Whitelist.from_settings([TunableSetting("backend.x.trick", (1, 2), 1)])
    assert not untagged.changes_results("backend.x.trick")
