"""CLI output a person reads: the HAL table at 80 columns, flags in help."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _qdframe(*args: str, columns: int = 80) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "qdframe", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    return out.stdout


def test_hal_profiles_shows_whole_system_types_at_80_columns() -> None:
    types = [
        row["system_type"] for row in json.loads(_qdframe("hal", "profiles", "--json"))["profiles"]
    ]
    table = _qdframe("hal", "profiles")
    assert all(len(line) <= 80 for line in table.splitlines())
    first_cells = {line.split()[0] for line in table.splitlines() if line.strip()}
    missing = [t for t in types if t not in first_cells]
    assert not missing, f"system types cut in the table: {missing}"


def test_flags_have_no_value_placeholder_in_help() -> None:
    text = _qdframe("run", "--help", columns=120)
    verify = next(line for line in text.splitlines() if "--verify" in line)
    assert "<bool>" not in verify
    assert "<bool>" not in text
    shots = next(line for line in text.splitlines() if "--shots" in line)
    assert "<int" in shots  # options that take a value keep their type


def test_report_shows_the_seed_as_an_integer() -> None:
    from qdframe.report.example import example_report
    from qdframe.report.html import render_html

    html = render_html(example_report(seed=366_012_345))
    assert "366012345" in html
    assert "3.66e+08" not in html
