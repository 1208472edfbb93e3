"""Timing model: when each operation of a distributed program runs, and how well.

* :func:`schedule` - list-schedules a :class:`~qdframe.distribute.DistributedProgram`
  and returns a :class:`Schedule`: makespan, per-node utilisation, per-link
  usage, a fidelity estimate, classical compression and purification figures;
* :class:`TimingModel` / :class:`NodeTiming` - gate durations, error rates,
  T1/T2 per node;
* :func:`purify` - DEJMPS purification of Werner pairs.

See ``docs/distribution.md``.
"""

from __future__ import annotations

from qdframe.schedule.fidelity import FidelityEstimate
from qdframe.schedule.messages import CompressionReport
from qdframe.schedule.purification import PurifiedPair, dejmps_round, purify
from qdframe.schedule.scheduler import (
    LinkUsage,
    NodeUsage,
    PurificationReport,
    Schedule,
    schedule,
)
from qdframe.schedule.timing import NodeTiming, TimingModel

__all__ = [
    "CompressionReport",
    "FidelityEstimate",
    "LinkUsage",
    "NodeTiming",
    "NodeUsage",
    "PurificationReport",
    "PurifiedPair",
    "Schedule",
    "TimingModel",
    "dejmps_round",
    "purify",
    "schedule",
]
