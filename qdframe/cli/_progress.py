"""What ``qdframe run`` shows while it works, and how it stops when asked to.

On a terminal a rich status line names the stage (``allocate``, ``lower``,
``execute``...) and, while shots run, a bar of shot batches. Elsewhere (a
pipe, a log file, CI) the same events are plain lines on stderr, at most one
per stage and a handful for the batches. With ``--json`` nothing is shown,
so stdout and stderr stay machine-readable.

The stage names come from the pipeline's own ``qdframe_before_<stage>``
hooks: :class:`RunDisplay` registers one small hook object on the run's
plugin manager in this process only (it never travels to workers).

:func:`interruptible` turns Ctrl-C and SIGTERM into a prompt stop: the shot
batches already finished are checkpointed as they finish, so the command
kills its workers, prints how to continue (``qdframe run --resume DIR``) and
exits at once (130 for Ctrl-C, 143 for SIGTERM) instead of waiting for the
batches in flight.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from qdframe.hookspecs import hookimpl

__all__ = ["RunDisplay", "interruptible"]

# Plain mode prints a batch line at most this often (and for the last batch).
_PLAIN_EVERY_S = 5.0


class _StageHooks:
    """Pipeline hook implementations that tell a :class:`RunDisplay` the stage."""

    def __init__(self, display: RunDisplay) -> None:
        self._display = display

    @hookimpl
    def qdframe_before_stage(self, stage: str, context: Any) -> None:
        self._display.stage(stage, context)


class RunDisplay:
    """Stage names and batch progress for one run, on a terminal or as plain lines.

    :param mode: ``"rich"`` (a terminal), ``"plain"`` (lines on stderr) or
        ``"off"`` (``--json``).
    """

    def __init__(self, mode: str, *, stream: Any = None) -> None:
        if mode not in ("rich", "plain", "off"):
            raise ValueError(f"unknown display mode {mode!r} (rich, plain, off)")
        self.mode = mode
        self._stream = stream if stream is not None else sys.stderr
        self._progress: Any = None
        self._task: Any = None
        self._batch_task: Any = None
        self._last_line = 0.0
        self._stage: str | None = None

    @classmethod
    def for_terminal(cls, *, json_output: bool) -> RunDisplay:
        """``off`` with ``--json``, ``rich`` on a terminal, ``plain`` otherwise."""
        if json_output:
            return cls("off")
        from rich.console import Console

        return cls("rich" if Console(stderr=True).is_terminal else "plain")

    @contextmanager
    def attached(self, plugins: Any) -> Iterator[RunDisplay]:
        """Show the run's stages while the block runs (hooks registered on ``plugins``)."""
        hooks = _StageHooks(self)
        plugins.manager.register(hooks, name="qdframe-cli-progress")
        try:
            if self.mode == "rich":
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    SpinnerColumn,
                    TimeElapsedColumn,
                )

                with Progress(
                    SpinnerColumn(),
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=Console(stderr=True),
                    transient=True,
                ) as progress:
                    self._progress = progress
                    self._task = progress.add_task("starting", total=None)
                    yield self
            else:
                yield self
        finally:
            self._progress = None
            plugins.manager.unregister(hooks)

    def _line(self, text: str) -> None:
        self._stream.write(f"qdframe: {text}\n")
        self._stream.flush()

    def stage(self, name: str, context: Any) -> None:
        """The run entered stage ``name``."""
        self._stage = name
        estimate = context.metrics.get("estimate") if name == "execute" else None
        if self.mode == "plain":
            self._line(f"stage {name}")
        elif self.mode == "rich" and self._progress is not None:
            self._progress.update(self._task, description=name)
        if estimate:
            from qdframe.estimate import SLOW_RUN_S, RunEstimate

            run = RunEstimate(**estimate)
            if run.seconds > SLOW_RUN_S:
                return  # the slow-run warning, just before, gave the same figures
            text = run.describe()
            if self.mode == "plain":
                self._line(f"estimate: {text}")
            elif self.mode == "rich" and self._progress is not None:
                self._progress.console.print(f"[dim]estimate:[/] {text}")

    def batches(self, done: int, total: int) -> None:
        """Progress callback over shot batches (``progress(done, total)``)."""
        if self.mode == "plain":
            now = time.monotonic()
            if done in (0, total) or now - self._last_line >= _PLAIN_EVERY_S:
                self._last_line = now
                self._line(f"shot batches {done}/{total}")
        elif self.mode == "rich" and self._progress is not None:
            self._progress.update(
                self._task, description="execute: shot batches", completed=done, total=total
            )


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def _saved_batches(run_dir: Path) -> int:
    folder = run_dir / "checkpoints"
    return sum(1 for f in folder.iterdir() if f.name.startswith("batch-")) if folder.is_dir() else 0


def _stop_now(run_dir: Path | None, code: int, reason: str) -> None:
    # Worker processes would otherwise finish their batches first; threads
    # cannot be stopped, so the process exits without joining them. Finished
    # batches are already on disk (each checkpoint is written atomically).
    for child in multiprocessing.active_children():
        child.terminate()
    lines = [f"{reason}: stopped."]
    if run_dir is not None and (run_dir / "run.json").exists():
        lines.append(f"{_saved_batches(run_dir)} finished shot batch(es) are kept in {run_dir}.")
        lines.append(f"Continue with: qdframe run --resume {run_dir}")
    sys.stdout.flush()
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()
    os._exit(code)


@contextmanager
def interruptible(run_dir: Path | None) -> Iterator[None]:
    """Stop promptly on Ctrl-C or SIGTERM, saying how to resume ``run_dir``.

    Exits the process with 130 (Ctrl-C) or 143 (SIGTERM) on either; the
    previous SIGTERM handler is restored when the block ends normally.
    """
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    except _Terminated:
        _stop_now(run_dir, 128 + signal.SIGTERM, "terminated")
    except KeyboardInterrupt:
        _stop_now(run_dir, 128 + signal.SIGINT, "interrupted")
    finally:
        signal.signal(signal.SIGTERM, previous)
