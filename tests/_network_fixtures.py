"""Helpers for the network and tuner tests: a small real plugin and real servers.

``QsvBackend`` is a genuine (if simple) statevector backend built on
``qiskit.quantum_info.Statevector``. Its options change speed or accuracy for
real: ``cross_check`` simulates every circuit twice and compares (about twice
the work), ``approximate`` drops small controlled-phase rotations (faster,
and wrong), ``precision`` returns complex64 amplitudes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import qdframe
from qdframe._version import __version__
from qdframe.backend import BackendCapabilities, BackendResult, BackendResults
from qdframe.settings import TunableSetting

PLUGIN_NAME = "qsvtest"

SETTINGS = (
    TunableSetting("backend.qsv.cross_check", (True, False), True, "Simulate twice and compare."),
    TunableSetting("backend.qsv.approximate", (False, True), False, "Drop small rotations."),
    TunableSetting("acceleration.precision", ("complex128", "complex64"), "complex128"),
    TunableSetting("resources.executor_workers", (None, 1, 2), None, "Local executor workers."),
)


class QsvBackend:
    """A statevector backend on ``qiskit.quantum_info.Statevector``."""

    name = "qsv"

    def __init__(
        self,
        *,
        cross_check: bool = True,
        approximate: bool = False,
        precision: str = "complex128",
    ) -> None:
        if precision not in ("complex128", "complex64"):
            raise ValueError(f"precision must be complex128 or complex64, not {precision!r}")
        self.cross_check = cross_check
        self.approximate = approximate
        self.precision = precision

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(
            name=self.name,
            max_qubits={"complex128": 20, "complex64": 20},
            supported_operations=frozenset(
                {"h", "x", "p", "rx", "ry", "rz", "cx", "cp", "swap", "measure"}
            ),
        )

    def _simulate(self, circuit: Any) -> np.ndarray[Any, Any]:
        from qiskit import QuantumCircuit
        from qiskit.quantum_info import Statevector

        if self.approximate:
            trimmed = QuantumCircuit(*circuit.qregs, *circuit.cregs)
            for inst in circuit.data:
                op = inst.operation
                if op.name == "cp" and abs(float(op.params[0])) < math.pi / 4:
                    continue
                trimmed.append(op, inst.qubits, inst.clbits)
            circuit = trimmed
        return np.asarray(Statevector(circuit).data)

    def _one(self, circuit: Any, shots: int, seed: int | None) -> BackendResult:
        start = time.perf_counter()
        state = self._simulate(circuit.remove_final_measurements(inplace=False))
        if self.cross_check and not np.allclose(
            state, self._simulate(circuit.remove_final_measurements(inplace=False))
        ):
            raise RuntimeError("cross-check failed: two simulations disagree")
        state = state.astype(np.dtype(self.precision))
        counts: dict[str, int] = {}
        if shots:
            rng = np.random.default_rng(seed)
            probs = np.abs(state.astype(np.complex128)) ** 2
            outcomes = rng.choice(len(probs), size=shots, p=probs / probs.sum())
            width = circuit.num_qubits
            for value in outcomes:
                key = format(int(value), f"0{width}b")
                counts[key] = counts.get(key, 0) + 1
        return BackendResult(
            counts=counts,
            statevector=state if shots == 0 else None,
            metadata={
                "time_s": time.perf_counter() - start,
                "peak_bytes": state.nbytes,
                "method": "statevector",
                "precision": self.precision,
            },
        )

    def run(
        self,
        circuits: Any,
        shots: int = 1024,
        seed: int | None = None,
        noise: Any = None,
        *,
        memory: bool = False,
    ) -> BackendResults:
        batch = circuits if isinstance(circuits, Sequence) else [circuits]
        return BackendResults(self._one(c, shots, seed) for c in batch)


class QsvPlugin:
    """Registers the backend and declares its tunable settings."""

    @staticmethod
    @qdframe.hookimpl
    def qdframe_register_backends(registry: Any) -> None:
        registry.add("qsv", QsvBackend, description="Statevector via qiskit.quantum_info")

    @staticmethod
    @qdframe.hookimpl
    def qdframe_register_tunable_settings(registry: Any) -> None:
        for setting in SETTINGS:
            registry.add(setting.key, setting, description=setting.description)


def load_test_plugins() -> Any:
    """Only the test plugin: no entry points, so the test sees exactly what it declares."""
    return qdframe.load_plugins(autoload=False, plugins=[(PLUGIN_NAME, QsvPlugin)])


def make_whitelist() -> Any:
    from qdframe.network.whitelist import Whitelist

    return Whitelist.from_settings(SETTINGS)


def write_whitelist(path: Path) -> Path:
    path.write_text(json.dumps(make_whitelist().to_json()), encoding="utf-8")
    return path


# --------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, timeout_s: float = 30.0) -> None:
    """Wait (bounded) until ``url``/api/health answers 200."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} not healthy after {timeout_s} s: {last}")


@contextlib.contextmanager
def thread_server(*, port: int | None = None, **settings: Any) -> Iterator[str]:
    """A real uvicorn server in a thread (on a free port unless given); yields its URL."""
    import uvicorn

    from qdframe.network.server.app import create_app
    from qdframe.network.server.settings import ServerSettings

    settings.setdefault("whitelists", {__version__: make_whitelist()})
    # Every test installation registers from 127.0.0.1; tests of the
    # registration limit set their own.
    settings.setdefault("registration_per_hour", 1e9)
    settings.setdefault("registration_burst", 1_000_000)
    app = create_app(ServerSettings(**settings))
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(15)


class ServerProcess:
    """``qdframe network serve`` in a subprocess."""

    def __init__(
        self, db_url: str, whitelist: Path, *, extra: Sequence[str] = (), port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-c",
            "from qdframe.cli.network import app; app()",
            "serve",
            "--db",
            db_url,
            "--port",
            str(self.port),
            "--whitelist",
            str(whitelist),
            "--registration-limit",
            "1000000000",
            "--registration-burst",
            "1000000",
            *extra,
        ]
        env = dict(os.environ, QDFRAME_DISABLE_PLUGIN_AUTOLOAD="1")
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def wait(self, timeout_s: float = 60.0) -> ServerProcess:
        try:
            wait_healthy(self.url, timeout_s)
        except TimeoutError:
            self.kill(keep_output=True)
            output = self.process.stdout.read().decode() if self.process.stdout else ""
            self._close_output()
            raise TimeoutError(f"server did not start:\n{output}") from None
        return self

    def _close_output(self) -> None:
        # An unclosed pipe is a ResourceWarning, an error under the test settings.
        if self.process.stdout:
            self.process.stdout.close()

    def kill(self, *, keep_output: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(15)
        if not keep_output:
            self._close_output()

    def terminate(self) -> str:
        """Stop the server and return what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill(keep_output=True)
        output = self.process.stdout.read().decode() if self.process.stdout else ""
        self._close_output()
        return output

    def __enter__(self) -> ServerProcess:
        return self.wait()

    def __exit__(self, *exc: object) -> None:
        self.terminate()


class Installation:
    """An identity a test server issued."""

    def __init__(self, install_token: str, token: str) -> None:
        self.install_token = install_token
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def contribution(self, **kwargs: Any) -> dict[str, Any]:
        return contribution(token=self.install_token, **kwargs)


def register(server: Any, *, local_address: str | None = None) -> Installation:
    """Register a new installation with ``server`` (a URL or an ``httpx.Client``)."""
    import httpx

    from qdframe.network.proof import solve

    owned = not isinstance(server, httpx.Client)
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    client = httpx.Client(base_url=server, timeout=10, transport=transport) if owned else server
    try:
        challenge = client.get("/api/network/register").raise_for_status().json()
        nonce = solve(challenge["challenge"], challenge["difficulty_bits"])
        issued = client.post(
            "/api/network/register", json={"challenge": challenge["challenge"], "nonce": nonce}
        )
        issued.raise_for_status()
        data = issued.json()
        return Installation(data["install_token"], data["token"])
    finally:
        if owned:
            client.close()


def post(
    client: Any,
    body: dict[str, Any] | None = None,
    *,
    installation: Installation | None = None,
    key: str | None = None,
    **kwargs: Any,
) -> Any:
    """POST a contribution as ``installation`` (a newly registered one by default).

    ``body`` (or ``contribution(**kwargs)``) gets the installation's id as its
    install token.
    """
    who = installation or register(client)
    document = dict(body) if body is not None else contribution(**kwargs)
    document["install_token"] = who.install_token
    headers = dict(who.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/network/contribute", json=document, headers=headers)


def forged_posts(
    client: Any, count: int, honest: Installation, settings: dict[str, Any]
) -> list[int]:
    """``count`` contributions from made-up installations, five kinds in turn; their statuses.

    No identity; a token of the right shape never issued; one signed with
    another server's secret; an honest id with a forged signature; an honest
    token with another id in the body.
    """
    from qdframe.network.server.identities import IdentityIssuer

    other_issuer = IdentityIssuer(secrets.token_bytes(32))
    statuses = []
    for index in range(count):
        made_up = secrets.token_hex(16)
        body = contribution(token=made_up, savings=99.0, settings=settings)
        kind = index % 5
        if kind == 0:
            headers: dict[str, str] = {}
        elif kind == 1:
            headers = {"Authorization": f"Bearer v1.{made_up}.{secrets.token_hex(32)}"}
        elif kind == 2:
            headers = {"Authorization": f"Bearer {other_issuer.token(made_up)}"}
        elif kind == 3:
            body["install_token"] = honest.install_token
            headers = {"Authorization": f"Bearer v1.{honest.install_token}.{'0' * 64}"}
        else:
            headers = honest.headers
        response = client.post("/api/network/contribute", json=body, headers=headers)
        statuses.append(response.status_code)
    return statuses


def contribution(
    *,
    token: str | None = None,
    system_type: str = "linux_x86_64_generic",
    savings: float = 12.5,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid contribution body for the test whitelist."""
    chosen = settings if settings is not None else {"backend.qsv.cross_check": False}
    return {
        "install_token": token or secrets.token_hex(16),
        "qdframe_version": __version__,
        "system_type": system_type,
        "savings": savings,
        "quantum_advantage": savings > 0,
        "settings": chosen,
        "workloads": {
            "qft": {"savings": savings, "settings": chosen},
            "ghz": {"savings": savings / 2, "settings": {}},
        },
    }
