"""Load test of the sharing server on loopback (SQLite, one server process).

Starts ``qdframe network serve`` on a fresh SQLite file, seeds it, then drives
it from two client processes (each with a few keep-alive connections) for a
bounded time per endpoint, and prints requests per second with p50/p99
latency:

    python benchmarks/network.py                 # 5 s per endpoint
    python benchmarks/network.py --seconds 10 --connections 4 --json

Targets on a 2-core machine: 1,000 GET/s and 300 contributions/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from qdframe._version import __version__

TARGETS = {"GET /api/shared-optimizations": 1000.0, "POST /api/network/contribute": 300.0}
P99_TARGET_MS = 50.0
SYSTEMS = ("apple_silicon_m3", "apple_silicon_m3_pro", "intel_mac_i7", "linux_x86_64_generic")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _whitelist(path: Path) -> None:
    document = {
        "qdframe_version": __version__,
        "settings": {
            "acceleration.precision": {"choices": ["complex128", "complex64"]},
            "backend.numpy.fusion_max_qubits": {"choices": [2, 3, 4, 5]},
        },
    }
    path.write_text(json.dumps(document))


def _contribution(token: str, index: int) -> bytes:
    precision = "complex64" if index % 3 else "complex128"
    settings = {
        "acceleration.precision": precision,
        "backend.numpy.fusion_max_qubits": 2 + index % 4,
    }
    body = {
        "install_token": token,
        "qdframe_version": __version__,
        "system_type": SYSTEMS[index % len(SYSTEMS)],
        "savings": 5.0 + (index % 20),
        "quantum_advantage": True,
        "settings": settings,
        "workloads": {
            name: {"savings": 4.0 + (index % 15), "settings": settings}
            for name in ("qft", "ghz", "random")
        },
    }
    return json.dumps(body).encode()


def _connection_loop(
    port: int, kind: str, stop_at: float, latencies: list[float], errors: list[str]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    token = secrets.token_hex(16)
    index = 0
    while time.perf_counter() < stop_at:
        index += 1
        start = time.perf_counter()
        try:
            if kind == "get":
                system = SYSTEMS[index % len(SYSTEMS)]
                conn.request("GET", f"/api/shared-optimizations?system_type={system}")
            else:
                conn.request(
                    "POST",
                    "/api/network/contribute",
                    body=_contribution(token, index),
                    headers={
                        "Content-Type": "application/json",
                        "Idempotency-Key": uuid.uuid4().hex,
                    },
                )
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            errors.append(str(response.status))
    conn.close()


def _client_process(
    port: int, kind: str, connections: int, start_at: float, seconds: float, queue: Any
) -> None:
    while time.perf_counter() < start_at:
        time.sleep(0.001)
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = start_at + seconds
    threads = [
        threading.Thread(target=_connection_loop, args=(port, kind, stop_at, latencies, errors))
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, errors))


def _phase(
    port: int, kind: str, processes: int, connections: int, seconds: float
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.perf_counter() + 1.5  # let every process start before the clock runs
    workers = [
        context.Process(
            target=_client_process, args=(port, kind, connections, start_at, seconds, queue)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in workers:
        try:
            got, failed = queue.get(timeout=seconds + 60)
        except Exception:
            codes = [w.exitcode for w in workers]
            raise RuntimeError(f"a client process failed (exit codes {codes})") from None
        latencies.extend(got)
        errors.extend(failed)
    for worker in workers:
        worker.join(30)
    latencies.sort()
    count = len(latencies)
    p99 = latencies[min(count - 1, int(count * 0.99))] if count else float("nan")
    return {
        "requests": count,
        "errors": len(errors),
        "per_second": count / seconds,
        "p50_ms": statistics.median(latencies) * 1000 if count else float("nan"),
        "p99_ms": p99 * 1000,
    }


def _seed(port: int, contributors: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(contributors):
        conn.request(
            "POST",
            "/api/network/contribute",
            body=_contribution(secrets.token_hex(16), i),
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"seeding failed: HTTP {response.status}")
    conn.close()


def _wait(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Duration per endpoint.")
    parser.add_argument("--processes", type=int, default=2, help="Client processes.")
    parser.add_argument("--connections", type=int, default=4, help="Connections per process.")
    parser.add_argument("--seed", type=int, default=200, help="Contributions stored first.")
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qdframe-bench-") as tmp:
        whitelist = Path(tmp) / "whitelist.json"
        _whitelist(whitelist)
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from qdframe.cli.network import app; app()",
                "serve",
                "--db",
                f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "--port",
                str(port),
                "--whitelist",
                str(whitelist),
                "--rate-limit",
                "1000000",
                "--burst",
                "1000000",
                "--min-contributors",
                "3",
            ],
            env=dict(os.environ, QDFRAME_DISABLE_PLUGIN_AUTOLOAD="1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(port)
            _seed(port, args.seed)
            results = {
                "GET /api/shared-optimizations": _phase(
                    port, "get", args.processes, args.connections, args.seconds
                ),
                "POST /api/network/contribute": _phase(
                    port, "post", args.processes, args.connections, args.seconds
                ),
            }
        finally:
            server.terminate()
            server.wait(30)

    for name, row in results.items():
        row["target_per_second"] = TARGETS[name]
        row["meets_target"] = (
            row["per_second"] >= TARGETS[name]
            and row["p99_ms"] < P99_TARGET_MS
            and not row["errors"]
        )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  target")
        for name, row in results.items():
            verdict = "ok" if row["meets_target"] else "MISSED"
            print(
                f"{name:34} {row['per_second']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
                f"{row['errors']:7d}  >= {row['target_per_second']:.0f}/s, p99 < "
                f"{P99_TARGET_MS:.0f} ms: {verdict}"
            )
    return 0 if all(row["meets_target"] for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
