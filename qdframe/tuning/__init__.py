"""The tuner: find the qdframe settings that are fastest on this host.

``qdframe tune`` times a small, fixed workload suite with the default
settings and with candidates from the settings plugins declare, keeps only
candidates whose results agree with the defaults', and reports the savings.
"""

from __future__ import annotations

from qdframe.tuning.energy import EnergyMeter
from qdframe.tuning.plan import ExecutionPlan, Planner
from qdframe.tuning.result import CandidateResult, TuneResult, WorkloadTiming
from qdframe.tuning.tuner import TuneOptions, Tuner
from qdframe.tuning.verify import ResultCheck, Verification, check_results, verify_settings
from qdframe.tuning.workloads import SUITES, Workload, build_suite

__all__ = [
    "SUITES",
    "CandidateResult",
    "EnergyMeter",
    "ExecutionPlan",
    "Planner",
    "ResultCheck",
    "TuneOptions",
    "TuneResult",
    "Tuner",
    "Verification",
    "Workload",
    "WorkloadTiming",
    "build_suite",
    "check_results",
    "verify_settings",
]
