"""``qdframe run`` and ``qdframe report`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def qdframe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qdframe", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def qft8_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run_dir = tmp_path_factory.mktemp("runs") / "qft8"
    proc = qdframe(
        "run",
        str(EXAMPLES / "qft8.qasm"),
        "--config",
        str(EXAMPLES / "ring4.toml"),
        "--verify",
        "--shots",
        "300",
        "--seed",
        "3",
        "--report",
        str(run_dir),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    return run_dir, json.loads(proc.stdout)


def test_run_prints_plan_verification_and_writes_a_report(qft8_run):
    run_dir, data = qft8_run
    assert data["verified"] is True
    assert data["plan"]["ebits"] >= 1
    assert data["plan"]["makespan_us"] > 0
    assert 0 < data["plan"]["fidelity_estimate"] <= 1
    assert sum(data["counts"].values()) == 300
    assert all(len(key) == 8 for key in data["counts"])
    assert data["backend"] == "numpy"
    assert Path(data["report"]) == run_dir / "report.html"
    html = (run_dir / "report.html").read_text()
    assert "<svg" in html and "qft8" in html
    report = json.loads((run_dir / "report.json").read_text())
    assert report["execution"]["verified"] is True


def test_report_rerenders_from_json(qft8_run):
    run_dir, _ = qft8_run
    (run_dir / "report.html").unlink()
    proc = qdframe("report", str(run_dir), "--json")
    assert proc.returncode == 0, proc.stderr
    assert Path(json.loads(proc.stdout)["report"]).is_file()


def test_human_output_names_the_plan(tmp_path):
    proc = qdframe(
        "run",
        str(EXAMPLES / "qft8.qasm"),
        "--nodes",
        "2",
        "--qubits-per-node",
        "4",
        "--topology",
        "line",
        "--allocator",
        "greedy",
        "--shots",
        "50",
        "--seed",
        "1",
        "--report",
        str(tmp_path / "r"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "line: 2 nodes x 4 data qubits" in proc.stdout
    assert "greedy" in proc.stdout and "ebits" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.qasm"], "circuit file not found"),
        (["run", str(EXAMPLES / "qft8.qasm"), "--mode", "smoke-signals"], "unknown mode"),
        (
            [
                "run",
                str(EXAMPLES / "qft8.qasm"),
                "--nodes",
                "1",
                "--qubits-per-node",
                "3",
                "--topology",
                "line",
            ],
            "8",
        ),
        (
            ["run", str(EXAMPLES / "qft8.qasm"), "--topology", "moebius-x", "--nodes", "4"],
            "unknown topology",
        ),
        (["run"], "missing CIRCUIT"),
        (["run", str(EXAMPLES / "qft8.qasm"), "--resume", "somewhere"], "--resume takes"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, args, message):
    proc = qdframe(*args, cwd=tmp_path)  # runs in tmp_path: default run dirs land there
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def _chromium() -> str:
    import os
    import shutil

    found = os.environ.get("QDFRAME_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def test_run_report_renders_its_plots_in_chromium(qft8_run, tmp_path):
    import re

    run_dir, _ = qft8_run
    html = run_dir / "report.html"
    if not html.exists():
        qdframe("report", str(run_dir))
    proc = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    for plot in ("plot-topology", "plot-utilisation", "plot-timeline", "plot-counts"):
        match = re.search(rf'<svg id="{plot}".*?</svg>', dom, re.S)
        assert match, f"{plot} missing from the rendered page"
        shapes = re.findall(r"<(rect|circle|line|path|polyline)\b", match.group(0))
        assert len(shapes) >= 4, f"{plot} rendered without shapes"
