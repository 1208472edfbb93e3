"""Allocators by name, for allocators that run other allocators.

The built-in classes are found here directly; any other name is looked up in
the process-wide allocator registry, so third-party allocators can be ensemble
members or annealing starts too.
"""

from __future__ import annotations

from typing import Any

from qdframe.errors import ConfigError
from qdframe.protocols import Allocator

__all__ = ["builtin_names", "make_allocator"]


def _builtins() -> dict[str, Any]:
    from qdframe_allocators.baseline import RoundRobinAllocator, SequentialAllocator
    from qdframe_allocators.fm import FMAllocator
    from qdframe_allocators.greedy import GreedyAllocator
    from qdframe_allocators.temporal import TemporalAllocator

    return {
        "round_robin": RoundRobinAllocator,
        "sequential": SequentialAllocator,
        "greedy": GreedyAllocator,
        "fm": FMAllocator,
        "temporal": TemporalAllocator,
    }


def builtin_names() -> list[str]:
    return sorted(_builtins())


def make_allocator(name: str, **options: Any) -> Allocator:
    """An allocator instance by registered name.

    :raises ConfigError: the name is neither built in nor registered.
    """
    factory = _builtins().get(name)
    if factory is None:
        from qdframe.errors import RegistryError
        from qdframe.plugins import default_plugins

        try:
            factory = default_plugins().registries.allocators.get(name)
        except RegistryError as exc:
            raise ConfigError(str(exc)) from None
    allocator: Allocator = factory(**options)
    return allocator
