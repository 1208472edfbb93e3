"""The ``dask`` executor on an external cluster: a real ``dask scheduler`` and
two ``dask worker`` processes, started here on 127.0.0.1 and stopped after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from qdframe_dask.executor import DaskExecutor  # noqa: E402

from qdframe.config import SystemConfig  # noqa: E402

# Worker processes cannot import this test module by name; ship its functions
# by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.slow

_DASK = str(Path(sys.executable).with_name("dask"))


def pid_and_square(x: int) -> tuple[int, int]:
    time.sleep(0.05)  # long enough that both workers get jobs
    return os.getpid(), x * x


def _wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout_s} s")


@pytest.fixture
def external_cluster(tmp_path: Path) -> Iterator[str]:
    scheduler_file = tmp_path / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        processes.append(
            subprocess.Popen(
                [
                    _DASK,
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(scheduler_file),
                ],
                **common,  # type: ignore[call-overload]
            )
        )
        _wait_for(scheduler_file.exists, 30, "dask scheduler")
        _wait_for(lambda: scheduler_file.stat().st_size > 0, 10, "scheduler file")
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        _DASK,
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                    ],
                    **common,  # type: ignore[call-overload]
                )
            )
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def test_scheduler_address_in_the_configuration_runs_jobs_on_both_workers(
    external_cluster: str,
) -> None:
    config = SystemConfig.model_validate(
        {"resources": {"executor": "dask", "dask_scheduler_address": external_cluster}}
    )
    with DaskExecutor(config=config) as executor:
        assert not executor.started_cluster
        results = executor.map(pid_and_square, list(range(40)))
    assert [square for _, square in results] == [x * x for x in range(40)]
    pids = {pid for pid, _ in results}
    assert len(pids) == 2 and os.getpid() not in pids
    # Closing only disconnected: the external cluster still serves clients.
    with distributed.Client(external_cluster, timeout=30) as client:
        assert len(client.scheduler_info()["workers"]) == 2
