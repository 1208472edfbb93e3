"""docs/privacy.md lists exactly the fields a contribution can carry."""

from __future__ import annotations

import re
from pathlib import Path

from qdframe.network.schemas import ContributionIn, WorkloadContribution

PRIVACY = Path(__file__).resolve().parent.parent / "docs" / "privacy.md"


def _documented_fields() -> set[str]:
    text = PRIVACY.read_text(encoding="utf-8")
    section = text.split("## What a contribution contains", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.<>]+)` \|", section, flags=re.MULTILINE))


def test_privacy_page_lists_every_contribution_field_and_no_other() -> None:
    fields = {name for name in ContributionIn.model_fields if name != "workloads"}
    fields |= {f"workloads.<class>.{name}" for name in WorkloadContribution.model_fields}
    assert _documented_fields() == fields


def test_contribution_schema_has_no_identifying_field() -> None:
    forbidden = re.compile(r"host|user|name|ip|addr|mac|serial|email|path|file")
    for name in [*ContributionIn.model_fields, *WorkloadContribution.model_fields]:
        assert not forbidden.search(name), name
