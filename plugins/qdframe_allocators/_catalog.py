"""Allocators by name, for allocators that run other allocators.

The built-in classes are found here directly; any other name is looked up in
the allocator registry of the plugin set the caller passes (the run's), so
third-party allocators can be ensemble members too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from qdframe.plugin import Allocator, ConfigError

if TYPE_CHECKING:
    from qdframe.plugin import LoadedPlugins

__all__ = ["builtin_names", "make_allocator"]


@functools.cache
def _builtins() -> dict[str, Any]:
    # Exactly what this plugin registers, so the two lists cannot drift apart.
    from qdframe.plugin import Registry
    from qdframe_allocators.plugin import qdframe_register_allocators

    registry: Registry[Any] = Registry("allocators")
    with registry.owned_by("allocators"):
        qdframe_register_allocators(registry)
    return {name: registry.get(name) for name in registry.names()}


def builtin_names() -> list[str]:
    return sorted(_builtins())


def make_allocator(name: str, *, plugins: LoadedPlugins | None = None, **options: Any) -> Allocator:
    """An allocator instance by name: a built-in class, else from ``plugins``.

    :param plugins: the run's plugin set, searched for names that are not
        built in; without it only built-in names are known.
    :raises ConfigError: the name is neither built in nor registered.
    """
    factory = _builtins().get(name)
    if factory is None:
        if plugins is None:
            raise ConfigError(
                f"allocator {name!r} is not built in and no plugin set was given to look it up in",
                allowed=", ".join(builtin_names()),
            )
        from qdframe.plugin import RegistryError

        try:
            factory = plugins.registries.allocators.get(name)
        except RegistryError as exc:
            raise ConfigError(str(exc)) from None
    allocator: Allocator = factory(**options)
    return allocator
