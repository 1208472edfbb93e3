"""``qdframe hal``: detect, profiles, show and record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from qdframe.cli.hal import app
from qdframe_hal import LocalRunner, RecordedRunner, detect_host

DATA = Path(__file__).parent / "data" / "hal"
RUNNER = CliRunner()

MAC_PROFILES = {
    *(f"apple_silicon_m{g}{t}" for g in (1, 2, 3, 4) for t in ("", "_pro", "_max")),
    "intel_mac_i5",
    "intel_mac_i7",
    "intel_mac_i9",
}

FAKE_NUMPY = """
import qdframe
from qdframe.backend import BackendCapabilities

class Sim:
    name = "numpy"
    capabilities = BackendCapabilities(
        name="numpy", max_qubits={"complex64": 31, "complex128": 30},
        supported_operations=frozenset({"h", "cx"}),
    )
    def run(self, circuits, shots=1024, seed=None, noise=None, *, memory=False):
        raise NotImplementedError

@qdframe.hookimpl
def qdframe_register_backends(registry):
    registry.add("numpy", lambda **options: Sim())
"""


def _json(args: list[str]) -> Any:
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_detect_json_on_this_machine() -> None:
    report = _json(["detect", "--json"])
    assert set(report) == {"host", "match", "profile", "backend"}
    assert report["match"]["level"] in {"exact", "family", "architecture", "generic"}
    assert 0 <= report["match"]["score"] <= 1
    assert report["host"] == detect_host().model_dump(mode="json")
    assert "max_statevector_qubits" in report["profile"]["capabilities"]
    assert "requirements" in report["backend"]
    assert ("error" in report["backend"]) == (report["backend"]["name"] is None)


def test_detect_json_replays_a_recorded_m3_pro() -> None:
    report = _json(
        ["detect", "--json", "--replay", str(DATA / "macbook_pro_m3_pro.toml"), "--qubits", "12"]
    )
    assert report["host"]["cpu_brand"] == "Apple M3 Pro"
    match = report["match"]
    assert (match["level"], match["system_type"], match["source"]) == (
        "exact",
        "apple_silicon_m3_pro",
        "mac",
    )
    assert report["profile"]["memory_bytes"] == 36 * 2**30
    assert report["backend"]["requirements"]["num_qubits"] == 12


def test_detect_reports_the_backend_chosen_with_its_reason(install_distribution: Any) -> None:
    install_distribution("qdf-fake-sim", {"qdf_test_sim": FAKE_NUMPY}, {"fakesim": "qdf_test_sim"})
    report = _json(["detect", "--json", "--replay", str(DATA / "linux_x86_64_epyc_vm.toml")])
    backend = report["backend"]
    assert (backend["name"], backend["device"], backend["plugin"]) == ("numpy", "cpu", "fakesim")
    assert "default backend" in backend["reason"]
    assert backend["requirements"]["precision"] == "complex128"


def test_detect_without_backends_still_reports_the_host() -> None:
    result = RUNNER.invoke(
        app, ["detect", "--replay", str(DATA / "linux_x86_64_a100x2.toml")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "linux_x86_64_nvidia" in result.stdout
    assert "NVIDIA A100-SXM4-40GB" in result.stdout
    assert "Backend:" in result.stdout


def test_detect_rejects_an_unknown_precision() -> None:
    result = RUNNER.invoke(app, ["detect", "--precision", "complex32"])
    assert result.exit_code == 2
    assert "complex32" in result.stderr and "complex64" in result.stderr


def test_profiles_json_lists_every_mac_profile_and_the_generic_ones() -> None:
    rows = _json(["profiles", "--json"])["profiles"]
    by_name = {row["system_type"]: row for row in rows}
    assert set(by_name) >= MAC_PROFILES
    assert {by_name[name]["source"] for name in MAC_PROFILES} == {"mac"}
    assert by_name["linux_x86_64_generic"]["source"] == "qdframe_hal"
    m3_pro = by_name["apple_silicon_m3_pro"]
    assert (m3_pro["performance_cores"], m3_pro["efficiency_cores"], m3_pro["cores"]) == (6, 6, 12)
    assert m3_pro["family"] == "apple_silicon"
    assert m3_pro["memory_options_bytes"] == [18 * 2**30, 36 * 2**30]


def test_profiles_table() -> None:
    result = RUNNER.invoke(app, ["profiles"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "apple_silicon_m4_max" in result.stdout
    assert "12 (6+6)" in result.stdout  # M3 Pro cores (P+E)


def test_show_one_profile() -> None:
    data = _json(["show", "intel_mac_i9", "--json"])
    assert data["system_type"] == "intel_mac_i9"
    assert data["recommended_settings"]["acceleration.backend"] == "aer"
    assert any("i9-9980HK" in v["label"] for v in data["variants"])


def test_show_unknown_profile_is_a_usage_error() -> None:
    result = RUNNER.invoke(app, ["show", "apple_silicon_m9"])
    assert result.exit_code == 2
    assert "apple_silicon_m9" in result.stderr and "apple_silicon_m3_pro" in result.stderr


def test_record_writes_a_replayable_recording(tmp_path: Path) -> None:
    path = tmp_path / "me.toml"
    result = RUNNER.invoke(app, ["record", str(path), "--description", "test box"])
    assert result.exit_code == 0, result.output
    replayed = RecordedRunner.from_toml(path)
    assert replayed.description == "test box"
    assert detect_host(replayed) == detect_host(LocalRunner())
    assert "uname -s" in replayed.commands


def test_the_installed_command_prints_one_json_document() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qdframe", "hal", "profiles", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["profiles"]
    assert {row["system_type"] for row in rows} >= MAC_PROFILES
