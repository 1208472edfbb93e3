"""Loading plugins: entry points, blocking, version checks and the registries.

The plugin manager is built by :func:`load_plugins`; nothing happens at import
time. Built-in plugins are found through the same ``qdframe`` entry-point group
that third-party distributions use. Each entry point is loaded on its own, so a
plugin that fails to import, implements an unknown hook or mismatches a hook's
signature is reported by name and the others still load.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
import types
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from qdframe import hookspecs
from qdframe._version import __version__
from qdframe.errors import RegistryError
from qdframe.registry import CATEGORY_TABLE, Category, Registry, category_named

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "DISABLE_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "LoadedPlugins",
    "PluginFailure",
    "PluginInfo",
    "Registries",
    "default_plugins",
    "load_plugins",
    "reset_default_plugins",
]

ENTRY_POINT_GROUP = "qdframe"
DISABLE_PLUGINS_ENV = "QDFRAME_DISABLE_PLUGINS"
DISABLE_AUTOLOAD_ENV = "QDFRAME_DISABLE_PLUGIN_AUTOLOAD"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginInfo:
    """A plugin that loaded."""

    name: str
    distribution: str
    version: str
    module: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that did not load, or failed while registering."""

    name: str
    distribution: str
    cause: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} from distribution {self.distribution!r}: {self.cause}"


class Registries:
    """One registry per category of the plugin set's table, as attributes by name.

    ``registries.backends`` is the ``backends`` registry; a category added to
    the table (:data:`qdframe.registry.CATEGORY_TABLE`) appears here as well.
    """

    def __init__(
        self, registries: dict[str, Registry[Any]], table: tuple[Category, ...] = CATEGORY_TABLE
    ) -> None:
        self._registries = dict(registries)
        self._table = table

    def __getattr__(self, name: str) -> Registry[Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._registries[name]
        except KeyError:
            raise AttributeError(
                f"no registry {name!r}; categories: {', '.join(self._registries)}"
            ) from None

    def by_category(self, category: str) -> Registry[Any]:
        """The registry of ``category``.

        :raises RegistryError: no such category; the message lists the known ones.
        """
        return self._registries[category_named(category, self._table).name]

    def categories(self) -> list[str]:
        """The category names, in table order."""
        return list(self._registries)

    def __repr__(self) -> str:
        return f"Registries({', '.join(self._registries)})"


@dataclass(frozen=True)
class _ModuleRef:
    """A plugin module given through the API, pickled by its import name."""

    name: str

    def load(self) -> types.ModuleType:
        try:
            return importlib.import_module(self.name)
        except ImportError as exc:
            raise RegistryError(
                f"plugin module {self.name!r} given to load_plugins(plugins=...) cannot be "
                f"imported in this process ({type(exc).__name__}: {exc}); a plugin set sent "
                "to worker processes may hold only modules importable there (on sys.path "
                "or installed) and picklable objects"
            ) from exc


@dataclass(frozen=True)
class _Recipe:
    """How to build the same plugin set again in another process.

    ``token`` names the set: a worker builds each set once and reuses it for
    every job that carries the same token.
    """

    token: str
    blocked: tuple[str, ...]
    autoload: bool
    given: tuple[tuple[str, object], ...]
    categories: tuple[Category, ...] = CATEGORY_TABLE


_REBUILT: dict[str, LoadedPlugins] = {}
_REBUILT_LOCK = threading.Lock()


def _rebuild(recipe: _Recipe) -> LoadedPlugins:
    """The plugin set ``recipe`` describes, built at most once per process."""
    with _REBUILT_LOCK:
        found = _REBUILT.get(recipe.token)
        if found is None:
            given = [
                (name, obj.load() if isinstance(obj, _ModuleRef) else obj)
                for name, obj in recipe.given
            ]
            found = _build(recipe, given)
            _REBUILT[recipe.token] = found
        return found


@dataclass(eq=False)  # a plugin set is compared and hashed by identity
class LoadedPlugins:
    """A plugin manager together with what loaded, what failed and the registries.

    A set built by :func:`load_plugins` pickles as the recipe that built it
    (entry points on or off, blocked names, the plugins given through the API,
    modules by import name), so jobs sent to process pools and Dask workers
    carry the run's plugin set with them; a worker builds it once.
    """

    manager: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    failures: list[PluginFailure] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    _registries: Registries | None = None
    _recipe: _Recipe | None = field(default=None, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, tuple[_Recipe]]:
        if self._recipe is None:
            raise TypeError(
                "this LoadedPlugins was not built by qdframe.load_plugins, so it cannot be "
                "sent to another process; build plugin sets with load_plugins()"
            )
        return _rebuild, (self._recipe,)

    @property
    def hook(self) -> Any:
        return self.manager.hook

    @property
    def registries(self) -> Registries:
        """The registries, collected from every plugin on first access."""
        if self._registries is None:
            self._registries = self._collect_registries()
        return self._registries

    @property
    def categories(self) -> tuple[Category, ...]:
        """The plugin categories of this set (:data:`qdframe.registry.CATEGORY_TABLE`)."""
        return self._recipe.categories if self._recipe is not None else CATEGORY_TABLE

    def _collect_registries(self) -> Registries:
        built: dict[str, Registry[Any]] = {}
        for category in self.categories:
            registry = category.new_registry()
            hook_name = category.hook
            caller = getattr(self.manager.hook, hook_name)
            # Call each implementation separately so an entry records its plugin
            # and one plugin's failure does not hide the others' entries.
            for impl in caller.get_hookimpls():
                kwargs = {"registry": registry}
                try:
                    with registry.owned_by(impl.plugin_name):
                        impl.function(*[kwargs[arg] for arg in impl.argnames])
                except Exception as exc:  # a plugin's bug must not stop the others
                    failure = PluginFailure(
                        impl.plugin_name,
                        self._distribution_of(impl.plugin_name),
                        f"{hook_name} failed: {type(exc).__name__}: {exc}",
                    )
                    self.failures.append(failure)
                    _log.warning("%s", failure)
            built[category.name] = registry
        return Registries(built, self.categories)

    def _distribution_of(self, plugin_name: str) -> str:
        for info in self.plugins:
            if info.name == plugin_name:
                return info.distribution
        return "<api>"

    def registered_by(self, plugin_name: str) -> dict[str, list[str]]:
        """What one plugin registered, by category (empty categories omitted)."""
        found: dict[str, list[str]] = {}
        for category in self.categories:
            names = [
                e.name
                for e in self.registries.by_category(category.name).entries()
                if e.plugin == plugin_name
            ]
            if names:
                found[category.name] = names
        return found


def _category_specs(table: tuple[Category, ...]) -> type | None:
    """Hookspecs for the table's categories that :mod:`qdframe.hookspecs` does not declare.

    A category added to the table gets its registration hook here, so it is
    declared in that one place; the built-in ones keep their hand-written,
    documented hookspecs.
    """
    missing = [c for c in table if not hasattr(hookspecs, c.hook)]
    if not missing:
        return None
    namespace: dict[str, Any] = {}
    for category in missing:

        def spec(registry: Any) -> None:
            """Fires once per plugin set, when the registry is first needed."""

        spec.__name__ = spec.__qualname__ = category.hook
        spec.__doc__ = (
            f"Register {category.description or category.name}\n\n"
            "Fires once per plugin set, when the registry is first needed.\n\n"
            f":param registry: add each as ``registry.add(name, obj)``: {category.signature}."
        )
        namespace[category.hook] = hookspecs.hookspec(spec)
    return type("_CategorySpecs", (), namespace)


def _env_disabled() -> list[str]:
    raw = os.environ.get(DISABLE_PLUGINS_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _env_autoload() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in {"1", "true", "yes"}


def _check_requires(plugin: object) -> str | None:
    spec = getattr(plugin, "QDFRAME_REQUIRES", None)
    if spec is None:
        return None
    try:
        specifier = SpecifierSet(str(spec))
    except InvalidSpecifier:
        return f"QDFRAME_REQUIRES = {spec!r} is not a valid version specifier"
    if Version(__version__) not in specifier:
        return f"requires qdframe{spec} but qdframe {__version__} is installed"
    return None


def _unknown_hooks(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    unknown = []
    for caller in manager.get_hookcallers(plugin) or []:
        if not caller.has_spec():
            unknown.append(caller.name)
    return sorted(unknown)


def _register(
    loaded: LoadedPlugins, plugin: object, name: str, distribution: str, version: str
) -> None:
    manager = loaded.manager
    problem = _check_requires(plugin)
    if problem is None:
        try:
            manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            problem = f"hook signature mismatch: {exc}"
        else:
            unknown = _unknown_hooks(manager, plugin)
            if unknown:
                manager.unregister(plugin)
                problem = (
                    f"implements unknown hook(s) {', '.join(unknown)}; "
                    "see docs/hooks.md for the hooks qdframe calls"
                )
    if problem is not None:
        failure = PluginFailure(name, distribution, problem)
        loaded.failures.append(failure)
        _log.warning("%s", failure)
        return
    module = getattr(plugin, "__name__", type(plugin).__name__)
    loaded.plugins.append(PluginInfo(name, distribution, version, str(module)))


def load_plugins(
    *,
    disabled: Iterable[str] = (),
    autoload: bool | None = None,
    plugins: Sequence[object | tuple[str, object]] = (),
    categories: Sequence[Category] | None = None,
) -> LoadedPlugins:
    """Build a plugin manager and load plugins into it.

    :param disabled: plugin (entry-point) names to block, in addition to those
        in ``QDFRAME_DISABLE_PLUGINS``.
    :param autoload: load the ``qdframe`` entry points; ``None`` follows
        ``QDFRAME_DISABLE_PLUGIN_AUTOLOAD``.
    :param plugins: plugin objects (modules, classes, instances) to register
        directly, optionally as ``(name, plugin)`` pairs.
    :param categories: the plugin categories (default
        :data:`qdframe.registry.CATEGORY_TABLE`); a category not in the
        built-in table gets its registration hook and registry from its row.
    :returns: the plugin manager with the list of loaded and failed plugins.
    """
    # Resolved here, so a worker rebuilds the same set whatever its environment says.
    blocked = sorted({*disabled, *_env_disabled()})
    use_entry_points = _env_autoload() if autoload is None else autoload
    given = [_named(item) for item in plugins]
    recipe = _Recipe(
        uuid.uuid4().hex,
        tuple(blocked),
        use_entry_points,
        tuple(
            (name, _ModuleRef(p.__name__) if isinstance(p, types.ModuleType) else p)
            for name, p in given
        ),
        tuple(categories) if categories is not None else CATEGORY_TABLE,
    )
    return _build(recipe, given)


def _build(recipe: _Recipe, given: Sequence[tuple[str, object]]) -> LoadedPlugins:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    extra = _category_specs(recipe.categories)
    if extra is not None:
        manager.add_hookspecs(extra)
    blocked = list(recipe.blocked)
    loaded = LoadedPlugins(manager=manager, blocked=blocked, _recipe=recipe)
    for name in blocked:
        manager.set_blocked(name)

    if recipe.autoload:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else "<unknown>"
            version = ep.dist.version if ep.dist is not None else "?"
            if manager.is_blocked(ep.name):
                continue
            if manager.has_plugin(ep.name):
                loaded.failures.append(
                    PluginFailure(ep.name, dist, "another plugin with this name is already loaded")
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # report any import-time failure by name
                failure = PluginFailure(
                    ep.name, dist, f"failed to import {ep.value}: {type(exc).__name__}: {exc}"
                )
                loaded.failures.append(failure)
                _log.warning("%s", failure)
                continue
            _register(loaded, plugin, ep.name, dist, version)

    for name, plugin in given:
        if manager.is_blocked(name):
            continue
        _register(loaded, plugin, name, "<api>", "")
    return loaded


def _named(item: object | tuple[str, object]) -> tuple[str, object]:
    if isinstance(item, tuple):
        name, plugin = item
        return str(name), plugin
    return getattr(item, "__name__", None) or type(item).__name__, item


@functools.cache
def _cached_default() -> LoadedPlugins:
    return load_plugins()


def default_plugins() -> LoadedPlugins:
    """The process-wide plugin set used by :func:`qdframe.get_backend` and friends.

    Built on first use from the environment; :func:`reset_default_plugins`
    forgets it (tests and long-running services that install plugins).
    """
    return _cached_default()


def reset_default_plugins() -> None:
    _cached_default.cache_clear()


def plugin_error_summary(loaded: LoadedPlugins) -> list[str]:
    """One line per failure, for CLI warnings."""
    return [str(f) for f in loaded.failures]
