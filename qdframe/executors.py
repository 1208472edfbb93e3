"""What every executor shares: retries with backoff, ordered results, progress.

An executor (see :class:`qdframe.protocols.Executor`) only has to say how to
submit one job and how to wait for running ones; :func:`run_jobs` does the
rest, the same way for a local pool and for a Dask cluster:

* results come back in submission order, each exactly once: a job's slot is
  filled by the one attempt that succeeded, and a second fill is a bug that
  raises instead of overwriting;
* a failed attempt (the job raised, or its worker was lost) is resubmitted up
  to ``max_retries`` times, after an exponential :class:`Backoff` that does not
  hold up the other jobs;
* ``progress(done, total)`` is called once at the start and after every job
  that finished.

:func:`progress_bar` makes such a callback that draws a rich progress bar on
a terminal and does nothing otherwise (or with ``--json``).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from qdframe.errors import ResourceError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Backoff",
    "JobFuture",
    "JobSubmitter",
    "ProgressCallback",
    "WorkerLostError",
    "future_outcome",
    "progress_bar",
    "run_jobs",
]

#: ``progress(done, total)``: jobs finished so far, out of all jobs.
ProgressCallback = Callable[[int, int], None]


class WorkerLostError(ResourceError):
    """A job's worker died on every attempt the retry budget allowed."""


class JobFuture(Protocol):
    """The part of a future :func:`run_jobs` uses (``concurrent.futures`` and
    ``distributed`` futures both have it)."""

    def result(self, timeout: float | None = None) -> Any: ...

    def exception(self, timeout: float | None = None) -> BaseException | None: ...

    def cancel(self) -> Any: ...


F = TypeVar("F", bound=JobFuture)


class JobSubmitter(Protocol[F]):
    """How one executor starts and watches jobs."""

    def submit(self, index: int, attempt: int) -> F:
        """Start attempt ``attempt`` (0 first) of job ``index``; return its future."""

    def wait(self, futures: Collection[F], timeout: float | None) -> Collection[F]:
        """Block until at least one of ``futures`` is done or ``timeout`` seconds
        pass; return the done ones (possibly none on timeout)."""

    def outcome(self, future: F) -> tuple[Any, BaseException | None]:
        """The value of a done future, or ``(None, error)`` when it failed
        (:func:`future_outcome` does this for ordinary futures)."""

    def is_lost_worker(self, error: BaseException) -> bool:
        """Whether ``error`` means the worker died rather than the job raising."""


@dataclass(frozen=True)
class Backoff:
    """Exponential delay before a failed job is resubmitted.

    Attempt ``k`` (1 = first retry) waits ``min(initial_s * factor**(k-1), max_s)``.
    """

    initial_s: float = 0.05
    factor: float = 2.0
    max_s: float = 5.0

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.max_s < 0:
            raise ValueError(
                f"backoff delays must be >= 0 s, got initial_s={self.initial_s}, max_s={self.max_s}"
            )
        if self.factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {self.factor}")

    def delay_s(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return float(min(self.initial_s * self.factor ** max(retry - 1, 0), self.max_s))


class _Missing:
    """Marks a result slot not filled yet (``None`` is a valid result)."""


_MISSING = _Missing()


def run_jobs(
    submitter: JobSubmitter[F],
    total: int,
    *,
    max_retries: int = 0,
    backoff: Backoff | None = None,
    progress: ProgressCallback | None = None,
    window: int | None = None,
    timeout_s: float | None = None,
) -> list[Any]:
    """Run jobs ``0 .. total-1`` through ``submitter``; return results in that order.

    :param max_retries: resubmissions allowed per job after its first attempt.
    :param backoff: delay before each resubmission; :class:`Backoff` defaults.
    :param progress: called with ``(done, total)`` at the start and per finished job.
    :param window: most jobs in flight at once (``None``: all of them).
    :param timeout_s: give up when the whole batch takes longer.
    :raises ValueError: ``max_retries`` < 0 or ``window`` < 1.
    :raises WorkerLostError: a job's worker died on its last allowed attempt.
    :raises ResourceError: the batch did not finish within ``timeout_s``.
    :raises Exception: the last exception a job raised when it ran out of
        retries, with a note naming the job and the attempts.
    """
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, got {max_retries}")
    if window is not None and window < 1:
        raise ValueError(f"window must be >= 1 job, got {window}")
    backoff = backoff or Backoff()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    results: list[Any] = [_MISSING] * total
    attempts = [0] * total
    ready: deque[int] = deque(range(total))
    delayed: list[tuple[float, int]] = []  # (resubmit at, job) heap
    running: dict[F, int] = {}
    done = 0
    if progress is not None:
        progress(0, total)
    try:
        while done < total:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise ResourceError(
                    f"{total - done} of {total} jobs did not finish within {timeout_s} s"
                )
            while delayed and delayed[0][0] <= now:
                ready.append(heapq.heappop(delayed)[1])
            while ready and (window is None or len(running) < window):
                index = ready.popleft()
                running[submitter.submit(index, attempts[index])] = index
            wait_s = _next_wake(now, delayed, deadline)
            if not running:
                time.sleep(wait_s if wait_s is not None else 0.0)
                continue
            for future in submitter.wait(list(running), wait_s):
                index = running.pop(future)
                value, error = submitter.outcome(future)
                if error is None:
                    if not isinstance(results[index], _Missing):
                        raise RuntimeError(f"job {index} finished twice; refusing a second result")
                    results[index] = value
                    done += 1
                    if progress is not None:
                        progress(done, total)
                    continue
                attempts[index] += 1
                if attempts[index] > max_retries:
                    raise _final_error(submitter, error, index, total, attempts[index])
                ready_at = time.monotonic() + backoff.delay_s(attempts[index])
                heapq.heappush(delayed, (ready_at, index))
    finally:
        for future in running:
            future.cancel()
    return results


def future_outcome(future: JobFuture) -> tuple[Any, BaseException | None]:
    """The value of a done future, or ``(None, error)`` with the error it ended
    with (a cancellation included)."""
    try:
        error = future.exception()
        if error is None:
            return future.result(), None
    except Exception as exc:  # e.g. cancelled when the link to a scheduler was lost
        return None, exc
    return None, error


def _next_wake(
    now: float, delayed: list[tuple[float, int]], deadline: float | None
) -> float | None:
    times = [t for t in (delayed[0][0] if delayed else None, deadline) if t is not None]
    return max(min(times) - now, 0.0) if times else None


def _final_error(
    submitter: JobSubmitter[Any], error: BaseException, index: int, total: int, attempts: int
) -> BaseException:
    where = f"job {index} (of {total}) failed on all {attempts} attempt(s)"
    if submitter.is_lost_worker(error):
        lost = WorkerLostError(
            f"{where}: its worker was lost ({type(error).__name__}: {error}); "
            "raise [recovery] max_retries or check the workers' memory"
        )
        lost.__cause__ = error
        return lost
    error.add_note(f"qdframe: {where}")
    return error


@contextmanager
def progress_bar(
    description: str = "jobs",
    *,
    json_output: bool = False,
    enabled: bool | None = None,
    console: Console | None = None,
) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing "done/total" with rich, for the CLI.

    Yields ``None`` (no progress shown) with ``json_output`` or when the
    console is not a terminal, so pipes and ``--json`` output stay clean.
    The bar goes to stderr unless ``console`` says otherwise.

    :param description: the label left of the bar.
    :param json_output: the command prints JSON (``--json``): no bar.
    :param enabled: force the bar on or off; ``None`` decides by terminal.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = console or Console(stderr=True)
    show = (console.is_terminal if enabled is None else enabled) and not json_output
    if not show:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
