"""The server on PostgreSQL: same migrations, several server processes on one database.

Runs only when ``QDFRAME_TEST_POSTGRES_URL`` names a reachable PostgreSQL
database (for example ``postgresql+psycopg://qdframe:qdframe@127.0.0.1/qdframe_test``)
whose user may create schemas; each test works in a schema of its own.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
sqlalchemy = pytest.importorskip("sqlalchemy")

POSTGRES_URL = os.environ.get("QDFRAME_TEST_POSTGRES_URL", "")


def _unavailable() -> str | None:
    if not POSTGRES_URL:
        return "PostgreSQL suite skipped: set QDFRAME_TEST_POSTGRES_URL to run it"
    if importlib.util.find_spec("psycopg") is None:
        return (
            'PostgreSQL suite skipped: psycopg is not installed (pip install "qdframe[postgres]")'
        )
    try:
        engine = sqlalchemy.create_engine(_driver_url(POSTGRES_URL))
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL suite skipped: {POSTGRES_URL} is not reachable ({type(exc).__name__})"
    return None


def _driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


_REASON = _unavailable()
pytestmark = [pytest.mark.network, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections work in a fresh schema, dropped afterwards."""
    schema = f"qdtest_{secrets.token_hex(6)}"
    admin = sqlalchemy.create_engine(_driver_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{_driver_url(POSTGRES_URL)}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _post(
    url: str,
    body: dict[str, Any],
    key: str | None = None,
    installation: nf.Installation | None = None,
) -> Any:
    with httpx.Client(base_url=url, timeout=10) as client:
        return nf.post(client, body, installation=installation, key=key)


def test_migrations_and_aggregation_on_postgres(pg_url: str) -> None:
    with nf.thread_server(database_url=pg_url, min_contributors=3) as url:
        for savings in (10.0, 20.0, 30.0):
            assert _post(url, nf.contribution(savings=savings)).status_code == 200
        health = httpx.get(f"{url}/api/health").json()
        system = httpx.get(f"{url}/api/systems/linux_x86_64_generic").json()
    assert health["database"] == "postgresql" and health["contributions"] == 3
    assert system["average_savings"] == 20.0 and system["contributor_count"] == 3
    engine = sqlalchemy.create_engine(pg_url)
    with engine.connect() as connection:
        version = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert version.scalar() == "0002"
    engine.dispose()


def test_made_up_installations_change_nothing_on_postgres(pg_url: str) -> None:
    poison = {"backend.qsv.approximate": True}
    with (
        nf.thread_server(database_url=pg_url, min_contributors=3) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        honest = [nf.register(client) for _ in range(3)]
        for who in honest[:2]:
            assert nf.post(client, installation=who).status_code == 200
        assert set(nf.forged_posts(client, 50, honest[0], poison)) <= {401, 403}
        assert client.get("/api/systems/linux_x86_64_generic").status_code == 404
        assert nf.post(client, installation=honest[2]).status_code == 200
        published = client.get("/api/systems/linux_x86_64_generic").json()
        assert set(nf.forged_posts(client, 50, honest[1], poison)) <= {401, 403}
        assert client.get("/api/systems/linux_x86_64_generic").json() == published
        assert client.get("/api/health").json()["contributions"] == 3
    assert published["contributor_count"] == 3
    assert published["recommended_settings"] == {"backend.qsv.cross_check": False}


@pytest.mark.slow
def test_two_server_processes_share_one_database(pg_url: str, tmp_path: Path) -> None:
    whitelist = nf.write_whitelist(tmp_path / "whitelist.json")
    extra = [
        "--min-contributors",
        "1",
        "--rate-limit",
        "100000",
        "--burst",
        "100000",
        "--system-type",
        "apple_silicon_m4",
    ]
    # Both start at once: the schema migration must run exactly once.
    first = nf.ServerProcess(pg_url, whitelist, extra=extra)
    second = nf.ServerProcess(pg_url, whitelist, extra=extra)
    with first.wait(), second.wait():
        key = uuid.uuid4().hex
        # An identity one process issued is good on the other: they share the secret.
        installation = nf.register(first.url)
        body = installation.contribution(system_type="apple_silicon_m4")
        assert _post(first.url, body, key, installation).status_code == 200
        replay = _post(second.url, body, key, installation)  # the same key on the other process
        assert replay.status_code == 200 and replay.headers.get("idempotent-replayed") == "true"
        changed = dict(body, savings=1.0)
        assert _post(second.url, changed, key, installation).status_code == 422

        sync = httpx.post(f"{second.url}/api/network/sync").json()
        assert sync["optimizations_fetched"] == 1
        assert httpx.get(f"{second.url}/api/systems/apple_silicon_m4").status_code == 200

        # Concurrent writers on both processes lose nothing.
        acknowledged: list[str] = []
        lock = threading.Lock()

        def worker(url: str) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                installation = nf.register(client)
                for _ in range(10):
                    k = uuid.uuid4().hex
                    response = nf.post(client, installation=installation, key=k)
                    if response.status_code == 200:
                        with lock:
                            acknowledged.append(k)

        threads = [
            threading.Thread(target=worker, args=(server.url,))
            for server in (first, second)
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(acknowledged) == 200
        # Each process picks up the other's rows within its refresh interval.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            counts = [
                httpx.get(f"{s.url}/api/health").json()["contributions"] for s in (first, second)
            ]
            if counts == [201, 201]:
                break
            time.sleep(0.2)
        assert counts == [201, 201]
