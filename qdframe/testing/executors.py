"""Conformance kit for executors: order, errors, retries, progress, closing.

The jobs are functions of this module, so they pickle by reference and run in
worker processes and on Dask workers that can import qdframe. Retries are
observed through marker files in a temporary folder, which every worker on the
machine sees. One executor is built for the whole run and closed at the end
(starting a cluster per check would cost more than the checks).

Capability an executor declares:

``workers`` (default ``2``)
    passed as the factory's ``workers`` option when it is not among the
    kit's options.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from qdframe.protocols import Executor
from qdframe.testing._kit import Kit

__all__ = ["ExecutorKit"]


class JobFailed(RuntimeError):
    """What the failing job raises; the executor must hand it back."""


def square_after(job: tuple[int, float]) -> int:
    """Sleep, then return the square: later jobs finish first when they sleep less."""
    value, delay = job
    time.sleep(delay)
    return value * value


def fail_on(job: tuple[int, int]) -> int:
    """Raise :class:`JobFailed` for the job whose value equals the marker."""
    value, bad = job
    if value == bad:
        raise JobFailed(f"job {value} failed on purpose")
    return value


def fail_first_attempt(marker: str) -> str:
    """Fail the first time a marker is seen, succeed after (state lives on disk)."""
    path = Path(marker)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return path.name
    os.close(fd)
    raise JobFailed(f"first attempt of {path.name}")


def count_runs(marker: str) -> int:
    """Append one line per run to the marker file; return the job's run count so far."""
    with open(marker, "a", encoding="utf-8") as handle:
        handle.write("x\n")
    return len(Path(marker).read_text(encoding="utf-8").splitlines())


def fail_first_then_mark(job: tuple[str, int]) -> int:
    """Job 0 fails at once; every other job sleeps, then leaves a marker file."""
    folder, index = job
    if index == 0:
        raise JobFailed("job 0 failed on purpose")
    time.sleep(0.1)
    (Path(folder) / f"ran-{index}").touch()
    return index


def count_then_fail(marker: str) -> int:
    """Record the run in the marker file, then fail."""
    runs = count_runs(marker)
    raise JobFailed(f"run {runs} of {Path(marker).name} failed")


class ExecutorKit(Kit):
    """Checks an executor factory (``registry.add("name", Factory)``)."""

    category: ClassVar[str] = "executors"
    capability_defaults: ClassVar[dict[str, Any]] = {"workers": 2}

    def __init__(self, subject: Any, **kwargs: Any) -> None:
        super().__init__(subject, **kwargs)
        self._executor: Any = None
        self._scratch = tempfile.TemporaryDirectory(prefix="qdframe-executor-kit-")

    def _open(self) -> Any:
        if self._executor is None:
            options = {"workers": self.capabilities["workers"], **self.options}
            executor = self.subject(**options)
            entered = executor.__enter__()
            assert entered is executor, "__enter__ must return the executor itself"
            self._executor = executor
        return self._executor

    def close(self) -> None:
        executor, self._executor = self._executor, None
        try:
            if executor is not None:
                executor.__exit__(None, None, None)
        finally:
            self._scratch.cleanup()

    def _marker(self, label: str) -> str:
        return str(Path(self._scratch.name) / f"{label}-{time.monotonic_ns()}")

    # ------------------------------------------------------------------ checks

    def check_implements_the_protocol(self) -> None:
        """The object has name, map, close and the context-manager methods."""
        executor = self._open()
        assert isinstance(executor, Executor), (
            f"{type(executor).__name__} lacks part of qdframe.protocols.Executor "
            "(name, map, close, __enter__, __exit__)"
        )
        assert isinstance(executor.name, str) and executor.name

    def check_results_come_back_in_submission_order(self) -> None:
        """Results follow the jobs' order even when later jobs finish first."""
        jobs = [(i, 0.05 * (5 - i)) for i in range(6)]
        results = self._open().map(square_after, jobs)
        assert list(results) == [i * i for i in range(6)], f"results {results}"

    def check_no_jobs_no_results(self) -> None:
        """An empty job list gives an empty result list."""
        assert list(self._open().map(square_after, [])) == []

    def check_every_job_runs_once(self) -> None:
        """Without failures each job runs exactly once."""
        markers = [self._marker(f"once{i}") for i in range(5)]
        assert list(self._open().map(count_runs, markers)) == [1] * 5
        runs = [len(Path(m).read_text(encoding="utf-8").splitlines()) for m in markers]
        assert runs == [1] * 5, f"runs per job {runs}"

    def check_job_errors_propagate(self) -> None:
        """A job that keeps failing raises its own exception from map()."""
        jobs = [(i, 2) for i in range(4)]
        try:
            self._open().map(fail_on, jobs, max_retries=0)
        except JobFailed as error:
            assert "job 2 failed on purpose" in str(error), f"message lost: {error}"
        except Exception as error:
            raise AssertionError(
                f"map() raised {type(error).__name__}: {error}; expected the job's JobFailed"
            ) from None
        else:
            raise AssertionError("map() returned although a job raised")

    def check_failed_jobs_are_retried(self) -> None:
        """With max_retries=1 a job that fails once succeeds on its second attempt."""
        markers = [self._marker(f"retry{i}") for i in range(3)]
        results = self._open().map(fail_first_attempt, markers, max_retries=1)
        assert list(results) == [Path(m).name for m in markers], f"results {results}"

    def check_retries_are_bounded(self) -> None:
        """A job that fails on every attempt runs 1 + max_retries times, then raises."""
        marker = self._marker("bounded")
        try:
            self._open().map(count_then_fail, [marker], max_retries=2)
        except JobFailed:
            runs = len(Path(marker).read_text(encoding="utf-8").splitlines())
            assert runs == 3, f"max_retries=2 but the job ran {runs} times"
            return
        raise AssertionError("a job that always fails did not raise")

    def check_a_failed_batch_cancels_waiting_jobs(self) -> None:
        """Once a job has failed for good, jobs that have not started are not run."""
        folder = Path(self._marker("cancel"))
        folder.mkdir()
        jobs = [(str(folder), i) for i in range(16)]
        try:
            self._open().map(fail_first_then_mark, jobs, max_retries=0)
        except JobFailed:
            pass
        else:
            raise AssertionError("map() returned although job 0 raised")
        time.sleep(2.0)  # jobs that were not cancelled finish meanwhile
        ran = len(list(folder.iterdir()))
        assert ran < len(jobs) - 1, (
            f"all {ran} other jobs ran after job 0 failed; cancel the jobs not yet started"
        )

    def check_progress_is_reported(self) -> None:
        """progress(done, total) ends at (total, total) and never goes back."""
        calls: list[tuple[int, int]] = []
        self._open().map(
            square_after, [(i, 0.0) for i in range(4)], progress=lambda d, t: calls.append((d, t))
        )
        assert calls, "progress was never called"
        assert calls[-1] == (4, 4), f"last progress call {calls[-1]}, expected (4, 4)"
        done = [d for d, _ in calls]
        assert done == sorted(done) and all(t == 4 for _, t in calls), f"progress {calls}"

    def check_closed_executor_refuses_work(self) -> None:
        """After leaving its with block an executor is closed and map() raises."""
        options = {"workers": 1, **self.options}
        with self.subject(**options) as executor:
            assert list(executor.map(square_after, [(3, 0.0)])) == [9]
        try:
            executor.map(square_after, [(3, 0.0)])
        except RuntimeError:
            return
        except Exception as error:
            raise AssertionError(
                f"map() after close raised {type(error).__name__}: {error}; raise RuntimeError"
            ) from None
        raise AssertionError("a closed executor still ran jobs")
