"""Registers the ``aer`` backend and its tunable settings, when Qiskit Aer is installed.

Without ``qiskit-aer`` nothing is registered, and asking for ``aer`` names
the extra to install (``pip install "qdframe[aer]"``). Aer itself is imported
only when a backend is created, so loading plugins stays fast.
"""

from __future__ import annotations

import importlib.util

import qdframe
from qdframe.plugin import Registrar, lazy_factory
from qdframe_aer.options import BACKEND_NAME, tunable_settings

__all__ = ["aer_available", "qdframe_register_backends", "qdframe_register_tunable_settings"]


def aer_available() -> bool:
    """Whether ``qiskit_aer`` is installed."""
    return importlib.util.find_spec("qiskit_aer") is not None


@qdframe.hookimpl
def qdframe_register_backends(registry: Registrar) -> None:
    """Register ``"aer"`` when Qiskit Aer is installed."""
    if aer_available():
        registry.add(
            BACKEND_NAME,
            lazy_factory("qdframe_aer.backend:AerBackend"),
            description="Qiskit Aer: statevector, density matrix, MPS, stabilizer; CPU or GPU",
        )


@qdframe.hookimpl
def qdframe_register_tunable_settings(registry: Registrar) -> None:
    """Declare Aer's method, fusion and precision settings (``backend.aer.*``)."""
    if aer_available():
        for setting in tunable_settings():
            registry.add(setting.key, setting, description=setting.description)
