"""The generated reference pages in docs/ match the code."""

from __future__ import annotations

from pathlib import Path

from qdframe._docgen import config_markdown, hooks_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_hooks_page_is_current():
    assert (DOCS / "hooks.md").read_text(encoding="utf-8") == hooks_markdown(), (
        "docs/hooks.md is stale: run `python -m qdframe._docgen`"
    )


def test_configuration_page_is_current():
    assert (DOCS / "configuration.md").read_text(encoding="utf-8") == config_markdown(), (
        "docs/configuration.md is stale: run `python -m qdframe._docgen`"
    )


def test_configuration_page_lists_every_table_and_key():
    from qdframe.config import SystemConfig

    page = config_markdown()
    for table, field in SystemConfig.model_fields.items():
        assert f"## `[{table}]`" in page
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            assert f"| `{key}` |" in page
