"""Every configuration key is read somewhere outside ``qdframe/config.py``.

A key that nothing reads does nothing when a user sets it. The check lists
every field of the pydantic models behind :class:`qdframe.config.SystemConfig`
and looks, in the source of ``qdframe``, ``hal`` and ``plugins``, for an
attribute read of that name (``config.memory.max_memory_bytes``) or for the
key's dotted path as a string (tunable settings such as
``"resources.executor_workers"``), ``getattr(block, "name")`` included.
Matching is by name, so a key whose name is read elsewhere for another
reason passes; a key whose name appears nowhere cannot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel

from qdframe.config import SystemConfig

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("qdframe", "hal", "plugins")
EXCLUDED = {ROOT / "qdframe" / "config.py"}


def config_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted path, field name)`` of every leaf key under ``model``."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from config_keys(annotation, f"{path}.")
        else:
            yield path, name


def _reads(files: Iterable[Path]) -> tuple[set[str], set[str]]:
    """Attribute names read and string constants, over ``files``."""
    attributes: set[str] = set()
    strings: set[str] = set()
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                attributes.add(node.attr)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                attributes.add(node.args[1].value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    return attributes, strings


def unread_keys(model: type[BaseModel], files: Iterable[Path]) -> list[str]:
    """Dotted paths of the keys under ``model`` that no file in ``files`` reads."""
    attributes, strings = _reads(files)
    return [
        path for path, name in config_keys(model) if name not in attributes and path not in strings
    ]


def _source_files() -> list[Path]:
    files = [p for folder in SOURCES for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if p not in EXCLUDED]


def test_every_configuration_key_is_read_outside_the_config_module() -> None:
    unread = unread_keys(SystemConfig, _source_files())
    assert unread == [], (
        "configuration keys that nothing reads (give them behaviour or remove them "
        f"from qdframe/config.py, examples/*.toml and docs/configuration.md): {unread}"
    )


class _Inner(BaseModel):
    used_key: int = 1
    forgotten_key: int = 2


class _Outer(BaseModel):
    inner: _Inner = _Inner()
    by_path: str = ""


def test_the_checker_reports_a_key_nothing_reads(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text(
        "def f(config):\n"
        "    config.forgotten_key = 3  # a write is not a read\n"
        "    return config.inner.used_key, 'by_path'\n",
        encoding="utf-8",
    )
    assert unread_keys(_Outer, [source]) == ["inner.forgotten_key"]
    source.write_text("SETTING = 'by_path'\nx = c.forgotten_key\n", encoding="utf-8")
    assert unread_keys(_Outer, [source]) == ["inner.used_key"]
    source.write_text("x = getattr(c, 'used_key')\n", encoding="utf-8")
    assert unread_keys(_Outer, [source]) == ["inner.forgotten_key", "by_path"]


def test_the_config_module_itself_does_not_count(tmp_path: Path) -> None:
    files = _source_files()
    assert ROOT / "qdframe" / "config.py" not in files
    assert ROOT / "qdframe" / "system.py" in files
