"""The ``executors`` plugin: registers the ``local`` executor and its setting."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, TunableSetting, lazy_factory

__all__ = ["EXECUTOR_KIND", "qdframe_register_executors", "qdframe_register_tunable_settings"]

#: Threads or processes for the local pool: which is faster depends on how
#: much of a job holds the GIL, so the tuner measures it.
EXECUTOR_KIND = TunableSetting(
    key="resources.executor_kind",
    choices=("threads", "processes"),
    default="threads",
    description="Worker kind of the local executor (threads or processes).",
    tags=frozenset({"executor"}),
)


@qdframe.hookimpl
def qdframe_register_executors(registry: Registrar) -> None:
    """Register ``local``, the default executor."""
    registry.add(
        "local",
        lazy_factory("qdframe_executors.local:LocalExecutor"),
        description="thread or process pool on this machine (default)",
    )


@qdframe.hookimpl
def qdframe_register_tunable_settings(registry: Registrar) -> None:
    """Declare the local pool's worker kind as tunable."""
    registry.add(EXECUTOR_KIND.key, EXECUTOR_KIND, description=EXECUTOR_KIND.description)
