"""Run monitoring: CPU and memory sampled with psutil, optional cProfile.

Sampling runs on a daemon thread at a fixed interval and stops with the
monitor, so it costs nothing between runs. ``monitoring_level = "off"``
samples nothing; ``"basic"`` records peaks; ``"detailed"`` also keeps the
time series for the report.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from types import TracebackType
from typing import Any

import psutil

__all__ = ["RunMonitor"]


class RunMonitor:
    """Samples this process while a run is in progress.

    :param level: ``"off"``, ``"basic"`` or ``"detailed"``.
    :param interval_s: seconds between samples.
    :param profile: run cProfile over the block and keep the top functions.
    """

    def __init__(self, level: str = "basic", *, interval_s: float = 0.1, profile: bool = False):
        self.level = level
        self.interval_s = interval_s
        self.profile = profile
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._profiler: cProfile.Profile | None = None
        self._process = psutil.Process()
        self._started = 0.0
        self.elapsed_s = 0.0
        self.profile_text: str | None = None

    def _sample(self) -> None:
        self._process.cpu_percent(None)  # the first call only primes the counter
        while not self._stop.wait(self.interval_s):
            try:
                cpu = self._process.cpu_percent(None)
                rss = self._process.memory_info().rss
            except psutil.Error:  # the process is going away
                return
            self.samples.append((time.perf_counter() - self._started, cpu, rss))

    def __enter__(self) -> RunMonitor:
        self._started = time.perf_counter()
        if self.level != "off":
            self._thread = threading.Thread(
                target=self._sample, name="qdframe-monitor", daemon=True
            )
            self._thread.start()
        if self.profile:
            self._profiler = cProfile.Profile()
            self._profiler.enable()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._profiler is not None:
            self._profiler.disable()
            out = io.StringIO()
            pstats.Stats(self._profiler, stream=out).sort_stats("cumulative").print_stats(25)
            self.profile_text = out.getvalue()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.elapsed_s = time.perf_counter() - self._started

    def metrics(self) -> dict[str, Any]:
        """Peak and mean CPU and memory over the block (and the series when detailed)."""
        rss_now = self._process.memory_info().rss
        data: dict[str, Any] = {"wall_s": self.elapsed_s, "rss_bytes": rss_now}
        if self.samples:
            cpu = [s[1] for s in self.samples]
            rss = [s[2] for s in self.samples]
            data.update(
                cpu_percent_mean=sum(cpu) / len(cpu),
                cpu_percent_peak=max(cpu),
                rss_peak_bytes=max(max(rss), rss_now),
            )
            if self.level == "detailed":
                data["series"] = [
                    {"t_s": round(t, 3), "cpu_percent": c, "rss_bytes": r}
                    for t, c, r in self.samples
                ]
        else:
            data["rss_peak_bytes"] = rss_now
        return data
