"""The conformance kits by registry category, and one call to run a kit.

>>> import qdframe
>>> from qdframe.testing.kits import check_plugin
>>> plugins = qdframe.load_plugins()
>>> check_plugin("topologies", "ring", plugins=plugins).ok
True

Backends have their own suite (:class:`qdframe.testing.BackendConformance`),
which needs pytest; every kit here is plain Python.
"""

from __future__ import annotations

from typing import Any

from qdframe.errors import ConfigError
from qdframe.testing._kit import (
    CheckResult,
    CheckSkipped,
    ConformanceError,
    ConformanceReport,
    Kit,
)
from qdframe.testing.allocators import AllocatorKit
from qdframe.testing.error_handlers import ErrorHandlerKit
from qdframe.testing.executors import ExecutorKit
from qdframe.testing.mitigators import MitigatorKit
from qdframe.testing.optimizers import OptimizerKit
from qdframe.testing.profiles import HardwareProfileKit
from qdframe.testing.topologies import TopologyKit

__all__ = [
    "KITS",
    "AllocatorKit",
    "CheckResult",
    "CheckSkipped",
    "ConformanceError",
    "ConformanceReport",
    "ErrorHandlerKit",
    "ExecutorKit",
    "HardwareProfileKit",
    "Kit",
    "MitigatorKit",
    "OptimizerKit",
    "TopologyKit",
    "check_plugin",
    "kit_for",
]

#: The kit of each registry category.
KITS: dict[str, type[Kit]] = {
    kit.category: kit
    for kit in (
        AllocatorKit,
        TopologyKit,
        ExecutorKit,
        ErrorHandlerKit,
        OptimizerKit,
        MitigatorKit,
        HardwareProfileKit,
    )
}

_ALIASES = {k.removesuffix("s"): k for k in KITS} | {"topology": "topologies"}


def kit_for(category: str) -> type[Kit]:
    """The kit of a category (``"allocators"``, or the singular ``"allocator"``).

    :raises ConfigError: no kit checks that category.
    """
    key = _ALIASES.get(category, category)
    if key not in KITS:
        raise ConfigError(
            f"no conformance kit for category {category!r}",
            allowed=", ".join(sorted(KITS)) + " (backends: qdframe.testing.BackendConformance)",
        )
    return KITS[key]


def check_plugin(
    category: str,
    name: str | None = None,
    *,
    plugins: Any = None,
    subject: Any = None,
    options: dict[str, Any] | None = None,
    capabilities: dict[str, Any] | None = None,
    checks: list[str] | None = None,
) -> ConformanceReport:
    """Run the kit of ``category`` against a registered plugin object or ``subject``.

    :param name: the registered name in ``plugins`` (ignored for lookup when
        ``subject`` is given, but still used in messages).
    :param plugins: the plugin set (:func:`qdframe.load_plugins`); the
        process-wide default set when omitted and ``subject`` is not given.
    :param subject: the object to check instead of a registered one (what the
        registry would hold: a factory, a builder, a handler, a profile).
    :param options: keyword options for a factory.
    :param capabilities: what the plugin declares (see each kit's module).
    :param checks: only these checks (names from ``kit.checks()``).
    :raises ConfigError: unknown category, or neither ``name`` nor ``subject``.
    :raises RegistryError: ``name`` is not registered.
    """
    kit = kit_for(category)
    if subject is None:
        if name is None:
            raise ConfigError("check_plugin needs the plugin's registered name or subject=")
        if plugins is None:
            from qdframe.plugins import default_plugins

            plugins = default_plugins()
        subject = plugins.registries.by_category(kit.category).get(name)
    if checks:
        unknown = sorted(set(checks) - set(kit.checks()))
        if unknown:
            raise ConfigError(
                f"{kit.__name__} has no check(s) {', '.join(unknown)}",
                allowed=", ".join(kit.checks()),
            )
    instance = kit(subject, name=name, plugins=plugins, options=options, capabilities=capabilities)
    return instance.run(checks)
