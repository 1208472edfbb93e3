"""The ``local`` executor: a ``concurrent.futures`` pool on this machine."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from qdframe.plugin import (
    Backoff,
    ConfigError,
    ExecutorKind,
    ProgressCallback,
    SystemConfig,
    default_worker_count,
    future_outcome,
    run_jobs,
)

if TYPE_CHECKING:
    from types import TracebackType

    from qdframe.plugin import HostInfo

__all__ = ["LocalExecutor", "default_worker_count", "limit_native_threads"]

J = TypeVar("J")
R = TypeVar("R")

_KINDS = ", ".join(k.value for k in ExecutorKind)


def _threadpoolctl() -> Any:
    """The ``threadpoolctl`` module, or ``None`` when it is not installed (it is optional)."""
    try:
        return importlib.import_module("threadpoolctl")
    except ImportError:
        return None


def limit_native_threads(count: int, user_api: str | None = None) -> None:
    """Cap native thread pools at ``count`` threads, from now on.

    Runs in each worker process (every pool), and in each worker thread for
    OpenMP (``user_api="openmp"``), whose limit belongs to the calling
    thread. Without ``threadpoolctl`` it does nothing.
    """
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=count, user_api=user_api)


@contextmanager
def _native_threads_limited(count: int) -> Iterator[None]:
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        yield
        return
    with threadpoolctl.threadpool_limits(limits=count):
        yield


def _parse_kind(kind: str | ExecutorKind) -> ExecutorKind:
    try:
        return ExecutorKind(kind)
    except ValueError:
        raise ConfigError(
            f"unknown executor kind {kind!r}", key_path="resources.executor_kind", allowed=_KINDS
        ) from None


class LocalExecutor:
    """Runs jobs on a thread or process pool of this machine.

    Options given here win over ``config``; what neither sets comes from the
    HAL (worker count) or the defaults (threads).

    :param workers: pool size; ``[resources] executor_workers``, else the
        HAL's core count (:func:`default_worker_count`).
    :param kind: ``"threads"`` (jobs that spend their time outside the GIL:
        Aer, large numpy kernels) or ``"processes"`` (jobs that hold the GIL;
        ``fn`` and jobs must pickle);
        ``[resources] executor_kind`` when omitted.
    :param config: the system configuration to read the above from.
    :param host: measured host facts for the default worker count.
    :param backoff: delay before a failed job is resubmitted.
    :param timeout_s: most seconds one :meth:`map` call may take.
    :param mp_context: multiprocessing start method for processes
        (``"fork"``, ``"forkserver"``, ``"spawn"``); the platform's default
        when omitted.
    :param native_threads: threads each job's native libraries (BLAS,
        OpenMP) may use while the pool runs; by default the host's cores
        divided among the workers (at least 1), so that ``workers`` jobs do
        not oversubscribe the cores. Needs ``threadpoolctl``.
    :raises ConfigError: ``kind`` is unknown, ``workers`` < 1 or
        ``native_threads`` < 1.
    """

    name = "local"

    def __init__(
        self,
        *,
        workers: int | None = None,
        kind: str | ExecutorKind | None = None,
        config: SystemConfig | None = None,
        host: HostInfo | None = None,
        backoff: Backoff | None = None,
        timeout_s: float | None = None,
        mp_context: str | None = None,
        native_threads: int | None = None,
    ) -> None:
        resources = config.resources if config is not None else None
        if kind is None:
            kind = resources.executor_kind if resources is not None else ExecutorKind.THREADS
        if workers is None and resources is not None:
            workers = resources.executor_workers
        self.kind = _parse_kind(kind)
        self.workers = workers if workers is not None else default_worker_count(host)
        if self.workers < 1:
            raise ConfigError(
                f"executor needs at least 1 worker, got {self.workers}",
                key_path="resources.executor_workers",
                allowed="an integer >= 1",
            )
        if native_threads is None:
            native_threads = max(1, default_worker_count(host) // self.workers)
        if native_threads < 1:
            raise ConfigError(
                f"native_threads must be >= 1, got {native_threads}", allowed="an integer >= 1"
            )
        self.native_threads = native_threads
        self.backoff = backoff or Backoff()
        self.timeout_s = timeout_s
        self._mp_context = mp_context
        self._pool: Executor | None = None
        self._closed = False
        self.restarts = 0
        """How many times a broken process pool was replaced."""

    def __repr__(self) -> str:
        return f"LocalExecutor(kind={self.kind.value!r}, workers={self.workers})"

    def map(
        self,
        fn: Callable[[J], R],
        jobs: Sequence[J],
        *,
        max_retries: int = 0,
        progress: ProgressCallback | None = None,
    ) -> list[R]:
        """Apply ``fn`` to every job on the pool; results in submission order.

        A job that raises, or whose worker process dies, is resubmitted up to
        ``max_retries`` times. A dead process breaks the whole pool: the pool
        is replaced and every job in flight on it (at most two per worker) is
        retried, each charged one attempt.

        :raises RuntimeError: the executor was closed.
        """
        if self._closed:
            raise RuntimeError("this LocalExecutor is closed; create a new one")
        jobs = list(jobs)
        # A process pool that breaks fails every job it holds. Keeping two jobs
        # per worker in flight keeps workers busy while charging a retry to
        # few jobs that were not running.
        window = 2 * self.workers if self.kind is ExecutorKind.PROCESSES else None
        submitter = _PoolSubmitter(self, fn, jobs)
        # Threads share this process's BLAS pools; processes cap their own.
        limits: AbstractContextManager[None] = (
            _native_threads_limited(self.native_threads)
            if self.kind is ExecutorKind.THREADS
            else nullcontext()
        )
        with limits:
            results: list[R] = run_jobs(
                submitter,
                len(jobs),
                max_retries=max_retries,
                backoff=self.backoff,
                progress=progress,
                window=window,
                timeout_s=self.timeout_s,
            )
        return results

    def _live_pool(self) -> Executor:
        if self._pool is None:
            if self.kind is ExecutorKind.THREADS:
                # BLAS limits are process-wide (set around each map); OpenMP's
                # belong to each thread, so every worker thread sets its own.
                self._pool = ThreadPoolExecutor(
                    self.workers,
                    thread_name_prefix="qdframe",
                    initializer=limit_native_threads,
                    initargs=(self.native_threads, "openmp"),
                )
            else:
                import multiprocessing

                context = multiprocessing.get_context(self._mp_context)
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    initializer=limit_native_threads,
                    initargs=(self.native_threads,),
                )
        return self._pool

    def _replace_broken_pool(self) -> Executor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self.restarts += 1
        return self._live_pool()

    def close(self) -> None:
        """Shut the pool down, cancelling jobs that have not started."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        self._live_pool()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _PoolSubmitter:
    """Submits one ``map`` call's jobs to the executor's current pool."""

    def __init__(self, owner: LocalExecutor, fn: Callable[[Any], Any], jobs: list[Any]) -> None:
        self._owner = owner
        self._fn = fn
        self._jobs = jobs

    def submit(self, index: int, attempt: int) -> Future[Any]:
        pool = self._owner._live_pool()
        try:
            return pool.submit(self._fn, self._jobs[index])
        except BrokenProcessPool:
            return self._owner._replace_broken_pool().submit(self._fn, self._jobs[index])

    def wait(self, futures: Collection[Future[Any]], timeout: float | None) -> set[Future[Any]]:
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return done

    def outcome(self, future: Future[Any]) -> tuple[Any, BaseException | None]:
        return future_outcome(future)

    def is_lost_worker(self, error: BaseException) -> bool:
        return isinstance(error, BrokenProcessPool)
