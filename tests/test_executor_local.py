"""The ``local`` executor: order, retries with backoff, lost workers, configuration."""

from __future__ import annotations

import importlib
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from qdframe_executors import plugin as executors_plugin
from qdframe_executors.local import LocalExecutor, default_worker_count

import qdframe
from qdframe.config import SystemConfig
from qdframe.errors import ConfigError, ResourceError
from qdframe.executors import Backoff, WorkerLostError
from qdframe.protocols import Executor
from qdframe_hal.host import HostInfo

# Jobs for worker processes must be importable by name in the children, so they
# live in a small module written to a directory on sys.path (children started
# by fork, forkserver or spawn all see it).
JOBS_SOURCE = """
import os
import random
import signal
import time
from pathlib import Path


def square_after_random_sleep(x):
    time.sleep(random.uniform(0.0, 0.02))
    return x * x


def _attempt(directory, x):
    runs = Path(directory) / f"runs-{x}"
    with runs.open("a") as handle:
        handle.write("x")
    return len(runs.read_text())


def fail_first_attempt(job):
    directory, x, failing = job
    attempt = _attempt(directory, x)
    if x in failing and attempt == 1:
        raise ValueError(f"job {x} fails on its first attempt")
    return x * 10


def always_fail(job):
    directory, x = job
    _attempt(directory, x)
    raise ValueError(f"job {x} always fails")


def kill_worker_on_first_attempt(job):
    directory, x, victim = job
    marker = Path(directory) / f"killed-{x}"
    if x == victim and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.01)
    return (x, os.getpid())


def kill_worker_always(job):
    os.kill(os.getpid(), signal.SIGKILL)


def blas_threads(_):
    from threadpoolctl import threadpool_info

    import numpy  # noqa: F401  (loads BLAS)

    return sorted({pool["num_threads"] for pool in threadpool_info()})
"""


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    directory = tmp_path_factory.mktemp("jobs_module")
    (directory / "qdf_local_jobs.py").write_text(textwrap.dedent(JOBS_SOURCE), encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module("qdf_local_jobs")
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop("qdf_local_jobs", None)


def runs_of(directory: Path, x: int) -> int:
    path = directory / f"runs-{x}"
    return len(path.read_text()) if path.exists() else 0


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_results_come_back_in_submission_order(kind: str, jobs: ModuleType) -> None:
    seen: list[tuple[int, int]] = []
    with LocalExecutor(kind=kind, workers=2) as executor:
        results = executor.map(
            jobs.square_after_random_sleep,
            range(30),
            progress=lambda done, total: seen.append((done, total)),
        )
    assert results == [x * x for x in range(30)]
    assert seen[0] == (0, 30)
    assert seen[-1] == (30, 30)
    assert [done for done, _ in seen] == list(range(31))


def test_an_empty_batch_returns_an_empty_list() -> None:
    with LocalExecutor(workers=1) as executor:
        assert executor.map(abs, []) == []


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_failed_jobs_are_retried_and_counted_once(
    kind: str, jobs: ModuleType, tmp_path: Path
) -> None:
    failing = {1, 4, 7}
    batch = [(str(tmp_path), x, failing) for x in range(10)]
    with LocalExecutor(kind=kind, workers=2, backoff=Backoff(initial_s=0.01)) as executor:
        results = executor.map(jobs.fail_first_attempt, batch, max_retries=1)
    assert results == [x * 10 for x in range(10)]
    for x in range(10):
        assert runs_of(tmp_path, x) == (2 if x in failing else 1), x


def test_a_job_out_of_retries_raises_its_own_error_naming_the_job(
    jobs: ModuleType, tmp_path: Path
) -> None:
    batch = [(str(tmp_path), x) for x in range(3)]
    with (
        LocalExecutor(workers=2, backoff=Backoff(initial_s=0.0)) as executor,
        pytest.raises(ValueError, match="always fails") as caught,
    ):
        executor.map(jobs.always_fail, batch, max_retries=2)
    note = " ".join(getattr(caught.value, "__notes__", []))
    assert "of 3" in note and "3 attempt(s)" in note
    failed_job = int(note.split("job ")[1].split()[0])
    assert runs_of(tmp_path, failed_job) == 3


def test_retries_wait_with_exponential_backoff(jobs: ModuleType, tmp_path: Path) -> None:
    backoff = Backoff(initial_s=0.15, factor=2.0, max_s=10.0)
    start = time.monotonic()
    with LocalExecutor(workers=1, backoff=backoff) as executor, pytest.raises(ValueError):
        executor.map(jobs.always_fail, [(str(tmp_path), 0)], max_retries=2)
    # two resubmissions: 0.15 s then 0.30 s
    assert time.monotonic() - start >= 0.45
    assert runs_of(tmp_path, 0) == 3


def test_backoff_grows_by_its_factor_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=0.5, factor=3.0, max_s=4.0)
    assert [backoff.delay_s(k) for k in (1, 2, 3)] == [0.5, 1.5, 4.0]
    with pytest.raises(ValueError, match="factor"):
        Backoff(factor=0.5)
    with pytest.raises(ValueError, match=">= 0"):
        Backoff(initial_s=-1.0)


def test_a_killed_worker_process_is_replaced_and_every_job_completes_once(
    jobs: ModuleType, tmp_path: Path
) -> None:
    victim = 5
    batch = [(str(tmp_path), x, victim) for x in range(12)]
    with LocalExecutor(kind="processes", workers=2, timeout_s=60) as executor:
        results = executor.map(jobs.kill_worker_on_first_attempt, batch, max_retries=2)
        assert executor.restarts >= 1
    assert [x for x, _ in results] == list(range(12))
    assert (tmp_path / f"killed-{victim}").exists()


def test_a_worker_lost_on_every_attempt_raises_worker_lost(jobs: ModuleType) -> None:
    with (
        LocalExecutor(kind="processes", workers=1, backoff=Backoff(initial_s=0.0)) as executor,
        pytest.raises(WorkerLostError, match="worker was lost") as caught,
    ):
        executor.map(jobs.kill_worker_always, [0], max_retries=1)
    assert "2 attempt(s)" in str(caught.value)
    assert isinstance(caught.value, ResourceError)


def test_a_batch_over_its_time_limit_raises_resource_error() -> None:
    with (
        LocalExecutor(workers=1, timeout_s=0.2) as executor,
        pytest.raises(ResourceError, match=r"did not finish within 0\.2 s"),
    ):
        executor.map(time.sleep, [0.05] * 20)


def test_negative_retries_are_refused() -> None:
    with LocalExecutor(workers=1) as executor, pytest.raises(ValueError, match="max_retries"):
        executor.map(abs, [1], max_retries=-1)


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_native_thread_pools_are_capped_while_jobs_run(kind: str, jobs: ModuleType) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()})
    with LocalExecutor(kind=kind, workers=2, native_threads=1) as executor:
        assert executor.map(jobs.blas_threads, [0, 1]) == [[1], [1]]
    after = sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()})
    assert after == before  # this process's own pools are given back


def test_kind_and_workers_come_from_the_configuration() -> None:
    config = SystemConfig.model_validate(
        {"resources": {"executor_kind": "processes", "executor_workers": 3}}
    )
    executor = LocalExecutor(config=config)
    assert (executor.kind.value, executor.workers) == ("processes", 3)
    explicit = LocalExecutor(config=config, kind="threads", workers=1)
    assert (explicit.kind.value, explicit.workers) == ("threads", 1)


def test_worker_count_follows_the_hal_host() -> None:
    host = HostInfo(os="linux", cpu_arch="arm64", performance_cores=6, efficiency_cores=4, cores=10)
    assert default_worker_count(host) == 6
    assert LocalExecutor(host=host).workers == 6
    flat = HostInfo(os="linux", cpu_arch="x86_64", cores=None, logical_cpus=12)
    assert default_worker_count(flat) == 12


def test_bad_kind_and_worker_count_name_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match="unknown executor kind 'fibers'") as caught:
        LocalExecutor(kind="fibers")
    assert caught.value.allowed == "threads, processes"
    with pytest.raises(ConfigError, match="at least 1 worker"):
        LocalExecutor(workers=0)


def test_a_closed_executor_refuses_new_work() -> None:
    executor = LocalExecutor(workers=1)
    executor.close()
    with pytest.raises(RuntimeError, match="closed"):
        executor.map(abs, [1])


def test_local_is_registered_and_satisfies_the_protocol() -> None:
    loaded = qdframe.load_plugins(autoload=False, plugins=[("executors", executors_plugin)])
    factory = loaded.registries.executors.get("local")
    executor = factory(workers=2)
    assert isinstance(executor, Executor)
    with executor:
        assert executor.map(abs, [-1, -2]) == [1, 2]
    setting = loaded.registries.tunable_settings.get("resources.executor_kind")
    assert setting.allows("processes") and not setting.allows("fibers")
