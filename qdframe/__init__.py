"""qdframe: plan, run and verify quantum circuits on networks of small QPUs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qdframe._version import __version__
from qdframe.errors import (
    CommunicationError,
    ConfigError,
    DistributionError,
    HardwareError,
    PluginError,
    QdframeError,
    RegistryError,
    ResourceError,
)

if TYPE_CHECKING:
    from qdframe.backend import BackendCapabilities, BackendResult, BackendResults, get_backend
    from qdframe.config import SystemConfig, load_config
    from qdframe.hookspecs import hookimpl
    from qdframe.plugins import default_plugins, load_plugins
    from qdframe.system import DistributedSystem, RunResult
    from qdframe.verification import VerificationResult, verify

# Everything but the version and the exception types loads on first use, so
# `import qdframe` (and every plugin that imports it) stays light: no pydantic,
# numpy or qiskit until something needs them.
_LAZY = {
    "BackendCapabilities": "qdframe.backend",
    "BackendResult": "qdframe.backend",
    "BackendResults": "qdframe.backend",
    "get_backend": "qdframe.backend",
    "SystemConfig": "qdframe.config",
    "load_config": "qdframe.config",
    "hookimpl": "qdframe.hookspecs",
    "default_plugins": "qdframe.plugins",
    "load_plugins": "qdframe.plugins",
    "DistributedSystem": "qdframe.system",
    "RunResult": "qdframe.system",
    "VerificationResult": "qdframe.verification",
    "verify": "qdframe.verification",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "plugin":  # the plugin-author surface, as `qdframe.plugin.<name>`
        return importlib.import_module("qdframe.plugin")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qdframe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # Lazy names are part of the package's surface: list them (tab completion,
    # `dir(qdframe)`) before they are first used.
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "BackendCapabilities",
    "BackendResult",
    "BackendResults",
    "CommunicationError",
    "ConfigError",
    "DistributedSystem",
    "DistributionError",
    "HardwareError",
    "PluginError",
    "QdframeError",
    "RegistryError",
    "ResourceError",
    "RunResult",
    "SystemConfig",
    "VerificationResult",
    "__version__",
    "default_plugins",
    "get_backend",
    "hookimpl",
    "load_config",
    "load_plugins",
    "verify",
]
