"""What a run returns: :class:`RunResult`, and how runs are named."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.planning import Plan

__all__ = ["RunResult", "new_run_id"]


@dataclass
class RunResult:
    """What :meth:`DistributedSystem.run` returns.

    :param counts: outcomes over the original circuit's classical bits (all data
        qubits, when the circuit measured nothing), Qiskit bit order.
    :param expectation_values: estimates of the requested observables.
    :param plan: the plan the counts were produced with (``None`` after a
        classical fallback before planning succeeded).
    :param metrics: stage timings, throughput, CPU and memory, ebits, swaps,
        classical bytes, retries and recoveries, resource usage.
    :param verified: the verification verdict when asked for.
    :param fallback: the original circuit ran on the local simulator because
        the distributed run hit a hardware failure.
    :param report_path: the HTML report, when a report directory was given.
    """

    run_id: str
    counts: dict[str, int]
    shots: int
    seed: int
    backend: str
    expectation_values: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None
    program_summary: dict[str, Any] = field(default_factory=dict)
    schedule: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    verified: bool | None = None
    verification: dict[str, Any] | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    mitigated: dict[str, float] | None = None
    run_dir: Path | None = None
    report_path: Path | None = None

    def __repr__(self) -> str:
        # Counts, plan and schedule can be large; show what identifies the run.
        top = sorted(self.counts.items(), key=lambda kv: -kv[1])[:4]
        counts = ", ".join(f"{k!r}: {n}" for k, n in top)
        more = f", +{len(self.counts) - len(top)} more" if len(self.counts) > len(top) else ""
        verified = "" if self.verified is None else f", verified={self.verified}"
        return (
            f"RunResult({self.run_id!r}, backend={self.backend!r}, shots={self.shots}, "
            f"seed={self.seed}{verified}, counts={{{counts}{more}}})"
        )

    __str__ = __repr__

    def _repr_html_(self) -> str:
        # A notebook shows this table instead of the repr.
        from html import escape

        top = sorted(self.counts.items(), key=lambda kv: -kv[1])[:8]
        more = len(self.counts) - len(top)
        fallback = f" (fallback: {self.fallback_reason})" if self.fallback else ""
        rows = {
            "run": self.run_id,
            "backend": self.backend + fallback,
            "shots": str(self.shots),
            "seed": str(self.seed),
            "counts": ", ".join(f"{k}: {n}" for k, n in top)
            + (f" (+{more} more outcomes)" if more > 0 else ""),
        }
        if self.plan is not None:
            rows["ebits"] = self.plan.ebits_text()
        if self.verified is not None:
            rows["verified"] = "yes" if self.verified else "NO"
        for name, value in self.expectation_values.items():
            rows[f"<{name}>"] = f"{value:.6f}"
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows.items()
        )
        return f"<table>{body}</table>"

    @property
    def stage_seconds(self) -> dict[str, float]:
        seconds: dict[str, float] = self.metrics.get("stage_seconds", {})
        return seconds


def new_run_id(name: str) -> str:
    """A run id: time stamp, the circuit's name (made safe for paths) and a random tail."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40] or "circuit"
    return f"{stamp}-{safe}-{uuid.uuid4().hex[:6]}"
