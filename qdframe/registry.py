"""Named registries that plugins fill through the registration hooks.

A :class:`Registry` holds the objects of one category (backends, topologies,
...). The categories themselves are data: :data:`CATEGORY_TABLE` has one
:class:`Category` row each, from which the registration hookspecs, the
registries and the loading derive, so a category is added in one place.
Plugins never see the registry itself: each registration hook receives a
:class:`Registrar` bound to the calling plugin, so every entry records who
added it and a duplicate name can name both plugins.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from qdframe.errors import RegistryError

__all__ = [
    "CATEGORIES",
    "CATEGORY_TABLE",
    "KNOWN_OPTIONAL",
    "Category",
    "FactoryCall",
    "Registrar",
    "Registry",
    "RegistryEntry",
    "category_named",
]

T = TypeVar("T")


def _is_callable(name: str, obj: Any) -> str | None:
    return None if callable(obj) else f"expected a callable factory, got {type(obj).__name__}"


def _is_profile(name: str, obj: Any) -> str | None:
    from qdframe_hal.profile import HardwareProfile

    if not isinstance(obj, HardwareProfile):
        return f"expected a qdframe_hal.HardwareProfile, got {type(obj).__name__}"
    if obj.system_type != name:
        return f"registered as {name!r} but its system_type is {obj.system_type!r}"
    return None


def _is_setting(name: str, obj: Any) -> str | None:
    from qdframe.settings import TunableSetting

    if not isinstance(obj, TunableSetting):
        return f"expected a qdframe.settings.TunableSetting, got {type(obj).__name__}"
    if obj.key != name:
        return f"registered as {name!r} but its key is {obj.key!r}"
    return None


def _has_handle(name: str, obj: Any) -> str | None:
    return None if callable(getattr(obj, "handle", None)) else "expected an object with handle()"


@dataclass(frozen=True)
class FactoryCall:
    """The arguments the core always passes when it calls a category's factories.

    A factory is registered only if it can be called with them (more
    keyword options may follow, as the configuration gives them); the
    registry checks this with :func:`inspect.signature` when it is added.

    :param positional: names of the arguments passed by position, in order.
    :param keywords: names of the arguments always passed by keyword.
    """

    positional: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def problem(self, factory: Any) -> str | None:
        """Why ``factory`` cannot be called with these arguments; ``None`` when it can.

        A callable without a signature to read (some builtins) is accepted:
        it is checked when it is called.
        """
        try:
            signature = inspect.signature(factory)
        except (TypeError, ValueError):
            return None
        try:
            signature.bind(*[None] * len(self.positional), **dict.fromkeys(self.keywords))
        except TypeError as exc:
            name = getattr(factory, "__name__", type(factory).__name__)
            return f"{name}{signature} cannot take that call: {exc}"
        return None


@dataclass(frozen=True)
class Category:
    """One kind of thing plugins register: the single place a category is declared.

    The registration hookspec, the registry and the loading of a category all
    derive from its row of :data:`CATEGORY_TABLE`.

    :param name: the registry's name, plural (``"backends"``); also the
        attribute of :class:`qdframe.plugins.Registries`.
    :param kind: one entry, in messages (``"backend"``).
    :param hook: the registration hook that fills it (``qdframe_register_<name>``).
    :param holds: ``"factory"`` (the registry holds callables that build the
        object) or ``"object"`` (the registry holds the objects themselves).
    :param signature: how a registered factory is called, or what an object is.
        For factories it is checked on ``add``: see ``call``.
    :param protocol: the dotted name of the class entries satisfy.
    :param validate: returns why an object is not valid here, ``None`` when it is.
    :param description: what the category is for (the hook's documentation
        when it has no hand-written hookspec).
    :param call: for ``holds="factory"``, the arguments the core always passes
        (:class:`FactoryCall`); a factory that cannot take them is refused on
        ``add`` with a :class:`~qdframe.errors.RegistryError` that names the
        category and ``signature``.
    """

    name: str
    kind: str
    hook: str
    holds: str
    signature: str
    protocol: str
    validate: Callable[[str, Any], str | None] | None = None
    description: str = ""
    call: FactoryCall = FactoryCall()

    def __post_init__(self) -> None:
        if self.holds not in ("factory", "object"):
            raise ValueError(f"category {self.name!r}: holds must be 'factory' or 'object'")
        if self.hook != f"qdframe_register_{self.name}":
            raise ValueError(
                f"category {self.name!r}: its hook must be qdframe_register_{self.name}"
            )

    def new_registry(self) -> Registry[Any]:
        """An empty registry for this category."""
        return Registry(
            self.name,
            validate=self.validate,
            kind=self.kind,
            check_factory=self.factory_problem if self.holds == "factory" else None,
        )

    def factory_problem(self, factory: Any) -> str | None:
        """Why ``factory`` does not fit this category's call; ``None`` when it does."""
        problem = self.call.problem(factory)
        if problem is None:
            return None
        return f"a {self.kind} factory is called as {self.signature}, but {problem}"


#: Every plugin category, in the order registries are filled.
CATEGORY_TABLE: tuple[Category, ...] = (
    Category(
        "backends",
        "backend",
        "qdframe_register_backends",
        "factory",
        "factory(**options) -> Backend",
        "qdframe.protocols.Backend",
        _is_callable,
        "Simulator backends.",
    ),
    Category(
        "topologies",
        "topology",
        "qdframe_register_topologies",
        "factory",
        "builder(num_nodes, *, qubits_per_node, comm_qubits_per_node, link=None, **params)",
        "qdframe.protocols.TopologyBuilder",
        _is_callable,
        "Network topologies.",
        FactoryCall(("num_nodes",), ("qubits_per_node", "comm_qubits_per_node", "link")),
    ),
    Category(
        "allocators",
        "allocator",
        "qdframe_register_allocators",
        "factory",
        "factory(**options) -> Allocator; OPTIONS naming plugins, executor or config "
        "(with CONFIG_SECTION) get the run's",
        "qdframe.protocols.Allocator",
        _is_callable,
        "Qubit allocators.",
    ),
    Category(
        "optimizers",
        "optimizer",
        "qdframe_register_optimizers",
        "factory",
        "factory(**options) -> Optimizer",
        "qdframe.protocols.Optimizer",
        _is_callable,
        "Circuit and route optimizers.",
    ),
    Category(
        "error_handlers",
        "error handler",
        "qdframe_register_error_handlers",
        "object",
        "an object with handles and handle(error, context, attempt)",
        "qdframe.protocols.ErrorHandler",
        _has_handle,
        "Error handlers asked by the built-in qdframe_handle_error.",
    ),
    Category(
        "executors",
        "executor",
        "qdframe_register_executors",
        "factory",
        "factory(*, config, **options) -> Executor (config: the SystemConfig)",
        "qdframe.protocols.Executor",
        _is_callable,
        "Executors of independent jobs.",
        FactoryCall(keywords=("config",)),
    ),
    Category(
        "mitigators",
        "mitigator",
        "qdframe_register_mitigators",
        "factory",
        "factory(**options) -> Mitigator",
        "qdframe.protocols.Mitigator",
        _is_callable,
        "Error mitigators.",
    ),
    Category(
        "communication_modes",
        "communication mode",
        "qdframe_register_communication_modes",
        "factory",
        "factory(**options) -> CommunicationMode (called without options)",
        "qdframe.distribute.modes.CommunicationMode",
        _is_callable,
        "Communication modes carried out outside the EPR lowering.",
    ),
    Category(
        "hardware_profiles",
        "hardware profile",
        "qdframe_register_hardware_profiles",
        "object",
        "a HardwareProfile whose system_type is its name",
        "qdframe_hal.HardwareProfile",
        _is_profile,
        "Hardware profiles the HAL matches a host against.",
    ),
    Category(
        "tunable_settings",
        "tunable setting",
        "qdframe_register_tunable_settings",
        "object",
        "a TunableSetting whose key is its name",
        "qdframe.settings.TunableSetting",
        _is_setting,
        "Settings the tuner may vary and the sharing network may apply.",
    ),
)

#: Registry categories and the registration hook that fills each (from the table).
CATEGORIES: dict[str, str] = {c.name: c.hook for c in CATEGORY_TABLE}


def category_named(name: str, table: tuple[Category, ...] = CATEGORY_TABLE) -> Category:
    """The row of ``table`` for category ``name``.

    :raises RegistryError: no such category; the message lists the known ones.
    """
    for category in table:
        if category.name == name:
            return category
    known = ", ".join(c.name for c in table)
    raise RegistryError(f"unknown registry category {name!r}; available: {known}")


#: Names provided by built-in plugins that need an optional extra, so an
#: unknown-name error can say what to install.
KNOWN_OPTIONAL: dict[tuple[str, str], str] = {
    ("backends", "aer"): "aer",
    ("executors", "dask"): "dask",
    ("allocators", "hypergraph"): "partition",
    ("communication_modes", "classical"): "cutting",
    ("communication_modes", "hybrid"): "cutting",
}

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
    :param kind: one entry's name in messages (default: the category less its "s").
    :param check_factory: returns why a factory cannot be called the way the
        category calls it, ``None`` when it can. Applied on :meth:`add`; for a
        factory that imports its target on first use
        (:func:`qdframe.plugin.lazy_factory`) on the first :meth:`get`, so that
        registering it still imports nothing.
    """

    def __init__(
        self,
        category: str,
        *,
        validate: Callable[[str, Any], str | None] | None = None,
        kind: str | None = None,
        check_factory: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.category = category
        self._kind = kind or category.removesuffix("s").replace("_", " ")
        self._validate = validate
        self._check_factory = check_factory
        self._unchecked: set[str] = set()
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
        if self._check_factory is not None:
            if getattr(type(obj), "__qdframe_lazy__", False):
                self._unchecked.add(name)  # its signature is known once it is imported
            else:
                self._refuse_unfit(name, obj, self._owner)
        self._entries[name] = RegistryEntry(name, obj, description, self._owner)

    def _refuse_unfit(self, name: str, obj: Any, plugin: str) -> None:
        assert self._check_factory is not None
        problem = self._check_factory(obj)
        if problem:
            raise RegistryError(
                f"plugin {plugin!r} registered invalid {self._kind} {name!r}: {problem}"
            )

    def get(self, name: str) -> T:
        """Return the object registered as ``name``.

        :raises RegistryError: ``name`` is unknown; the message lists the known
            names and, for a known optional plugin, the extra to install. Or
            a factory registered through :func:`qdframe.plugin.lazy_factory`
            turns out, once imported, not to fit the category's call.
        """
        return self.entry(name).obj

    def entry(self, name: str) -> RegistryEntry[T]:
        try:
            found = self._entries[name]
        except KeyError:
            raise RegistryError(self._unknown_message(name)) from None
        if name in self._unchecked:
            self._refuse_unfit(name, found.obj, found.plugin)
            self._unchecked.discard(name)
        return found

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
