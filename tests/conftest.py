"""Shared fixtures: isolated plugin state and on-disk plugin distributions."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qdframe.plugins import DISABLE_AUTOLOAD_ENV, DISABLE_PLUGINS_ENV, reset_default_plugins

DistMaker = Callable[..., Path]


@pytest.fixture(autouse=True)
def _isolated_plugin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the real installed plugins, unaffected by the caller's env."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    reset_default_plugins()
    yield
    reset_default_plugins()


def write_distribution(
    root: Path,
    name: str,
    modules: dict[str, str],
    entry_points: dict[str, str],
    version: str = "1.0",
) -> Path:
    """Write an installed distribution (modules + ``.dist-info``) under ``root``.

    This is the layout pip produces in site-packages, so ``importlib.metadata``
    discovers it exactly as it would a pip-installed plugin.
    """
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        path = root / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[qdframe]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DistMaker:
    """Install a plugin distribution on ``sys.path`` for the duration of one test."""
    counter = iter(range(1000))

    def install(
        name: str, modules: dict[str, str], entry_points: dict[str, str], version: str = "1.0"
    ) -> Path:
        root = tmp_path / f"site{next(counter)}"
        write_distribution(root, name, modules, entry_points, version)
        monkeypatch.syspath_prepend(str(root))
        return root

    yield install  # type: ignore[misc]
    for module in [m for m in sys.modules if m.startswith("qdf_test_")]:
        del sys.modules[module]
