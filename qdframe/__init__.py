"""qdframe: plan, run and verify quantum circuits on networks of small QPUs."""

from __future__ import annotations

from qdframe._version import __version__
from qdframe.backend import BackendCapabilities, BackendResult, get_backend
from qdframe.config import SystemConfig, load_config
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
from qdframe.hookspecs import hookimpl
from qdframe.plugins import default_plugins, load_plugins
from qdframe.system import DistributedSystem, RunResult
from qdframe.verify import VerificationResult, verify

__all__ = [
    "BackendCapabilities",
    "BackendResult",
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
