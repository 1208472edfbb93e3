"""The qdframe command: version, help, exit codes and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import qdframe
from qdframe.cli.main import app

runner = CliRunner()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qdframe", *args], capture_output=True, text=True, timeout=120
    )


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"qdframe {qdframe.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["plugins"],
        ["plugins", "list"],
        ["hal"],
        ["hal", "detect"],
        ["config"],
        ["config", "validate"],
        ["config", "show"],
    ],
)
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_unknown_command_is_a_usage_error():
    result = runner.invoke(app, ["teleport"])
    assert result.exit_code == 2


def test_plugins_list_json_names_distribution_and_registrations():
    result = runner.invoke(app, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {p["name"]: p for p in report["plugins"]}
    for builtin in ("mac", "numpy", "topologies", "allocators"):
        assert by_name[builtin]["distribution"] == "qdframe"
    assert "numpy" in by_name["numpy"]["registered"]["backends"]
    assert "ring" in by_name["topologies"]["registered"]["topologies"]
    assert "apple_silicon_m3_pro" in by_name["mac"]["registered"]["hardware_profiles"]
    assert report["failed"] == []


def test_plugins_list_human_output():
    result = runner.invoke(app, ["plugins", "list"])
    assert result.exit_code == 0
    assert "numpy" in result.stdout and "topologies" in result.stdout


def test_config_validate_bad_file_exits_2_naming_file_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[distributed]\nnum_nodes = 0\n", encoding="utf-8")
    proc = _run("config", "validate", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "distributed.num_nodes" in proc.stderr
    assert ">= 1" in proc.stderr


def test_config_validate_unknown_topology(tmp_path):
    path = tmp_path / "topo.toml"
    path.write_text('[distributed]\nnetwork_topology = "moebius"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert "distributed.network_topology" in result.stderr
    assert "torus" in result.stderr


def test_config_validate_malformed_toml(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text("num_nodes = = 3\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert "malformed TOML" in result.stderr


def test_config_validate_good_file(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[distributed]\nnum_nodes = 4\nnetwork_topology = "ring"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "validate", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"file": str(path), "valid": True}


def test_config_show_roundtrips_through_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[distributed]\nnum_nodes = 9\n", encoding="utf-8")
    shown = runner.invoke(app, ["config", "show", str(path)])
    assert shown.exit_code == 0
    again = tmp_path / "again.toml"
    again.write_text(shown.stdout, encoding="utf-8")
    assert qdframe.config.load_config(again, environ={}) == qdframe.config.load_config(
        path, environ={}
    )
    as_json = json.loads(runner.invoke(app, ["config", "show", str(path), "--json"]).stdout)
    assert as_json["distributed"]["num_nodes"] == 9
    assert as_json["distributed"]["communication_mode"] == "quantum"
