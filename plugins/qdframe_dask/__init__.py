"""The ``dask`` executor: independent jobs on a Dask distributed cluster.

Connects to the scheduler named by ``[resources] dask_scheduler_address`` or
starts a ``distributed.LocalCluster`` (and shuts down only what it started).
Needs the ``dask`` extra: ``pip install "qdframe[dask]"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_dask.executor import DaskExecutor

__all__ = ["DaskExecutor"]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DaskExecutor": "qdframe_dask.executor",
    },
)
