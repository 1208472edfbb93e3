"""A run's metrics and its report (the helpers of the analyze stage).

The code lives in :mod:`qdframe.stages.metrics`, beside the stage that uses
it; this module keeps the names importable from here.
"""

from __future__ import annotations

from qdframe.stages.metrics import build_metrics, build_report, write_run_report

__all__ = ["build_metrics", "build_report", "write_run_report"]
