"""qdframe.plugin is the plugin-author surface: plugins import only it; it is documented."""

from __future__ import annotations

import ast
import importlib
import inspect
import pickle
import re
import sys
from pathlib import Path

import pytest

import qdframe.plugin as surface

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
GUIDE = ROOT / "docs" / "plugins.md"
SECTION = "## Stable API for plugin authors"
_LOCAL = {"lazy_exports", "lazy_factory"}  # defined in qdframe.plugin itself


def _is_qdframe_submodule(name: str) -> bool:
    base = ROOT / "qdframe" / name
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _violations(package: str, where: str, source: str) -> list[str]:
    """Imports in ``source`` (a module of plugin ``package``) of anything but the surface.

    Allowed: ``qdframe`` and its non-module names, ``qdframe.plugin``, the
    plugin's own package, relative imports and third-party packages. Every
    import counts, wherever it is (module level, ``TYPE_CHECKING``, functions).
    """
    found = []

    def check(module: str, line: int) -> None:
        top = module.split(".")[0]
        if top == "qdframe":
            if module not in ("qdframe", "qdframe.plugin"):
                found.append(f"{where}:{line}: imports {module}")
        elif top.startswith("qdframe_") and top != package:
            found.append(f"{where}:{line}: imports {module}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            check(node.module, node.lineno)
            if node.module == "qdframe":
                for alias in node.names:
                    if alias.name != "plugin" and _is_qdframe_submodule(alias.name):
                        found.append(f"{where}:{node.lineno}: imports qdframe.{alias.name}")
    return found


def test_builtin_plugins_import_only_qdframe_and_qdframe_plugin() -> None:
    found = []
    modules = sorted(PLUGINS.glob("qdframe_*/**/*.py"))
    assert len(modules) > 50  # the scan really sees the plugins
    example = sorted((ROOT / "examples" / "plugin-moebius").glob("qdframe_moebius/*.py"))
    assert example  # the documented third-party example follows the same rule
    for path in [*modules, *example]:
        package = path.parent.name if path in example else path.relative_to(PLUGINS).parts[0]
        rel = str(path.relative_to(ROOT))
        found += _violations(package, rel, path.read_text(encoding="utf-8"))
    assert not found, "plugins must import only qdframe and qdframe.plugin:\n" + "\n".join(found)


def test_the_import_check_flags_every_way_into_the_core() -> None:
    source = """
import qdframe
import qdframe.backend
from qdframe import hookimpl, cost, plugin
from qdframe.plugin import Topology
from qdframe.errors import ConfigError
from qdframe_moebius.topology import build
from . import helpers
import numpy
if TYPE_CHECKING:
    from qdframe_hal.host import HostInfo
def f():
    from qdframe_executors.local import default_worker_count
    import qdframe.distribute.routing
"""
    found = _violations("qdframe_moebius", "m.py", source)
    assert [f.split(": imports ")[1] for f in found] == [
        "qdframe.backend",
        "qdframe.cost",
        "qdframe.errors",
        "qdframe_hal.host",
        "qdframe_executors.local",
        "qdframe.distribute.routing",
    ]


def _section(text: str) -> str:
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    return text[start : following if following != -1 else len(text)]


def _undocumented(names: list[str], text: str) -> list[str]:
    if SECTION not in text:
        return list(names)
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", _section(text)))
    return [name for name in names if name not in documented]


def test_every_exported_name_is_documented() -> None:
    missing = _undocumented(surface.__all__, GUIDE.read_text(encoding="utf-8"))
    assert not missing, f"document these in docs/plugins.md, '{SECTION}': {missing}"


def test_the_documentation_check_finds_a_missing_name() -> None:
    text = f"# Guide\n\n{SECTION}\n\n- `Topology`: a network.\n\n## Next\n\n`Allocation` is here.\n"
    assert _undocumented(["Topology", "Allocation"], text) == ["Allocation"]
    assert _undocumented(["Topology"], "# no section\n`Topology`\n") == ["Topology"]


def test_every_exported_name_resolves_to_its_definition() -> None:
    assert set(surface.__all__) == set(surface._SOURCES) | _LOCAL
    assert surface.__all__ == sorted(surface.__all__, key=lambda n: (not n.isupper(), n))
    for name, module in surface._SOURCES.items():
        assert getattr(surface, name) is getattr(importlib.import_module(module), name), name
    assert set(surface.__all__) <= set(dir(surface))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"'qdframe\.plugin' has no attribute 'cost'"):
        _ = surface.cost  # type: ignore[attr-defined]


_TARGET = '''
LOADED = True

class Builder:
    """Builds things."""

    name = "builder"

    def __init__(self, size: int = 1, *, precision: str = "complex128") -> None:
        self.size, self.precision = size, precision

NOT_CALLABLE = 3
'''


@pytest.fixture
def target_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"lazy_target_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(_TARGET)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_lazy_factory_imports_its_target_on_first_use(target_module: str) -> None:
    factory = surface.lazy_factory(f"{target_module}:Builder")
    assert target_module not in sys.modules
    assert callable(factory)
    built = factory(4, precision="complex64")
    assert target_module in sys.modules
    assert (type(built).__name__, built.size, built.precision) == ("Builder", 4, "complex64")


def test_lazy_factory_reads_the_target_through(target_module: str) -> None:
    factory = surface.lazy_factory(f"{target_module}:Builder")
    assert factory.name == "builder"
    assert factory.__name__ == "Builder"
    assert inspect.getdoc(factory) == "Builds things."
    assert list(inspect.signature(factory).parameters) == ["size", "precision"]
    with pytest.raises(AttributeError):
        _ = factory._hidden
    with pytest.raises(AttributeError):
        _ = factory.missing


def test_lazy_factory_pickles_as_its_target_name(target_module: str) -> None:
    factory = surface.lazy_factory(f"{target_module}:Builder")
    copy = pickle.loads(pickle.dumps(factory))
    assert copy == factory and hash(copy) == hash(factory)
    assert copy(2).size == 2
    assert repr(copy) == f"lazy_factory('{target_module}:Builder')"


@pytest.mark.parametrize("target", ["", "module", "module:", ":name", "module:not-a-name"])
def test_lazy_factory_refuses_a_malformed_target(target: str) -> None:
    with pytest.raises(ValueError, match=r"must be 'package\.module:name'"):
        surface.lazy_factory(target)


def test_lazy_factory_refuses_a_target_that_is_not_callable(target_module: str) -> None:
    factory = surface.lazy_factory(f"{target_module}:NOT_CALLABLE")
    with pytest.raises(TypeError, match="is a int, not a callable"):
        factory()


def test_lazy_factory_registers_in_a_real_plugin_set(target_module: str) -> None:
    import types

    import qdframe

    plugin = types.ModuleType("lazy_plugin")

    @qdframe.hookimpl
    def qdframe_register_backends(registry: surface.Registrar) -> None:
        registry.add("builder", surface.lazy_factory(f"{target_module}:Builder"))

    plugin.qdframe_register_backends = qdframe_register_backends  # type: ignore[attr-defined]
    loaded = qdframe.load_plugins(autoload=False, plugins=[("lazy", plugin)])
    assert loaded.failures == []
    assert target_module not in sys.modules
    assert loaded.registries.backends.get("builder")(3).size == 3


def test_lazy_exports_load_a_package_name_on_first_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "lazy_pkg_example"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from qdframe.plugin import lazy_exports\n"
        "__all__ = ['Builder']\n"
        "__getattr__, __dir__ = lazy_exports(__name__, {'Builder': 'lazy_pkg_example.impl'})\n"
    )
    (package / "impl.py").write_text("class Builder:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("lazy_pkg_example")
        assert "lazy_pkg_example.impl" not in sys.modules
        assert "Builder" in dir(module)
        assert module.Builder.__module__ == "lazy_pkg_example.impl"
        with pytest.raises(AttributeError, match=r"'lazy_pkg_example' has no attribute 'Other'"):
            _ = module.Other
    finally:
        for name in ("lazy_pkg_example", "lazy_pkg_example.impl"):
            sys.modules.pop(name, None)


def test_the_surface_is_reachable_from_the_package() -> None:
    import qdframe

    assert qdframe.plugin is surface
    assert qdframe.plugin.Topology is surface.Topology
