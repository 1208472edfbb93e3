"""The sharing server, over HTTP on 127.0.0.1: endpoints, validation, limits, concurrency."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from qdframe._version import __version__  # noqa: E402
from qdframe.network.schemas import (  # noqa: E402
    HealthResponse,
    Problem,
    SharedOptimizationsResponse,
    StatusResponse,
    SyncResponse,
    SystemOptimization,
)

pytestmark = pytest.mark.network


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'network.sqlite3'}"


@pytest.fixture
def server(db_url: str) -> Any:
    with nf.thread_server(database_url=db_url, min_contributors=3) as url:
        yield url


def _post(
    client: Any,
    body: dict[str, Any],
    key: str | None = None,
    installation: nf.Installation | None = None,
) -> Any:
    """Contribute ``body`` as ``installation`` (a newly registered one by default)."""
    return nf.post(client, body, installation=installation, key=key)


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = Problem.model_validate(response.json())
    assert problem.status == status
    return response.json()  # type: ignore[no-any-return]


def test_contribute_then_aggregate_publishes_after_three_installations(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        for savings in (10.0, 20.0):
            assert _post(client, nf.contribution(savings=savings)).status_code == 200
        shared = client.get(
            "/api/shared-optimizations", params={"system_type": "linux_x86_64_generic"}
        )
        assert shared.status_code == 200
        data = SharedOptimizationsResponse.model_validate(shared.json())
        assert data.available_optimizations == []  # 2 of 3 installations: not yet published
        assert data.total_systems_sharing == 2
        _is_problem(client.get("/api/systems/linux_x86_64_generic"), 404)

        reply = _post(client, nf.contribution(savings=30.0))
        assert reply.json()["contributed_data"] == {
            "energy_savings": 30.0,
            "savings_basis": "time",
            "time_savings": 30.0,
            "quantum_advantage": True,
            "processes_count": 2,
        }
        data = SharedOptimizationsResponse.model_validate(
            client.get(
                "/api/shared-optimizations", params={"system_type": "linux_x86_64_generic"}
            ).json()
        )
        assert len(data.available_optimizations) == 1
        system = data.recommended_for_system
        assert system is not None
        assert system.average_savings == 20.0
        assert system.contributor_count == 3 and system.optimization_count == 3
        assert system.recommended_settings == {"backend.qsv.cross_check": False}
        assert system.process_optimizations["qft"].average_savings == 20.0
        assert data.current_system_type == "linux_x86_64_generic"
        assert data.qdframe_version == __version__
        single = SystemOptimization.model_validate(
            client.get("/api/systems/linux_x86_64_generic").json()
        )
        assert single == system


def test_status_sync_and_health_shapes(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        for _ in range(3):
            _post(client, nf.contribution(system_type="apple_silicon_m3"))
        status = StatusResponse.model_validate(
            client.get("/api/network/status", params={"system_type": "apple_silicon_m3"}).json()
        )
        assert status.current_system.optimizations_available
        assert status.current_system.optimization_data is not None
        assert status.servers.primary == server
        assert status.network_status.cached_optimizations == 1
        sync = SyncResponse.model_validate(client.post("/api/network/sync").json())
        assert sync.success and sync.optimizations_fetched == 1
        assert sync.message == "Successfully synced with distributed network"
        health = HealthResponse.model_validate(client.get("/api/health").json())
        assert health.database == "sqlite" and health.contributions == 3


def test_unknown_keys_and_coerced_types_are_rejected(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        body = nf.contribution()
        body["hostname"] = "alice-laptop"
        problem = _is_problem(_post(client, body), 422)
        assert ["body", "hostname"] in [e["loc"] for e in problem["errors"]]

        body = nf.contribution()
        body["savings"] = "12.5"  # a string is not a number here
        problem = _is_problem(_post(client, body), 422)
        assert any(e["loc"][-1] == "savings" for e in problem["errors"])

        body = nf.contribution()
        body["workloads"]["chrome"] = {"savings": 1.0, "settings": {}}  # no process names
        _is_problem(_post(client, body), 422)


@pytest.mark.parametrize("savings", [-100.5, 100.01, float("inf")])
def test_savings_outside_range_rejected(server: str, savings: float) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        body = nf.contribution()
        body["savings"] = savings
        content = json.dumps(body).encode()  # inf becomes the non-standard Infinity
        response = client.post(
            "/api/network/contribute",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        _is_problem(response, 422)


def test_settings_outside_whitelist_rejected_naming_allowed_values(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        body = nf.contribution(settings={"backend.qsv.cross_check": "sometimes"})
        problem = _is_problem(_post(client, body), 422)
        assert "allowed: True, False" in problem["detail"]
        assert problem["errors"][0]["loc"] == ["body", "settings", "backend.qsv.cross_check"]

        body = nf.contribution(settings={"memory.secret_key": 1})
        problem = _is_problem(_post(client, body), 422)
        assert "not declared" in problem["detail"]

        body = nf.contribution(settings={"backend.qsv.cross_check": 1})  # 1 is not True
        _is_problem(_post(client, body), 422)

        body = nf.contribution()
        body["qdframe_version"] = "0.0.1"
        problem = _is_problem(_post(client, body), 422)
        assert "no settings whitelist for qdframe 0.0.1" in problem["detail"]


def test_idempotency_key_replays_first_answer_and_rejects_new_body(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        key = uuid.uuid4().hex
        installation = nf.register(client)
        body = installation.contribution(savings=5.0)
        first = _post(client, body, key, installation)
        again = _post(client, body, key, installation)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
        changed = dict(body, savings=6.0)
        problem = _is_problem(_post(client, changed, key, installation), 422)
        assert "Idempotency-Key" in problem["detail"]
        assert client.get("/api/health").json()["contributions"] == 1


def test_body_size_limit_gives_413(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, max_body_bytes=2048) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        big = nf.contribution()
        big["workloads"]["qft"]["settings"] = {f"backend.qsv.k{i}": True for i in range(64)}
        big["workloads"]["ghz"]["settings"] = {f"backend.qsv.k{i}": True for i in range(64)}
        _is_problem(_post(client, big), 413)

        def chunks() -> Any:
            for _ in range(10):
                yield b" " * 1024

        response = client.post(
            "/api/network/contribute",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        _is_problem(response, 413)
        assert _post(client, nf.contribution()).status_code == 200


def test_rate_limit_per_install_token_with_retry_after(db_url: str) -> None:
    with (
        nf.thread_server(database_url=db_url, rate_per_minute=6, rate_burst=3) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        installation = nf.register(client)
        codes = [
            _post(client, installation.contribution(), installation=installation).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 200]
        limited = _post(client, installation.contribution(), installation=installation)
        _is_problem(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        # Another installation is not affected, whatever address it comes from.
        assert _post(client, nf.contribution()).status_code == 200


def test_errors_are_problem_documents(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        _is_problem(client.get("/api/nothing-here"), 404)
        _is_problem(client.delete("/api/health"), 405)
        _is_problem(
            client.get("/api/shared-optimizations", params={"system_type": "Bad Type"}), 422
        )
        response = client.post(
            "/api/network/contribute",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        _is_problem(response, 422)


def test_no_address_is_stored(server: str, db_url: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        assert _post(client, nf.contribution(), uuid.uuid4().hex).status_code == 200
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        dumped = "\n".join(db.iterdump())
    assert "127.0.0.1" not in dumped
    columns = {
        row[1]
        for table in ("contributions", "idempotency_keys")
        for row in sqlite3.connect(path).execute(f"PRAGMA table_info({table})")
    }
    assert not columns & {"ip", "address", "client", "host", "hostname", "user"}


def test_versions_never_mix(db_url: str) -> None:
    from qdframe.network.whitelist import Whitelist

    other = Whitelist("9.9.9", nf.make_whitelist().choices, nf.make_whitelist().defaults)
    whitelists = {__version__: nf.make_whitelist(), "9.9.9": other}
    with (
        nf.thread_server(database_url=db_url, min_contributors=1, whitelists=whitelists) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        _post(client, nf.contribution(savings=10.0))
        old = nf.contribution(savings=90.0)
        old["qdframe_version"] = "9.9.9"
        assert _post(client, old).status_code == 200
        mine = client.get("/api/systems/linux_x86_64_generic").json()
        theirs = client.get(
            "/api/systems/linux_x86_64_generic", params={"qdframe_version": "9.9.9"}
        ).json()
        assert (mine["average_savings"], mine["optimization_count"]) == (10.0, 1)
        assert (theirs["average_savings"], theirs["optimization_count"]) == (90.0, 1)


def test_dashboard_is_self_contained(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        for savings in (5.0, 15.0, 25.0):
            _post(client, nf.contribution(savings=savings))
        _post(client, nf.contribution(system_type="apple_silicon_m1", savings=3.0))
        page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'data-system="linux_x86_64_generic"' in html and 'data-system="apple_silicon_m1"' in html
    assert "pending (1/3)" in html
    counts = [int(part.split('"')[1]) for part in html.split("data-count=")[1:]]
    assert sum(counts) == 4  # one bar entry per installation


def test_openapi_schema_documents_problems(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/shared-optimizations",
        "/api/network/sync",
        "/api/network/status",
        "/api/network/contribute",
        "/api/health",
        "/api/systems/{system_type}",
    ):
        assert path in paths
    contribute = paths["/api/network/contribute"]["post"]["responses"]
    for status in ("413", "422", "429"):
        assert "application/problem+json" in contribute[status]["content"]


def test_fifty_threads_times_twenty_lose_nothing(db_url: str) -> None:
    threads, per_thread = 50, 20
    acknowledged: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            installation = nf.register(client)
            for i in range(per_thread):
                key = uuid.uuid4().hex
                response = _post(
                    client, installation.contribution(savings=float(i)), key, installation
                )
                with lock:
                    if response.status_code == 200:
                        acknowledged.append(key)
                    else:
                        failures.append(f"{response.status_code} {response.text}")

    with nf.thread_server(database_url=db_url, min_contributors=1) as url:
        pool = [threading.Thread(target=worker, args=(url,)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(120)
        assert not failures, failures[:3]
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("/api/health").json()["contributions"] == threads * per_thread
            system = client.get("/api/systems/linux_x86_64_generic").json()
    assert len(acknowledged) == threads * per_thread
    assert system["optimization_count"] == threads * per_thread
    assert system["contributor_count"] == threads
    path = db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        stored = {row[0] for row in db.execute("SELECT key FROM idempotency_keys")}
        (rows,) = db.execute("SELECT count(*) FROM contributions").fetchone()
    assert stored == set(acknowledged)
    assert rows == threads * per_thread


def test_logs_never_carry_the_client_address(tmp_path: Path) -> None:
    whitelist = nf.write_whitelist(tmp_path / "whitelist.json")
    server = nf.ServerProcess(
        f"sqlite:///{tmp_path / 'log.db'}", whitelist, extra=["--access-log"]
    ).wait()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            client.get("/api/health")
            _post(client, nf.contribution())
            _post(client, {"bad": 1})
    finally:
        output = server.terminate()
    assert "GET /api/health 200" in output and "POST /api/network/contribute 422" in output
    addresses = re.findall(r"127\.0\.0\.1:(\d+)", output)
    assert set(addresses) <= {str(server.port)}, output  # only the listening address


def test_import_qdframe_needs_no_server_extra() -> None:
    code = (
        "import sys, qdframe, qdframe.network, qdframe.tuning, qdframe.cli.network;"
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'uvicorn', 'alembic', 'starlette')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
