"""Registers the numpy backend and its tunable settings with qdframe."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, lazy_factory
from qdframe_numpy.options import BACKEND_NAME, tunable_settings

__all__ = ["qdframe_register_backends", "qdframe_register_tunable_settings"]


@qdframe.hookimpl
def qdframe_register_backends(registry: Registrar) -> None:
    """Register ``"numpy"``, the default statevector backend."""
    registry.add(
        BACKEND_NAME,
        lazy_factory("qdframe_numpy.backend:NumpyBackend"),
        description="Statevector simulator on numpy (default): fusion, trajectories, noise",
    )


@qdframe.hookimpl
def qdframe_register_tunable_settings(registry: Registrar) -> None:
    """Declare the numpy backend's precision, fusion width and chunk size."""
    for setting in tunable_settings():
        registry.add(setting.key, setting, description=setting.description)
