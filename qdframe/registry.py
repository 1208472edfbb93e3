"""Named registries that plugins fill through the registration hooks.

A :class:`Registry` holds the objects of one category (backends, topologies,
...). Plugins never see the registry itself: each registration hook receives a
:class:`Registrar` bound to the calling plugin, so every entry records who
added it and a duplicate name can name both plugins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from qdframe.errors import RegistryError

__all__ = [
    "CATEGORIES",
    "KNOWN_OPTIONAL",
    "Registrar",
    "Registry",
    "RegistryEntry",
]

T = TypeVar("T")

#: Registry categories and the registration hook that fills each.
CATEGORIES: dict[str, str] = {
    "backends": "qdframe_register_backends",
    "topologies": "qdframe_register_topologies",
    "allocators": "qdframe_register_allocators",
    "optimizers": "qdframe_register_optimizers",
    "error_handlers": "qdframe_register_error_handlers",
    "executors": "qdframe_register_executors",
    "mitigators": "qdframe_register_mitigators",
    "communication_modes": "qdframe_register_communication_modes",
    "hardware_profiles": "qdframe_register_hardware_profiles",
    "tunable_settings": "qdframe_register_tunable_settings",
}

#: Names provided by built-in plugins that need an optional extra, so an
#: unknown-name error can say what to install.
KNOWN_OPTIONAL: dict[tuple[str, str], str] = {
    ("backends", "aer"): "aer",
    ("executors", "dask"): "dask",
    ("allocators", "hypergraph"): "partition",
    ("communication_modes", "classical"): "cutting",
    ("communication_modes", "hybrid"): "cutting",
}

_SINGULAR = {"topologies": "topology"}

_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")


class Registrar(Protocol):
    """What a registration hook receives: a registry bound to one plugin."""

    @property
    def category(self) -> str:
        """The category being filled, e.g. ``"backends"``."""

    def add(self, name: str, obj: Any, *, description: str = "") -> None:
        """Register ``obj`` under ``name``.

        :raises RegistryError: the name is malformed, already taken (the
            message names both plugins) or ``obj`` is not valid for the
            category.
        """


@dataclass(frozen=True)
class RegistryEntry(Generic[T]):
    """One registered object and where it came from."""

    name: str
    obj: T
    description: str
    plugin: str


class Registry(Generic[T]):
    """The objects of one category, by name.

    :param category: the category name, e.g. ``"backends"``.
    :param validate: returns an error message when an object is not valid for
        this category, ``None`` when it is.
    """

    def __init__(
        self, category: str, *, validate: Callable[[str, Any], str | None] | None = None
    ) -> None:
        self.category = category
        self._kind = _SINGULAR.get(category, category.removesuffix("s")).replace("_", " ")
        self._validate = validate
        self._entries: dict[str, RegistryEntry[T]] = {}
        self._owner = "<api>"

    @contextmanager
    def owned_by(self, plugin: str) -> Iterator[Registry[T]]:
        """Attribute every :meth:`add` inside the block to ``plugin``."""
        previous, self._owner = self._owner, plugin
        try:
            yield self
        finally:
            self._owner = previous

    def add(self, name: str, obj: T, *, description: str = "") -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegistryError(
                f"plugin {self._owner!r} registered {self._kind} name {name!r}: "
                "names must start with a lowercase letter and use only a-z, 0-9, '_', '-', '.'"
            )
        existing = self._entries.get(name)
        if existing is not None:
            raise RegistryError(
                f"{self._kind} {name!r} is registered twice: by plugin "
                f"{existing.plugin!r} and by plugin {self._owner!r}; block one of them "
                "with QDFRAME_DISABLE_PLUGINS or [integration] disabled_plugins"
            )
        if self._validate is not None:
            problem = self._validate(name, obj)
            if problem:
                raise RegistryError(
                    f"plugin {self._owner!r} registered invalid {self._kind} {name!r}: {problem}"
                )
        self._entries[name] = RegistryEntry(name, obj, description, self._owner)

    def get(self, name: str) -> T:
        """Return the object registered as ``name``.

        :raises RegistryError: ``name`` is unknown; the message lists the known
            names and, for a known optional plugin, the extra to install.
        """
        return self.entry(name).obj

    def entry(self, name: str) -> RegistryEntry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(self._unknown_message(name)) from None

    def _unknown_message(self, name: str) -> str:
        known = ", ".join(sorted(self._entries)) or "none"
        message = f"unknown {self._kind} {name!r}; available: {known}"
        extra = KNOWN_OPTIONAL.get((self.category, name))
        if extra:
            message += (
                f'. {name!r} is provided by an optional plugin: pip install "qdframe[{extra}]"'
            )
        return message

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[RegistryEntry[T]]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.category!r}, names={self.names()!r})"
