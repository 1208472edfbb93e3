"""Every hook is documented with its exact signature and exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from qdframe import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, obj in vars(hookspecs).items()
    if name.startswith("qdframe_") and inspect.isfunction(obj)
)


def _signature(name: str) -> str:
    source = inspect.getsource(getattr(hookspecs, name))
    header = source[source.index("def ") : source.index(":\n", source.index(")"))]
    return re.sub(r"\s+", " ", header).replace("( ", "(").replace(", )", ")")


def test_hooks_exist():
    assert len(HOOKS) == 10 + 1 + 2 + 16 + 1 + 1


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name):
    docs = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    normalised = re.sub(r"\s+", " ", docs)
    assert _signature(name) in normalised, f"docs/hooks.md lacks `{_signature(name)}`"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Fires" in doc or "fires" in doc.lower(), f"{name} docstring must say when it fires"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_by_a_test(name):
    this = Path(__file__).name
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py") if p.name != this
    )
    stage_hook = name != "qdframe_before_job" and re.match(r"qdframe_(before|after)_(\w+)", name)
    if stage_hook and "PIPELINE_STAGES" in sources and "qdframe_{when}_{stage}" in sources:
        return  # test_pipeline_hooks generates an implementation for every stage
    assert name in sources, f"no test mentions {name}"
