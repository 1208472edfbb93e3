"""Damaged checkpoints are misses: resume re-runs them and ends with the uninterrupted counts."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.rundir import RunDirectory

SHOTS = 1000
SEED = 7
INTERVAL = 100
BATCHES = SHOTS // INTERVAL

CONFIG = {
    "distributed": {
        "num_nodes": 3,
        "qubits_per_node": 1,
        "network_topology": "ring",
        "allocator": "greedy",
    },
    "recovery": {"checkpoint_interval": INTERVAL},
    "resources": {"executor_workers": 1},
    "memory": {"compression_level": "fast"},
}


def _circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(3, 3, name="ghz3")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.ry(0.7, 2)
    circuit.measure([0, 1, 2], [0, 1, 2])
    return circuit


def _config() -> qd.SystemConfig:
    return qd.SystemConfig.model_validate(CONFIG)


def _batch_file(run_dir: Path, index: int) -> Path:
    return run_dir / "checkpoints" / f"batch-{index:06d}.json.zst"


def _read(file: Path) -> dict:
    return json.loads(zstandard.ZstdDecompressor().decompress(file.read_bytes()))


def _write(file: Path, record: dict) -> None:
    file.write_bytes(zstandard.ZstdCompressor().compress(json.dumps(record).encode()))


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _forge_counts(file: Path) -> None:
    # As in the report that found it: a hand-written batch claiming 999999 shots.
    _write(file, {"batch": int(file.name[6:12]), "counts": {"000": 999999}})


def _forge_keeping_the_checksum(file: Path) -> None:
    record = _read(file)
    key = next(iter(record["counts"]))
    record["counts"][key] += 1
    other = next((k for k in record["counts"] if k != key), None)
    if other is not None:  # same total, different counts: only the checksum tells
        record["counts"][other] -= 1
    _write(file, record)


def _wrong_shots(file: Path) -> None:
    record = _read(file)
    index = record["batch"]
    run = RunDirectory(file.parents[1], compress=True)
    # A self-consistent checkpoint (checksum and key right) with half the shots.
    run.save_batch(index, {"000": INTERVAL // 2}, shots=INTERVAL // 2, key=record["key"])


def _other_run(file: Path) -> None:
    record = _read(file)
    run = RunDirectory(file.parents[1], compress=True)
    run.save_batch(record["batch"], record["counts"], shots=record["shots"], key="0" * 64)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated zstd": _truncate,
    "forged counts": _forge_counts,
    "counts changed, checksum kept": _forge_keeping_the_checksum,
    "shots mismatch": _wrong_shots,
    "other circuit or configuration": _other_run,
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], Path]:
    """An uninterrupted run and its run directory."""
    run_dir = tmp_path_factory.mktemp("ref") / "run"
    with qd.DistributedSystem(_config()) as system:
        result = system.run(_circuit(), shots=SHOTS, seed=SEED, report_dir=run_dir)
    assert sum(result.counts.values()) == SHOTS
    assert len(list((run_dir / "checkpoints").glob("batch-*.json.zst"))) == BATCHES
    return result.counts, run_dir


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_batch_is_rerun_to_the_uninterrupted_counts(
    damage: str,
    reference: tuple[dict[str, int], Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    counts, source = reference
    run_dir = tmp_path / "run"
    shutil.copytree(source, run_dir)
    damaged = (1, 3, 8)
    for index in damaged:
        DAMAGE[damage](_batch_file(run_dir, index))
    with caplog.at_level(logging.WARNING), qd.DistributedSystem(_config()) as system:
        result = system.run("", report_dir=run_dir, resume=True)
    assert result.counts == counts
    assert sum(result.counts.values()) == SHOTS
    assert result.metrics["resumed_batches"] == BATCHES - len(damaged)
    for index in damaged:
        assert f"batch-{index:06d}.json.zst is not used" in caplog.text
        # The re-run batch replaced the damaged one, which was moved aside.
        assert _read(_batch_file(run_dir, index))["shots"] == INTERVAL
        assert list((run_dir / "checkpoints").glob(f"batch-{index:06d}.json.zst.corrupt-*"))


def test_a_resume_under_another_configuration_reruns_every_batch(
    reference: tuple[dict[str, int], Path], tmp_path: Path
) -> None:
    _, source = reference
    run_dir = tmp_path / "run"
    shutil.copytree(source, run_dir)
    other = _config().model_copy(deep=True)
    other.communication.epr_fidelity = 0.95  # any change of configuration
    with qd.DistributedSystem(other) as system:
        result = system.run("", report_dir=run_dir, resume=True)
    assert result.metrics["resumed_batches"] == 0
    assert sum(result.counts.values()) == SHOTS


def test_cli_resume_over_a_truncated_batch_warns_and_matches(
    reference: tuple[dict[str, int], Path], tmp_path: Path
) -> None:
    counts, source = reference
    run_dir = tmp_path / "run"
    shutil.copytree(source, run_dir)
    _truncate(_batch_file(run_dir, 3))
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", "run", "--resume", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "batch-000003.json.zst is not used (does not decompress" in proc.stderr
    data = json.loads(proc.stdout)
    assert data["counts"] == counts
    assert data["metrics"]["resumed_batches"] == BATCHES - 1
