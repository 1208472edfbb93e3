"""Run directories: atomic files, checkpoints that survive a crash, clear errors."""

from __future__ import annotations

import json
import os

import pytest

from qdframe.errors import ConfigError
from qdframe.files import atomic_write_text
from qdframe.rundir import RunDirectory


@pytest.mark.parametrize("compress", [False, True])
def test_batches_roundtrip(tmp_path, compress):
    run = RunDirectory(tmp_path / "run", compress=compress)
    run.save_batch(0, {"00": 3, "11": 5})
    run.save_batch(7, {"01": 1})
    suffix = ".json.zst" if compress else ".json"
    assert (tmp_path / "run" / "checkpoints" / f"batch-000007{suffix}").is_file()
    assert run.completed_batches() == {0: {"00": 3, "11": 5}, 7: {"01": 1}}


def test_compressed_checkpoints_are_smaller(tmp_path):
    counts = {format(i, "012b"): i for i in range(2000)}
    plain = RunDirectory(tmp_path / "plain")
    packed = RunDirectory(tmp_path / "packed", compress=True)
    plain.save_batch(0, counts)
    packed.save_batch(0, counts)
    size = lambda run: next((run.path / "checkpoints").iterdir()).stat().st_size  # noqa: E731
    assert size(packed) < size(plain) / 2
    assert packed.completed_batches() == plain.completed_batches()


def test_unreadable_checkpoint_is_skipped(tmp_path, caplog):
    run = RunDirectory(tmp_path)
    run.save_batch(1, {"0": 2})
    (tmp_path / "checkpoints" / "batch-000002.json").write_text("{not json")
    (tmp_path / "checkpoints" / "batch-000003.json").write_text(
        json.dumps({"batch": 9, "counts": {"0": 1}})
    )
    assert run.completed_batches() == {1: {"0": 2}}
    assert "batch-000002.json" in caplog.text and "re-runs" in caplog.text


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")

    class Boom(Exception):
        pass

    class Exploding(str):
        def encode(self, *args, **kwargs):
            raise Boom

    with pytest.raises(Boom):
        atomic_write_text(target, Exploding("new"))
    assert target.read_text() == "old"


def test_manifest_roundtrip_and_resume_errors(tmp_path):
    run = RunDirectory(tmp_path / "r")
    run.write_manifest({"shots": 10, "seed": 3})
    assert RunDirectory.open_existing(tmp_path / "r").read_manifest() == {"shots": 10, "seed": 3}
    with pytest.raises(ConfigError, match="not a qdframe run directory"):
        RunDirectory.open_existing(tmp_path / "elsewhere")
    (tmp_path / "r" / "run.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        run.read_manifest()
