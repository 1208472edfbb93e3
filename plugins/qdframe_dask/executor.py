"""The ``dask`` executor: a ``distributed`` client, on a cluster it found or started."""

from __future__ import annotations

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
    :param processes: a started cluster's workers are processes (``True``)
        or threads of this process.
    :param config: the system configuration to read the above from.
    :param host: measured host facts for the default worker count.
    :param backoff: delay before a failed job is resubmitted.
    :param timeout_s: most seconds one :meth:`map` call may take.
    :param connect_timeout_s: most seconds to reach the scheduler.
    :param cluster_options: extra keyword options for ``LocalCluster``.
    :raises ConfigError: ``workers`` or ``threads_per_worker`` < 1.
    """

    name = "dask"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        threads_per_worker: int = 1,
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

        ``fn`` and the jobs travel to the workers with cloudpickle. A job that
        raises, or that was running on a worker that died, is resubmitted (as
        a new task) up to ``max_retries`` times.

        :raises RuntimeError: the executor was closed.
        :raises ResourceError: the scheduler cannot be reached.
        """
        jobs = list(jobs)
        submitter = _DaskSubmitter(self.client, fn, jobs)
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


def _in_process(options: Mapping[str, Any]) -> bool:
    """Whether ``LocalCluster(**options)`` talks over ``inproc://`` rather than a network.

    As ``LocalCluster`` decides: an explicit ``protocol``, else in-process for
    thread workers without a ``scheduler_port``.
    """
    protocol = options.get("protocol")
    if protocol:
        return str(protocol).startswith("inproc")
    return not options.get("processes", True) and not options.get("scheduler_port")


class _DaskSubmitter:
    """Submits one ``map`` call's jobs as tasks with unique keys.

    Every attempt gets its own key: Dask would otherwise hand back the erred
    task of the previous attempt instead of running the job again. The
    function, jobs and results travel as bytes (see :mod:`qdframe_dask._transport`).
    """

    def __init__(self, client: Any, fn: Callable[[Any], Any], jobs: list[Any]) -> None:
        self._client = client
        self._function = _transport.dumps_function(fn)
        self._jobs = [_transport.dumps(job) for job in jobs]
        self._batch = uuid.uuid4().hex[:12]
        self._finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # First attempts go in one call: the scheduler receives the whole
        # batch at once.
        keys = [self._key(i, 0) for i in range(len(jobs))]
        functions = [self._function] * len(jobs)
        first = (
            client.map(_transport.call, functions, self._jobs, key=keys, pure=False) if jobs else []
        )
        self._first: dict[int, Any] = dict(enumerate(first))
        self._values: dict[str, Any] = {}

    def _key(self, index: int, attempt: int) -> str:
        return f"qdframe-job-{self._batch}-{index}-{attempt}"

    def submit(self, index: int, attempt: int) -> Any:
        future = self._first.pop(index, None) if attempt == 0 else None
        if future is None:
            key = self._key(index, attempt)
            future = self._client.submit(
                _transport.call, self._function, self._jobs[index], key=key, pure=False
            )
        future.add_done_callback(self._finished.put)
        return future

    def wait(self, futures: Collection[Any], timeout: float | None) -> list[Any]:
        wanted = set(futures)
        try:
            first = self._finished.get(timeout=timeout)
        except queue.Empty:
            return []
        done = [first]
        while True:
            try:
                done.append(self._finished.get_nowait())
            except queue.Empty:
                break
        done = [f for f in done if f in wanted]
        # One round trip for all results instead of one per future.
        finished = [f for f in done if f.status == "finished"]
        if finished:
            try:
                values = self._client.gather(finished, errors="raise")
            except Exception:  # lost between finishing and gathering: ask one by one
                values = None
            if values is not None:
                self._values.update(zip((f.key for f in finished), values, strict=True))
        return done

    def outcome(self, future: Any) -> tuple[Any, BaseException | None]:
        if future.key in self._values:
            return _transport.loads(self._values.pop(future.key)), None
        data, error = future_outcome(future)
        return (None, error) if error is not None else (_transport.loads(data), None)

    def cancel_unsubmitted(self) -> None:
        """Cancel first attempts that were never handed out (the batch failed early)."""
        for future in self._first.values():
            future.cancel()
        self._first.clear()

    def is_lost_worker(self, error: BaseException) -> bool:
        from distributed import KilledWorker

        return isinstance(error, KilledWorker | CancelledError)
