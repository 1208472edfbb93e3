"""A run killed with SIGKILL resumes to exactly the counts of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import qdframe as qd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHOTS = 6000
SEED = 2024

CONFIG = """
[distributed]
num_nodes = 4
qubits_per_node = 4
network_topology = "ring"
allocator = "greedy"

[recovery]
checkpoint_interval = 20

[resources]
executor_workers = 2
"""


def _checkpoints(run_dir: Path) -> int:
    folder = run_dir / "checkpoints"
    return len(list(folder.glob("batch-*"))) if folder.is_dir() else 0


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    config_file = tmp_path / "ring.toml"
    config_file.write_text(CONFIG)
    circuit = EXAMPLES / "qft8.qasm"
    run_dir = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "qdframe",
        "run",
        str(circuit),
        "--config",
        str(config_file),
        "--shots",
        str(SHOTS),
        "--seed",
        str(SEED),
        "--report",
        str(run_dir),
        "--json",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while _checkpoints(run_dir) < 15:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoints appeared"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        # The killed run's pipes are never read: close them, or they leak.
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert process.returncode == -signal.SIGKILL
    done_before = _checkpoints(run_dir)
    assert 15 <= done_before < SHOTS // 20

    resumed = subprocess.run(
        [sys.executable, "-m", "qdframe", "run", "--resume", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["metrics"]["resumed_batches"] >= done_before
    assert data["metrics"]["batches"] == SHOTS // 20
    assert sum(data["counts"].values()) == SHOTS

    config = qd.load_config(config_file, environ={})
    with qd.DistributedSystem(config) as system:
        reference = system.run(circuit, shots=SHOTS, seed=SEED, report_dir=tmp_path / "whole")
    assert data["counts"] == reference.counts


def test_resume_of_a_directory_without_a_run_is_a_usage_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", "run", "--resume", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "not a qdframe run directory" in proc.stderr
