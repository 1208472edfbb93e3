"""The ``faults`` plugin: fires ``[[recovery.faults]]`` from the pipeline's before-hooks.

A stage-level fault (``job`` unset) raises from ``qdframe_before_stage``;
the pipeline runs before-hooks inside the stage's ``try``, so the fault fails
the stage and goes through ``qdframe_handle_error`` exactly like a real
failure. A job-level fault raises from ``qdframe_before_job`` for that job of
the execute stage. The configuration is checked when a system is configured.
"""

from __future__ import annotations

import qdframe
from qdframe.plugin import RunContext, SystemConfig
from qdframe_faults.injector import FaultInjector, validate_faults

__all__ = ["INJECTOR", "qdframe_before_job", "qdframe_before_stage", "qdframe_configure"]

#: The injector behind this plugin's hooks (its counts are per run id).
INJECTOR = FaultInjector()


@qdframe.hookimpl
def qdframe_configure(config: SystemConfig) -> None:
    """Refuse a fault list that names nodes or links the network does not have."""
    validate_faults(config)


@qdframe.hookimpl
def qdframe_before_stage(stage: str, context: RunContext) -> None:
    """Fire the stage-level faults configured for ``stage``."""
    INJECTOR.before_stage(context, stage)


@qdframe.hookimpl
def qdframe_before_job(context: RunContext, job_index: int) -> None:
    """Fire the faults configured for job ``job_index`` of the execute stage."""
    INJECTOR.before_job(context, job_index)
