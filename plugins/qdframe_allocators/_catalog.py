"""Allocators by name, for allocators that run other allocators.

A name is looked up in the plugin set the caller passes (the run's: built-in
and third-party allocators alike), or, when the caller passes none, in a
built-in catalog the caller also passes. There is no process-wide fallback:
which allocators a name can reach is always the caller's explicit choice.

:func:`leaf_allocators` lists the built-ins that run no other allocator, so this
module imports none of the composite ones (``annealing``,
``topology_aware``, ``auto``, ``ensemble``); each of those extends the
catalog with the composites it may run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from qdframe.plugin import Allocator, ConfigError, RegistryError
from qdframe_allocators.baseline import RoundRobinAllocator, SequentialAllocator
from qdframe_allocators.fm import FMAllocator
from qdframe_allocators.greedy import GreedyAllocator
from qdframe_allocators.hypergraph import HypergraphAllocator, kahypar_available
from qdframe_allocators.locality import LocalityAllocator
from qdframe_allocators.temporal import TemporalAllocator

if TYPE_CHECKING:
    from qdframe.plugin import LoadedPlugins

__all__ = ["AllocatorFactory", "leaf_allocators", "make_allocator"]

#: A class or function that builds an allocator from keyword options.
AllocatorFactory = Callable[..., Any]


def leaf_allocators() -> dict[str, AllocatorFactory]:
    """The built-in allocators that run no other allocator (``hypergraph``
    only when ``kahypar`` imports)."""
    catalog: dict[str, AllocatorFactory] = {
        "round_robin": RoundRobinAllocator,
        "sequential": SequentialAllocator,
        "greedy": GreedyAllocator,
        "fm": FMAllocator,
        "locality": LocalityAllocator,
        "temporal": TemporalAllocator,
    }
    if kahypar_available():
        catalog["hypergraph"] = HypergraphAllocator
    return catalog


def make_allocator(
    name: str,
    *,
    plugins: LoadedPlugins | None,
    builtins: Mapping[str, AllocatorFactory] | None = None,
    **options: Any,
) -> Allocator:
    """An allocator instance by name.

    :param plugins: the run's plugin set; when given, the name is looked up
        in its allocator registry only. ``None`` means the built-in catalog
        ``builtins`` only (stated in the error for any other name).
    :param builtins: the built-in catalog used without a plugin set
        (default: :func:`leaf_allocators`).
    :raises ConfigError: the name is not found where it was looked up.
    """
    if plugins is not None:
        try:
            factory = plugins.registries.allocators.get(name)
        except RegistryError as exc:
            raise ConfigError(str(exc)) from None
    else:
        if builtins is None:
            builtins = leaf_allocators()
        found = builtins.get(name)
        if found is None:
            raise ConfigError(
                f"allocator {name!r} is not in the built-in catalog; pass the run's plugin "
                "set (option 'plugins') to use allocators registered by other plugins",
                allowed=", ".join(sorted(builtins)),
            )
        factory = found
    allocator: Allocator = factory(**options)
    return allocator
