"""A third-party plugin, built and installed as its own distribution, just works.

The plugin is ``examples/plugin-moebius``: the test builds its wheel in a
temporary directory with pip, installs it into a separate target directory and
runs the real ``qdframe`` command and the plugin's own tests against it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin-moebius"


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("moebius")
    source = work / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source))
    wheel = next((work / "dist").glob("qdframe_moebius-*.whl"))
    _pip("install", "--no-deps", "--target", str(work / "site"), str(wheel))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(work / "site"), env.get("PYTHONPATH", "")])
    return source, env


def test_plugins_list_shows_the_distribution_and_its_topology(installed_plugin):
    _, env = installed_plugin
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)["plugins"]}
    assert plugins["moebius"]["distribution"] == "qdframe-moebius"
    assert plugins["moebius"]["version"] == "1.0.0"
    assert plugins["moebius"]["registered"] == {"topologies": ["moebius"]}


def test_config_naming_the_plugin_topology_validates(installed_plugin, tmp_path):
    _, env = installed_plugin
    config = tmp_path / "moebius.toml"
    config.write_text('[distributed]\nnum_nodes = 8\nnetwork_topology = "moebius"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", "config", "validate", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_the_plugins_own_tests_pass(installed_plugin):
    source, env = installed_plugin
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(source / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=source.parent,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
