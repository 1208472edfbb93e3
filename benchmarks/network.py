"""Load test of the sharing server on loopback (SQLite, one server process).

Starts ``qdframe network serve`` on a fresh SQLite file, seeds it, then drives
it from two client processes (each with a few keep-alive connections, each
connection one registered installation) for a bounded time per endpoint, and
prints requests per second with p50/p99 latency and the server's CPU time and
peak memory in each phase. It also measures, in the same run, what the
identity costs: the server's token check against the contribution latency,
and the client's proof of work per difficulty against the server's check:

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

import psutil

from qdframe._version import __version__
from qdframe.network.proof import solve
from qdframe.network.server.identities import IdentityIssuer

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


def _register(conn: http.client.HTTPConnection) -> tuple[str, str]:
    """Register one installation; ``(install id, Authorization header)``."""
    conn.request("GET", "/api/network/register")
    challenge = json.loads(conn.getresponse().read())
    nonce = solve(challenge["challenge"], challenge["difficulty_bits"])
    conn.request(
        "POST",
        "/api/network/register",
        body=json.dumps({"challenge": challenge["challenge"], "nonce": nonce}).encode(),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    issued = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"registration failed: HTTP {response.status} {issued}")
    return issued["install_token"], f"Bearer {issued['token']}"


def _connection_loop(
    port: int, kind: str, stop_at: float, latencies: list[float], errors: list[str]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    token, authorization = _register(conn) if kind == "post" else ("", "")
    index = 0
    while time.perf_counter() < stop_at:
        index += 1
        start = time.perf_counter()
        try:
            if kind == "get":
                system = SYSTEMS[index % len(SYSTEMS)]
                conn.request("GET", f"/api/shared-optimizations?system_type={system}")
            elif kind == "register":
                conn.request("GET", "/api/network/register")
                challenge = json.loads(conn.getresponse().read())["challenge"]
                conn.request(
                    "POST",
                    "/api/network/register",
                    body=json.dumps({"challenge": challenge, "nonce": "0"}).encode(),
                    headers={"Content-Type": "application/json"},
                )
            else:
                conn.request(
                    "POST",
                    "/api/network/contribute",
                    body=_contribution(token, index),
                    headers={
                        "Content-Type": "application/json",
                        "Idempotency-Key": uuid.uuid4().hex,
                        "Authorization": authorization,
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


def _server_usage(server: psutil.Process) -> tuple[float, int]:
    """(CPU seconds so far, peak resident bytes so far) of the server process."""
    cpu = server.cpu_times()
    peak = 0
    try:
        for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    except OSError:
        peak = server.memory_info().rss
    return cpu.user + cpu.system, peak


def _phase(
    port: int,
    kind: str,
    processes: int,
    connections: int,
    seconds: float,
    server: psutil.Process,
) -> dict[str, Any]:
    cpu_before, _ = _server_usage(server)
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
    cpu_after, peak = _server_usage(server)
    latencies.sort()
    count = len(latencies)
    p99 = latencies[min(count - 1, int(count * 0.99))] if count else float("nan")
    return {
        "requests": count,
        "errors": len(errors),
        "per_second": count / seconds,
        "p50_ms": statistics.median(latencies) * 1000 if count else float("nan"),
        "p99_ms": p99 * 1000,
        "server_cpu_s": cpu_after - cpu_before,
        "server_peak_rss_mb": peak / 2**20,
    }


def _identity_costs(contribute_p50_ms: float, bits: tuple[int, ...]) -> dict[str, Any]:
    """Token check against a contribution; proof of work against its check."""
    issuer = IdentityIssuer(secrets.token_bytes(32))
    tokens = [issuer.token(secrets.token_hex(16)) for _ in range(2000)]
    start = time.perf_counter()
    for token in tokens:
        issuer.verify(token)
    verify_us = (time.perf_counter() - start) / len(tokens) * 1e6
    work: dict[str, Any] = {}
    for difficulty in bits:
        puzzles = [IdentityIssuer(secrets.token_bytes(32), difficulty_bits=difficulty)]
        puzzles *= 8
        wall = cpu = 0.0
        check = 0.0
        for issuer_n in puzzles:
            challenge = issuer_n.challenge().challenge
            w0, c0 = time.perf_counter(), time.process_time()
            nonce = solve(challenge, difficulty)
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            c1 = time.perf_counter()
            issuer_n.register(challenge, nonce)
            check += time.perf_counter() - c1
        work[str(difficulty)] = {
            "client_solve_ms": wall / len(puzzles) * 1000,
            "client_cpu_ms": cpu / len(puzzles) * 1000,
            "server_check_us": check / len(puzzles) * 1e6,
            "ratio": (wall / max(check, 1e-9)),
        }
    return {
        "token_check_us": verify_us,
        "contribute_p50_ms": contribute_p50_ms,
        "token_check_share": verify_us / 1000 / contribute_p50_ms if contribute_p50_ms else None,
        "proof_of_work": work,
    }


def _seed(port: int, contributors: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(contributors):
        token, authorization = _register(conn)
        conn.request(
            "POST",
            "/api/network/contribute",
            body=_contribution(token, i),
            headers={"Content-Type": "application/json", "Authorization": authorization},
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
                "--registration-limit",
                "1000000000",
                "--registration-burst",
                "1000000",
                "--global-rate-limit",
                "1000000000",
                "--global-burst",
                "1000000",
                *(arg for system in SYSTEMS for arg in ("--system-type", system)),
            ],
            env=dict(os.environ, QDFRAME_DISABLE_PLUGIN_AUTOLOAD="1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(port)
            _seed(port, args.seed)
            process = psutil.Process(server.pid)
            results = {
                name: _phase(port, kind, args.processes, args.connections, args.seconds, process)
                for name, kind in (
                    ("GET /api/shared-optimizations", "get"),
                    ("POST /api/network/contribute", "post"),
                    ("GET+POST /api/network/register", "register"),
                )
            }
        finally:
            server.terminate()
            server.wait(30)

    for name, row in results.items():
        target = TARGETS.get(name)
        row["target_per_second"] = target
        row["meets_target"] = (
            target is None or (row["per_second"] >= target and row["p99_ms"] < P99_TARGET_MS)
        ) and not row["errors"]
    costs = _identity_costs(results["POST /api/network/contribute"]["p50_ms"], (0, 8, 12, 16))
    if args.json:
        print(json.dumps({"endpoints": results, "identity": costs}, indent=2))
    else:
        print(
            f"{'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
            f"{'srv cpu s':>9} {'srv peak MB':>11}  target"
        )
        for name, row in results.items():
            verdict = "ok" if row["meets_target"] else "MISSED"
            goal = (
                f">= {row['target_per_second']:.0f}/s, p99 < {P99_TARGET_MS:.0f} ms"
                if row["target_per_second"]
                else "no errors"
            )
            print(
                f"{name:34} {row['per_second']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
                f"{row['errors']:7d} {row['server_cpu_s']:9.2f} "
                f"{row['server_peak_rss_mb']:11.1f}  {goal}: {verdict}"
            )
        print(
            f"\nidentity check per contribution: {costs['token_check_us']:.1f} us = "
            f"{costs['token_check_share']:.2%} of the contribute p50 "
            f"({costs['contribute_p50_ms']:.2f} ms)"
        )
        print(
            f"{'pow bits':>8} {'client solve ms':>15} {'client cpu ms':>13} "
            f"{'server check us':>15} {'solve/check':>11}"
        )
        for bits, row in costs["proof_of_work"].items():
            print(
                f"{bits:>8} {row['client_solve_ms']:15.2f} {row['client_cpu_ms']:13.2f} "
                f"{row['server_check_us']:15.1f} {row['ratio']:11.0f}"
            )
    return 0 if all(row["meets_target"] for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
