"""The ``dask`` plugin: registers the ``dask`` executor when ``distributed`` is installed.

Without it nothing is registered, and asking for ``dask`` names the extra to
install (``pip install "qdframe[dask]"``).
"""

from __future__ import annotations

import importlib.util

import qdframe
from qdframe.plugin import Registrar, lazy_factory

__all__ = ["dask_available", "qdframe_register_executors"]


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported."""
    return importlib.util.find_spec("distributed") is not None


@qdframe.hookimpl
def qdframe_register_executors(registry: Registrar) -> None:
    """Register ``dask`` (Dask distributed: a scheduler address or a LocalCluster)."""
    if dask_available():
        registry.add(
            "dask",
            lazy_factory("qdframe_dask.executor:DaskExecutor"),
            description="Dask distributed: [resources] dask_scheduler_address or a LocalCluster",
        )
