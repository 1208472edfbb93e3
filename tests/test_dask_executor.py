"""The ``dask`` executor on real LocalClusters: order, retries, a killed worker, lifecycle."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
cloudpickle = pytest.importorskip("cloudpickle")

from qdframe_dask import plugin as dask_plugin  # noqa: E402
from qdframe_dask.executor import DaskExecutor, _quiet_settings  # noqa: E402

import qdframe  # noqa: E402
from qdframe.config import SystemConfig  # noqa: E402
from qdframe.errors import ConfigError, ResourceError  # noqa: E402
from qdframe.executors import Backoff, WorkerLostError  # noqa: E402
from qdframe.protocols import Executor  # noqa: E402

# Worker processes cannot import this test module by name; ship its functions
# by value, as they would be for a function defined in a user's script.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BATCH_TIMEOUT_S = 90.0


def slow_square(x: int) -> int:
    time.sleep(0.02)
    return x * x


def _count_run(directory: str, x: int) -> int:
    runs = Path(directory) / f"runs-{x}"
    with runs.open("a") as handle:
        handle.write("x")
    return len(runs.read_text())


def fail_first_attempt(job: tuple[str, int]) -> int:
    directory, x = job
    if _count_run(directory, x) == 1 and x % 3 == 0:
        raise ValueError(f"job {x} fails on its first attempt")
    return x + 100


def kill_worker_on_first_attempt(job: tuple[str, int, int]) -> tuple[int, int]:
    directory, x, victim = job
    _count_run(directory, x)
    marker = Path(directory) / f"killed-{x}"
    if x == victim and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return (x, os.getpid())


@pytest.fixture(scope="module")
def process_cluster() -> Iterator[DaskExecutor]:
    """A started LocalCluster of two single-threaded worker processes."""
    executor = DaskExecutor(workers=2, processes=True, timeout_s=BATCH_TIMEOUT_S)
    with executor:
        yield executor


def test_results_come_back_in_submission_order(process_cluster: DaskExecutor) -> None:
    seen: list[tuple[int, int]] = []
    results = process_cluster.map(
        slow_square, list(range(25)), progress=lambda d, t: seen.append((d, t))
    )
    assert results == [x * x for x in range(25)]
    assert [d for d, _ in seen] == list(range(26))
    assert {t for _, t in seen} == {25}


def test_failed_jobs_are_resubmitted_as_new_tasks(
    process_cluster: DaskExecutor, tmp_path: Path
) -> None:
    batch = [(str(tmp_path), x) for x in range(9)]
    results = process_cluster.map(fail_first_attempt, batch, max_retries=1)
    assert results == [x + 100 for x in range(9)]
    runs = [len((tmp_path / f"runs-{x}").read_text()) for x in range(9)]
    assert runs == [2 if x % 3 == 0 else 1 for x in range(9)]


def test_a_job_out_of_retries_raises_its_error_naming_the_job(
    process_cluster: DaskExecutor, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="fails on its first attempt") as caught:
        process_cluster.map(fail_first_attempt, [(str(tmp_path), 3)], max_retries=0)
    assert "job 0 (of 1) failed on all 1 attempt(s)" in " ".join(caught.value.__notes__)


def test_a_killed_worker_loses_no_job_and_counts_none_twice(
    process_cluster: DaskExecutor, tmp_path: Path
) -> None:
    victim = 4
    batch = [(str(tmp_path), x, victim) for x in range(16)]
    results = process_cluster.map(kill_worker_on_first_attempt, batch, max_retries=2)
    assert [x for x, _ in results] == list(range(16))
    assert (tmp_path / f"killed-{victim}").exists()
    # the victim ran once on the killed worker and once more to completion
    assert len((tmp_path / f"runs-{victim}").read_text()) == 2
    killed_pid_results = [pid for x, pid in results if x == victim]
    assert len(killed_pid_results) == 1
    # the cluster is still usable afterwards (the nanny replaced the worker)
    assert process_cluster.map(slow_square, [3, 4]) == [9, 16]


def test_a_worker_lost_without_retries_left_raises_worker_lost(
    process_cluster: DaskExecutor, tmp_path: Path
) -> None:
    batch = [(str(tmp_path), 0, 0)]
    with pytest.raises(WorkerLostError, match="worker was lost") as caught:
        process_cluster.map(kill_worker_on_first_attempt, batch, max_retries=0)
    assert "KilledWorker" in str(caught.value)
    # the nanny restarts the worker: the next batch runs normally
    assert process_cluster.map(slow_square, [5]) == [25]


def test_a_map_while_the_scheduler_knows_no_worker_lets_it_place_the_tasks(
    process_cluster: DaskExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Right after a worker died, the scheduler may list no worker at all; the
    # slices then go without a placement instead of failing to submit.
    from qdframe_dask import executor as dask_executor

    monkeypatch.setattr(dask_executor, "_worker_threads", lambda client: [])
    assert process_cluster.map(slow_square, [2, 3, 4]) == [4, 9, 16]


def test_a_started_cluster_listens_on_loopback_only(process_cluster: DaskExecutor) -> None:
    import psutil

    client = process_cluster.client
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    port = int(client.dashboard_link.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    listening = [
        c.laddr.ip
        for c in psutil.Process().net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    # The dashboard has no authentication: nothing but this host may reach it.
    assert listening and set(listening) == {"127.0.0.1"}
    # Nor may the workers' own HTTP servers or their comms.
    workers = psutil.Process().children(recursive=True)
    bound = {
        c.laddr.ip
        for w in workers
        for c in w.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }
    assert workers and bound and bound <= {"127.0.0.1"}


def test_a_started_cluster_is_shut_down_on_close() -> None:
    with DaskExecutor(workers=1, processes=False, timeout_s=BATCH_TIMEOUT_S) as executor:
        assert executor.started_cluster
        address = executor.client.scheduler.address
        assert executor.map(slow_square, [2]) == [4]
    with pytest.raises((OSError, TimeoutError)):
        distributed.Client(address, timeout=2, set_as_default=False)


def test_a_cluster_it_connected_to_keeps_running_after_close() -> None:
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        config = SystemConfig.model_validate(
            {"resources": {"dask_scheduler_address": cluster.scheduler_address}}
        )
        with DaskExecutor(config=config, timeout_s=BATCH_TIMEOUT_S) as executor:
            assert not executor.started_cluster
            assert executor.map(slow_square, [5, 6]) == [25, 36]
        assert cluster.status.name == "running"
        with distributed.Client(cluster, set_as_default=False) as client:
            assert client.submit(slow_square, 7).result(timeout=30) == 49


def test_an_unreachable_scheduler_is_a_resource_error_naming_the_address() -> None:
    executor = DaskExecutor(address="tcp://127.0.0.1:9", connect_timeout_s=1.0)
    with pytest.raises(ResourceError, match=r"tcp://127\.0\.0\.1:9.*dask_scheduler_address"):
        executor.map(slow_square, [1])
    executor.close()


def test_dask_is_registered_and_satisfies_the_protocol() -> None:
    loaded = qdframe.load_plugins(autoload=False, plugins=[("dask", dask_plugin)])
    factory = loaded.registries.executors.get("dask")
    executor = factory(workers=1, processes=False, backoff=Backoff(initial_s=0.0))
    assert isinstance(executor, Executor)
    assert not executor.started_cluster  # nothing starts until it is used
    executor.close()


def test_an_in_process_cluster_opens_no_port_beyond_loopback() -> None:
    import psutil

    def listening() -> set[tuple[str, int]]:
        return {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.Process().net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }

    before = listening()
    executor = DaskExecutor(workers=2, processes=False)
    try:
        assert executor.map(slow_square, [2]) == [4]
        opened = listening() - before
    finally:
        executor.close()
    # Scheduler, dashboard and each worker's HTTP server have no authentication.
    assert opened and {ip for ip, _ in opened} == {"127.0.0.1"}


def task_of_job(x: int) -> tuple[int, str]:
    """The job and the key of the Dask task that ran it."""
    worker = distributed.get_worker()
    return x, str(worker.get_current_task())


class _Unpicklable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.handle = lambda: None  # plain pickle and cloudpickle of the class fail

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this error")


def raise_unpicklable(x: int) -> int:
    raise _Unpicklable(f"job {x} holds a handle")


def test_jobs_go_in_a_few_tasks_of_consecutive_jobs(process_cluster: DaskExecutor) -> None:
    results = process_cluster.map(task_of_job, list(range(40)))
    assert [x for x, _ in results] == list(range(40))
    keys = [key for _, key in results]
    # 2 worker threads x 2 tasks per worker: four slices of ten consecutive jobs.
    assert len(set(keys)) == 4
    assert all(keys[i] == keys[i - 1] for i in range(1, 40) if i % 10)
    assert all("qdframe-batch-" in key for key in keys)


def test_one_task_per_job_when_there_are_few_jobs(process_cluster: DaskExecutor) -> None:
    results = process_cluster.map(task_of_job, [1, 2, 3])
    assert len({key for _, key in results}) == 3


def test_an_unpicklable_error_comes_back_named(process_cluster: DaskExecutor) -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: job 0 holds a handle"):
        process_cluster.map(raise_unpicklable, [0], max_retries=0)


def test_tasks_per_worker_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="tasks_per_worker >= 1"):
        DaskExecutor(workers=1, tasks_per_worker=0)


def _worker_intervals_ms(dask_worker: Any) -> tuple[float, float, float, bool]:
    callbacks = dask_worker.periodic_callbacks
    return (
        callbacks["tick"].callback_time,
        callbacks["monitor"].callback_time,
        dask_worker.memory_manager.memory_monitor_interval * 1000,
        bool(dask.config.get("distributed.worker.profile.enabled")),
    )


def test_a_started_cluster_runs_its_periodic_checks_less_often(
    process_cluster: DaskExecutor,
) -> None:
    # Dask's defaults: tick 20 ms, system monitor 500 ms, memory check 100 ms,
    # profiler on. Each costs CPU on every event loop whether or not work runs.
    # Run after the killed-worker tests on the same cluster, this also covers
    # the workers the nannies started in place of the killed ones.
    per_worker = process_cluster.client.run(_worker_intervals_ms)
    assert len(per_worker) == 2
    assert set(per_worker.values()) == {(1000, 2000, 500, False)}
    scheduler = process_cluster.client.run_on_scheduler(
        lambda dask_scheduler: (
            dask_scheduler.periodic_callbacks["tick"].callback_time,
            dask_scheduler.periodic_callbacks["monitor"].callback_time,
        )
    )
    assert tuple(scheduler) == (1000, 2000)


def test_a_setting_changed_from_dasks_default_is_kept() -> None:
    with dask.config.set({"distributed.admin.tick.interval": "50ms"}):
        settings = _quiet_settings()
    assert "distributed.admin.tick.interval" not in settings
    assert settings["distributed.admin.system-monitor.interval"] == "2s"
    assert _quiet_settings()["distributed.admin.tick.interval"] == "1s"
