"""A server killed with SIGKILL during contributions loses no acknowledged one."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL needs POSIX"),
]


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)


def test_sigkill_during_contributions_loses_no_acknowledged_one(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    whitelist = nf.write_whitelist(tmp_path / "whitelist.json")
    limits = [
        "--rate-limit",
        "1000000",
        "--burst",
        "1000000",
        "--global-rate-limit",
        "1000000",
        "--global-burst",
        "1000000",
    ]
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    server = nf.ServerProcess(f"sqlite:///{db}", whitelist, extra=limits).wait()

    def worker() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            try:
                installation = nf.register(client)
            except httpx.HTTPError:
                return  # killed before this worker registered: it sent nothing
            while not stop.is_set():
                key = uuid.uuid4().hex
                try:
                    response = nf.post(client, installation=installation, key=key)
                except httpx.HTTPError:
                    continue  # the server is gone: nothing was acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(key)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # SIGKILL while requests are in flight
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.kill()
    assert len(acknowledged) >= 300

    with sqlite3.connect(db) as connection:
        stored = {row[0] for row in connection.execute("SELECT key FROM idempotency_keys")}
        (rows,) = connection.execute("SELECT count(*) FROM contributions").fetchone()
        (check,) = connection.execute("PRAGMA integrity_check").fetchone()
    assert check == "ok"
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged contribution(s) lost"
    assert rows == len(stored)

    with nf.ServerProcess(f"sqlite:///{db}", whitelist) as restarted:
        health = httpx.get(f"{restarted.url}/api/health", timeout=10).json()
    assert health["contributions"] == rows
