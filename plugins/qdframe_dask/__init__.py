"""The ``dask`` executor: independent jobs on a Dask distributed cluster.

Connects to the scheduler named by ``[resources] dask_scheduler_address`` or
starts a ``distributed.LocalCluster`` (and shuts down only what it started).
Needs the ``dask`` extra: ``pip install "qdframe[dask]"``.
"""

from __future__ import annotations

from qdframe_dask.executor import DaskExecutor

__all__ = ["DaskExecutor"]
