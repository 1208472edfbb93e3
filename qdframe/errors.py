"""Exception hierarchy shared by core and plugins.

Every error qdframe raises on purpose derives from :class:`QdframeError` and
carries the CLI exit code it maps to, so the command line never has to guess
whether a failure was the user's input (2) or something that went wrong while
working (1).
"""

from __future__ import annotations

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "CapacityError",
    "CircuitError",
    "CommunicationError",
    "ConfigError",
    "DistributionError",
    "HardwareError",
    "PluginError",
    "QdframeError",
    "RegistryError",
    "ResourceError",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class QdframeError(Exception):
    """Base class of every error qdframe raises deliberately."""

    exit_code: int = EXIT_FAILURE


class ConfigError(QdframeError):
    """A configuration file or value is invalid.

    ``source`` names the file (or ``"environment"``), ``key_path`` the dotted
    path of the offending key, and ``allowed`` what would have been accepted.
    """

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key_path: str | None = None,
        allowed: str | None = None,
    ) -> None:
        self.source = source
        self.key_path = key_path
        self.allowed = allowed
        parts = []
        if source:
            parts.append(source)
        if key_path:
            parts.append(key_path)
        prefix = ": ".join(parts)
        text = f"{prefix}: {message}" if prefix else message
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class RegistryError(QdframeError):
    """A name is unknown to a registry, or registered twice."""

    exit_code = EXIT_USAGE


class PluginError(QdframeError):
    """A plugin could not be loaded or misbehaved."""


class DistributionError(QdframeError):
    """A failure while distributing or running a circuit on the network."""


class CommunicationError(DistributionError):
    """A link or classical channel failed (recovery: re-route and retry).

    ``link`` is the failed link as a node pair, when known.
    """

    def __init__(self, message: str, *, link: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.link = link


class ResourceError(DistributionError):
    """A node, qubit or memory budget is missing (recovery: reallocate and retry).

    ``node`` is the failed node, when the error is about one.
    """

    def __init__(self, message: str, *, node: int | None = None) -> None:
        super().__init__(message)
        self.node = node


class HardwareError(DistributionError):
    """A backend or device failed (recovery: classical fallback).

    ``backend`` names the backend that failed, when known.
    """

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        super().__init__(message)
        self.backend = backend


class CapacityError(ResourceError):
    """The network cannot hold the circuit (too few qubits in all).

    A usage error: the request itself does not fit, so nothing is retried.
    """

    exit_code = EXIT_USAGE


class CircuitError(QdframeError):
    """A circuit file or object cannot be used (malformed, unbound parameters, ...)."""

    exit_code = EXIT_USAGE
