"""The docs: the tutorial runs as written, every page is in the nav, snippets execute."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Pages whose Python snippets are fragments of a larger program (they use
# names such as `circuit` or a `system.toml` the page never defines) or need
# services the tests do not start. Each is listed with why; a page not listed
# here must run top to bottom.
_FRAGMENTS = {
    "allocators.md": "reads a system.toml of the reader's own",
    "backends.md": "uses the reader's `circuit`",
    "distribution.md": "API walk-through of lower-level functions under revision",
    "executors.md": "uses the reader's `circuits` and a Dask cluster",
    "hal.md": "fragments of the HAL API",
    "hooks.md": "generated signatures, not code to run",
    "network.md": "needs a sharing server and a system.toml",
    "plugins.md": "checked by tests/test_docs_plugin_guide.py",
    "reports.md": "call signatures, not code to run",
    "topologies.md": "fragments of the topology API",
}


def _blocks(page: Path, lang: str = "python") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_pages(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(v) for v in nav.values()))
    return set()


def _nav() -> set[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return _nav_pages(config["nav"])


def test_every_page_is_in_the_nav() -> None:
    pages = {p.name for p in DOCS.glob("*.md")}
    missing = sorted(pages - _nav())
    assert not missing, f"docs pages missing from the mkdocs.yml nav: {missing}"


def test_nav_check_catches_an_omitted_page() -> None:
    assert _nav_pages([{"A": "a.md"}, {"Group": [{"B": "b.md"}]}]) == {"a.md", "b.md"}
    assert "tutorial.md" in _nav()


def test_strict_build_fails_on_omitted_pages() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["validation"]["nav"]["omitted_files"] == "warn"


def test_fragment_list_names_real_pages() -> None:
    for name in _FRAGMENTS:
        assert (DOCS / name).exists(), name
        assert _blocks(DOCS / name), f"{name} has no python snippets; drop it from the list"


@pytest.mark.parametrize(
    "page",
    sorted(
        p.name for p in DOCS.glob("*.md") if p.name not in _FRAGMENTS and p.name != "tutorial.md"
    ),
)
def test_page_snippets_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{Path(page).stem}"}
    for block in _blocks(DOCS / page):
        exec(compile(block, str(DOCS / page), "exec"), namespace)


@pytest.mark.slow
def test_tutorial_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "docs_tutorial"}
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    ran = 0
    for lang, body in re.findall(r"```(python|bash)\n(.*?)```", text, re.S):
        if lang == "bash":
            for line in body.strip().splitlines():
                out = subprocess.run(
                    line, shell=True, capture_output=True, text=True, timeout=300, env=env
                )
                assert out.returncode == 0, f"{line}: {out.stderr}"
        else:
            exec(compile(body, str(DOCS / "tutorial.md"), "exec"), namespace)
        ran += 1
    assert ran >= 7
    assert (tmp_path / "run-qft8" / "report.html").exists()
