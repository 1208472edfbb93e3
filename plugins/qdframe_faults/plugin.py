"""The ``faults`` plugin: fires ``[[recovery.faults]]`` from the pipeline's before-hooks.

A stage-level fault (``job`` unset) raises from ``qdframe_before_<stage>``;
the pipeline runs before-hooks inside the stage's ``try``, so the fault fails
the stage and goes through ``qdframe_handle_error`` exactly like a real
failure. A job-level fault raises from ``qdframe_before_job`` for that job of
the execute stage. The configuration is checked when a system is configured.
"""

from __future__ import annotations

from typing import Any

import qdframe
from qdframe.plugin import RunContext, SystemConfig
from qdframe_faults.injector import FaultInjector, validate_faults

__all__ = [
    "INJECTOR",
    "qdframe_before_allocate",
    "qdframe_before_analyze",
    "qdframe_before_execute",
    "qdframe_before_intake",
    "qdframe_before_job",
    "qdframe_before_lower",
    "qdframe_before_mitigate",
    "qdframe_before_optimize",
    "qdframe_before_schedule",
    "qdframe_configure",
]

#: The injector behind this plugin's hooks (its counts are per run id).
INJECTOR = FaultInjector()


@qdframe.hookimpl
def qdframe_configure(config: SystemConfig) -> None:
    """Refuse a fault list that names nodes or links the network does not have."""
    validate_faults(config)


@qdframe.hookimpl
def qdframe_before_intake(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the intake stage."""
    INJECTOR.before_stage(context, "intake")


@qdframe.hookimpl
def qdframe_before_allocate(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the allocate stage."""
    INJECTOR.before_stage(context, "allocate")


@qdframe.hookimpl
def qdframe_before_optimize(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the optimize stage."""
    INJECTOR.before_stage(context, "optimize")


@qdframe.hookimpl
def qdframe_before_lower(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the lower stage."""
    INJECTOR.before_stage(context, "lower")


@qdframe.hookimpl
def qdframe_before_schedule(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the schedule stage."""
    INJECTOR.before_stage(context, "schedule")


@qdframe.hookimpl
def qdframe_before_execute(context: RunContext, value: Any) -> None:
    """Fire the stage-level faults configured for the execute stage."""
    INJECTOR.before_stage(context, "execute")


@qdframe.hookimpl
def qdframe_before_mitigate(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the mitigate stage."""
    INJECTOR.before_stage(context, "mitigate")


@qdframe.hookimpl
def qdframe_before_analyze(context: RunContext, value: Any) -> None:
    """Fire the faults configured for the analyze stage."""
    INJECTOR.before_stage(context, "analyze")


@qdframe.hookimpl
def qdframe_before_job(context: RunContext, job_index: int) -> None:
    """Fire the faults configured for job ``job_index`` of the execute stage."""
    INJECTOR.before_job(context, job_index)
