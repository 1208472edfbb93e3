"""The ``dask`` executor: a ``distributed`` client, on a cluster it found or started."""

from __future__ import annotations

import copy
import queue
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, TypeVar

from qdframe.plugin import (
    Backoff,
    ConfigError,
    ProgressCallback,
    ResourceError,
    SystemConfig,
    future_outcome,
    run_jobs,
)
from qdframe_dask import _transport

if TYPE_CHECKING:
    from types import TracebackType

    from qdframe.plugin import HostInfo

__all__ = ["DaskExecutor"]

J = TypeVar("J")
R = TypeVar("R")


class DaskExecutor:
    """Runs jobs on a Dask distributed cluster.

    With a scheduler address (``address``, else ``[resources]
    dask_scheduler_address``) it connects to that cluster and, when closed,
    only disconnects. Without one it starts a ``LocalCluster`` of worker
    processes and shuts it down when closed. The cluster is started or
    connected on entering the context (or on the first :meth:`map`).

    A cluster this executor starts has the scheduler's own retry of tasks
    lost with a worker switched off (``allowed_failures=0``), so every retry
    is one of :meth:`map`'s ``max_retries``; a cluster it connects to keeps
    its own settings.

    :param address: scheduler address such as ``"tcp://10.0.0.5:8786"``.
    :param workers: workers of a started cluster; ``[resources]
        executor_workers``, else the HAL's core count.
    :param threads_per_worker: threads in each worker of a started cluster.
    :param tasks_per_worker: tasks one :meth:`map` call's jobs are split
        into, per worker thread of the cluster: each task runs a slice of
        consecutive jobs, so the cost of a task is paid per slice. More
        tasks balance uneven jobs better; fewer cost less.
    :param processes: a started cluster's workers are processes (``True``)
        or threads of this process.
    :param config: the system configuration to read the above from.
    :param host: measured host facts for the default worker count.
    :param backoff: delay before a failed job is resubmitted.
    :param timeout_s: most seconds one :meth:`map` call may take.
    :param connect_timeout_s: most seconds to reach the scheduler.
    :param cluster_options: extra keyword options for ``LocalCluster``.
    :raises ConfigError: ``workers``, ``threads_per_worker`` or
        ``tasks_per_worker`` < 1.
    """

    name = "dask"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        threads_per_worker: int = 1,
        tasks_per_worker: int = 2,
        processes: bool = True,
        config: SystemConfig | None = None,
        host: HostInfo | None = None,
        backoff: Backoff | None = None,
        timeout_s: float | None = None,
        connect_timeout_s: float = 30.0,
        cluster_options: Mapping[str, Any] | None = None,
    ) -> None:
        resources = config.resources if config is not None else None
        if address is None and resources is not None:
            address = resources.dask_scheduler_address
        if workers is None and resources is not None:
            workers = resources.executor_workers
        if workers is None and address is None:
            from qdframe.plugin import default_worker_count

            workers = default_worker_count(host)
        for key, value in (
            ("executor_workers", workers),
            ("threads_per_worker", threads_per_worker),
            ("tasks_per_worker", tasks_per_worker),
        ):
            if value is not None and value < 1:
                raise ConfigError(
                    f"a Dask cluster needs {key} >= 1, got {value}",
                    key_path=f"resources.{key}",
                    allowed="an integer >= 1",
                )
        self.address = address
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.tasks_per_worker = tasks_per_worker
        self.processes = processes
        self.backoff = backoff or Backoff()
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._cluster_options = dict(cluster_options or {})
        self._client: Any = None
        self._cluster: Any = None
        self._closed = False

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster(workers={self.workers})"
        return f"DaskExecutor({where})"

    @property
    def started_cluster(self) -> bool:
        """Whether this executor started (and so will shut down) its cluster."""
        return self._cluster is not None

    @property
    def client(self) -> Any:
        """The ``distributed.Client``, connecting or starting the cluster first."""
        if self._closed:
            raise RuntimeError("this DaskExecutor is closed; create a new one")
        if self._client is None:
            self._client = self._connect() if self.address else self._start_local()
        return self._client

    def _connect(self) -> Any:
        from distributed import Client

        try:
            return Client(  # type: ignore[no-untyped-call]
                self.address, timeout=self.connect_timeout_s, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise ResourceError(
                f"cannot reach the Dask scheduler at {self.address!r} within "
                f"{self.connect_timeout_s} s ({type(exc).__name__}: {exc}); check "
                "[resources] dask_scheduler_address, or unset it to start a local cluster"
            ) from exc

    def _start_local(self) -> Any:
        from distributed import Client, LocalCluster

        options: dict[str, Any] = {
            "n_workers": self.workers,
            "threads_per_worker": self.threads_per_worker,
            "processes": self.processes,
            # Loopback only, on a free port: the dashboard has no authentication,
            # and a free port never clashes with another cluster. cluster_options
            # may bind elsewhere on purpose.
            "dashboard_address": "127.0.0.1:0",
            # Each worker serves metrics and health routes over HTTP too.
            "worker_dashboard_address": "127.0.0.1:0",
            "scheduler_kwargs": {"allowed_failures": 0},
        }
        options.update(self._cluster_options)
        if "host" not in options and "interface" not in options and not _in_process(options):
            # The scheduler listens on loopback only. An in-process cluster
            # (inproc:// addresses) has no network listener, and its addresses
            # cannot take a host.
            options["host"] = "127.0.0.1"
        import dask

        with dask.config.set(_quiet_settings()):
            if options.get("processes", True) and "worker_class" not in options:
                # A nanny hands every worker process it starts (a replacement
                # for a lost one too) the configuration it copied when it was
                # made, but only a shallow copy: without a deep copy of its
                # own, it would see the settings undone when this block ends.
                options["config"] = _merged(
                    copy.deepcopy(dask.config.config), options.get("config") or {}
                )
            cluster = LocalCluster(**options)  # type: ignore[no-untyped-call]
        try:
            client = Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        except BaseException:
            cluster.close()
            raise
        self._cluster = cluster
        return client

    def map(
        self,
        fn: Callable[[J], R],
        jobs: Sequence[J],
        *,
        max_retries: int = 0,
        progress: ProgressCallback | None = None,
    ) -> list[R]:
        """Apply ``fn`` to every job on the cluster; results in submission order.

        ``fn`` is pickled once (cloudpickle) and scattered to every worker;
        the jobs go in ``tasks_per_worker`` slices per worker thread, each
        pickled as one payload. A job that raises, or that was in a task
        whose worker died, is resubmitted on its own (as a new task) up to
        ``max_retries`` times; the other jobs of its slice are not run again
        unless their worker died. ``progress`` advances by a slice at a time.

        :raises RuntimeError: the executor was closed.
        :raises ResourceError: the scheduler cannot be reached.
        """
        jobs = list(jobs)
        client = self.client
        # One round trip: the workers' threads give both the number of slices
        # and where they go.
        places = _worker_threads(client) if jobs else []
        batches = self.tasks_per_worker * max(len(places), 1) if jobs else 0
        submitter = _DaskSubmitter(client, fn, jobs, batches, places)
        try:
            results: list[R] = run_jobs(
                submitter,
                len(jobs),
                max_retries=max_retries,
                backoff=self.backoff,
                progress=progress,
                timeout_s=self.timeout_s,
            )
        finally:
            submitter.cancel_unsubmitted()
        return results

    def close(self) -> None:
        """Disconnect; shut the cluster down only when this executor started it."""
        self._closed = True
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def __enter__(self) -> DaskExecutor:
        _ = self.client
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: Settings of a cluster this executor starts, where Dask's defaults cost CPU
#: that the jobs could use. The workers' statistical profiler samples every
#: task's stack a hundred times a second. The event-loop tick (every 20 ms, to
#: warn of a blocked loop), the system monitor (every 500 ms, for the
#: dashboard's plots) and the worker's memory check (every 100 ms, for spilling
#: and pausing) run on the scheduler's and every worker's event loop whether
#: or not there is work: together about 8% of one core on an idle 2-worker
#: cluster, 1.3% with these values.
_QUIET_SETTINGS: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "500ms",
}


def _quiet_settings() -> dict[str, Any]:
    """:data:`_QUIET_SETTINGS` less the keys whose value someone changed from
    Dask's default (a ``dask.config.set`` or a Dask configuration file wins)."""
    import dask

    defaults = dask.config.merge(*dask.config.defaults)
    return {
        key: value
        for key, value in _QUIET_SETTINGS.items()
        if dask.config.get(key, None) == dask.config.get(key, None, config=defaults)
    }


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated recursively with ``over`` (``over`` wins)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _in_process(options: Mapping[str, Any]) -> bool:
    """Whether ``LocalCluster(**options)`` talks over ``inproc://`` rather than a network.

    As ``LocalCluster`` decides: an explicit ``protocol``, else in-process for
    thread workers without a ``scheduler_port``.
    """
    protocol = options.get("protocol")
    if protocol:
        return str(protocol).startswith("inproc")
    return not options.get("processes", True) and not options.get("scheduler_port")


class _Batch:
    """One task: a slice of a ``map`` call's jobs, and what came back."""

    __slots__ = ("error", "future", "indices", "outcomes", "settled")

    def __init__(self, future: Any, indices: list[int]) -> None:
        self.future = future
        self.indices = indices
        self.settled = False
        self.error: BaseException | None = None
        self.outcomes: list[tuple[bool, bytes]] = []

    def settle(self, data: bytes | None, error: BaseException | None) -> None:
        if error is None and data is not None:
            self.outcomes = _transport.loads(data)
        else:
            self.error = error or RuntimeError("the task ended without a result")
        self.settled = True
        self.future = None  # drop the cluster's copy of the result


class _Slot:
    """The future of one job inside a batch (what :func:`run_jobs` waits on)."""

    __slots__ = ("batch", "position")

    def __init__(self, batch: _Batch, position: int) -> None:
        self.batch = batch
        self.position = position

    def outcome(self) -> tuple[Any, BaseException | None]:
        batch = self.batch
        if batch.error is not None:
            return None, batch.error
        ok, data = batch.outcomes[self.position]
        batch.outcomes[self.position] = (ok, b"")  # each job's result is read once
        value = _transport.loads(data)
        return (value, None) if ok else (None, value)

    def result(self, timeout: float | None = None) -> Any:
        value, error = self.outcome()
        if error is not None:
            raise error
        return value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self.batch.error

    def cancel(self) -> bool:
        future = self.batch.future
        if future is not None:
            future.cancel()
        return True


class _DaskSubmitter:
    """Submits one ``map`` call's jobs as a few tasks of many jobs each.

    The function is scattered once to every worker. First attempts go in
    ``batches`` slices of consecutive jobs (one ``client.map`` call); a job
    that raised, or whose task's worker was lost, is resubmitted on its own
    as a new task. Every task gets its own key: Dask would otherwise hand
    back the erred task of the previous attempt instead of running the job
    again. Jobs and results travel as bytes (see :mod:`qdframe_dask._transport`).
    """

    def __init__(
        self,
        client: Any,
        fn: Callable[[Any], Any],
        jobs: list[Any],
        batches: int,
        places: list[str],
    ) -> None:
        self._client = client
        self._jobs = jobs
        self._batch = uuid.uuid4().hex[:12]
        self._finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._running: dict[str, _Batch] = {}
        self._function: Any = None
        self._first: list[_Slot | None] = []
        if not jobs:
            return
        self._function = client.scatter(_transport.dumps_function(fn), broadcast=True, hash=False)
        count = max(1, min(batches, len(jobs)))
        bounds = [len(jobs) * k // count for k in range(count + 1)]
        slices = [list(range(bounds[k], bounds[k + 1])) for k in range(count)]
        # Slices are placed round-robin over the workers' threads: the
        # scheduler alone, not knowing how long a slice takes, may queue
        # several on one worker while another idles. Other workers may still
        # take them over (work stealing, a lost worker).
        futures = [
            client.submit(
                _transport.call_batch,
                self._function,
                _transport.dumps([jobs[i] for i in indices]),
                key=f"qdframe-batch-{self._batch}-{k}",
                pure=False,
                workers=[places[k % len(places)]] if places else None,
                # Dask accepts the flag only with a placement (none while the
                # scheduler knows no worker, e.g. one being restarted).
                allow_other_workers=bool(places),
            )
            for k, indices in enumerate(slices)
        ]
        self._first = [None] * len(jobs)
        for future, indices in zip(futures, slices, strict=True):
            batch = _Batch(future, indices)
            self._running[future.key] = batch
            for position, index in enumerate(indices):
                self._first[index] = _Slot(batch, position)
            future.add_done_callback(self._finished.put)

    def submit(self, index: int, attempt: int) -> _Slot:
        slot = self._first[index] if attempt == 0 else None
        if slot is not None:
            self._first[index] = None
            return slot
        key = f"qdframe-job-{self._batch}-{index}-{attempt}"
        future = self._client.submit(
            _transport.call_batch,
            self._function,
            _transport.dumps([self._jobs[index]]),
            key=key,
            pure=False,
        )
        batch = _Batch(future, [index])
        self._running[future.key] = batch
        future.add_done_callback(self._finished.put)
        return _Slot(batch, 0)

    def wait(self, futures: Collection[_Slot], timeout: float | None) -> list[_Slot]:
        done = [slot for slot in futures if slot.batch.settled]
        if done:
            return done
        try:
            first = self._finished.get(timeout=timeout)
        except queue.Empty:
            return []
        finished = [first]
        while True:
            try:
                finished.append(self._finished.get_nowait())
            except queue.Empty:
                break
        self._settle(finished)
        return [slot for slot in futures if slot.batch.settled]

    def _settle(self, futures: list[Any]) -> None:
        batches = [(f, self._running.pop(f.key)) for f in futures if f.key in self._running]
        ok = [(f, b) for f, b in batches if f.status == "finished"]
        values = None
        if ok:
            # One round trip for all results instead of one per task.
            try:
                values = self._client.gather([f for f, _ in ok], errors="raise")
            except Exception:  # lost between finishing and gathering: ask one by one
                values = None
        if values is not None:
            for (_, batch), data in zip(ok, values, strict=True):
                batch.settle(data, None)
        for future, batch in batches:
            if not batch.settled:
                data, error = future_outcome(future)
                batch.settle(data, error)

    def outcome(self, future: _Slot) -> tuple[Any, BaseException | None]:
        return future.outcome()

    def cancel_unsubmitted(self) -> None:
        """Cancel the tasks still running (the batch failed early) and release the function."""
        for batch in self._running.values():
            if batch.future is not None:
                batch.future.cancel()
        self._running.clear()
        self._first = []
        self._function = None

    def is_lost_worker(self, error: BaseException) -> bool:
        from distributed import KilledWorker

        return isinstance(error, KilledWorker | CancelledError)


def _worker_threads(client: Any) -> list[str]:
    """Worker addresses, each repeated once per thread, interleaved across workers
    (empty when the scheduler cannot say: the scheduler then places the tasks)."""
    try:
        threads = {str(k): int(n) for k, n in client.nthreads().items()}
    except Exception:  # scheduler unreachable right now: map() will say so
        return []
    places: list[str] = []
    for turn in range(max(threads.values(), default=0)):
        places.extend(address for address, n in sorted(threads.items()) if n > turn)
    return places
