"""The run directory: manifest, checkpoints and reports of one run, written atomically.

Layout::

    RUN_DIR/
      run.json                  what was asked for (circuit, config, shots, seed)
      checkpoints/batch-000003.json[.zst]   one finished shot batch
      report.json, report.html  written by the analyze stage

Every file is written to a temporary name in the same directory, flushed to
disk and renamed over the final name, so a run killed at any moment leaves
either the old file or the new one — never half of one.

A checkpoint holds the batch's index, its shot count, the run key (a hash of
the circuit, the configuration and the seed, see :func:`run_key`), its counts
and a SHA-256 checksum over all of these. A checkpoint is used only when it
decompresses and parses, its checksum matches, it belongs to the same run key,
its counts sum to its shots and those are the shots the batch should have.
Anything else (a truncated file, a hand edit, a batch of another circuit or
configuration) is a miss: it is logged as a warning, moved aside as
``<name>.corrupt-<time>`` and its batch runs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qdframe.errors import ConfigError
from qdframe.files import atomic_write_bytes, atomic_write_text, quarantine

__all__ = ["RunDirectory", "run_key"]

_log = logging.getLogger(__name__)
_BATCH = re.compile(r"^batch-(\d{6})\.json(\.zst)?$")
MANIFEST = "run.json"


def run_key(circuit_qasm3: str, config: Mapping[str, Any], seed: int) -> str:
    """The hash that ties checkpoints to one run: circuit text, configuration and seed."""
    text = json.dumps(
        {"circuit": circuit_qasm3, "config": config, "seed": seed},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _checksum(index: int, shots: int, key: str, counts: Mapping[str, int]) -> str:
    body = json.dumps(
        {"batch": index, "counts": dict(counts), "key": key, "shots": shots},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


class _Miss(ValueError):
    """A checkpoint that cannot be used; the message says why."""


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:  # compression is an optimisation, never a requirement
        return None
    return zstandard


class RunDirectory:
    """One run's directory.

    :param path: the directory (created if missing).
    :param compress: write checkpoints zstd-compressed (when zstandard is installed).
    """

    def __init__(self, path: str | os.PathLike[str], *, compress: bool = False) -> None:
        self.path = Path(path)
        self.compress = compress and _zstd() is not None
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "checkpoints").mkdir(exist_ok=True)

    @classmethod
    def open_existing(cls, path: str | os.PathLike[str]) -> RunDirectory:
        """Open a run directory to resume it.

        :raises ConfigError: the directory does not hold a qdframe run.
        """
        directory = Path(path)
        if not (directory / MANIFEST).is_file():
            raise ConfigError(
                f"{directory} is not a qdframe run directory (no {MANIFEST}); "
                "pass the directory a previous `qdframe run --report DIR` wrote"
            )
        return cls(directory)

    # ----------------------------------------------------------------- manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_text(self.path / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))

    def read_manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path / MANIFEST}: unreadable run manifest ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path / MANIFEST}: run manifest is not a JSON object")
        return data

    # -------------------------------------------------------------- checkpoints

    def _batch_path(self, index: int) -> Path:
        suffix = ".json.zst" if self.compress else ".json"
        return self.path / "checkpoints" / f"batch-{index:06d}{suffix}"

    def save_batch(
        self, index: int, counts: Mapping[str, int], *, shots: int | None = None, key: str = ""
    ) -> None:
        """Record the counts of finished batch ``index``.

        :param shots: the batch's shot count (the sum of ``counts`` when omitted).
        :param key: the run key (:func:`run_key`) the batch belongs to.
        """
        counts = {str(k): int(v) for k, v in counts.items()}
        shots = sum(counts.values()) if shots is None else int(shots)
        record = {
            "batch": index,
            "checksum": _checksum(index, shots, key, counts),
            "counts": counts,
            "key": key,
            "shots": shots,
        }
        payload = json.dumps(record, sort_keys=True).encode()
        zstd = _zstd()
        if self.compress and zstd is not None:
            payload = zstd.ZstdCompressor(level=3).compress(payload)
        atomic_write_bytes(self._batch_path(index), payload)

    def completed_batches(
        self, *, key: str = "", shots: Mapping[int, int] | None = None
    ) -> dict[int, dict[str, int]]:
        """The batches already finished, by index.

        :param key: the run key the batches must belong to.
        :param shots: the shot count each wanted batch must have, by index;
            batches not in it are left out.
        :returns: counts by batch index, of checkpoints that pass every check;
            the others are logged, moved aside and left out (their batches re-run).
        """
        done: dict[int, dict[str, int]] = {}
        for file in sorted((self.path / "checkpoints").iterdir()):
            match = _BATCH.match(file.name)
            if not match:
                continue
            index = int(match.group(1))
            if shots is not None and index not in shots:
                continue
            try:
                counts = self._read_batch(file, index, key, shots)
            except _Miss as miss:
                _log.warning("checkpoint %s is not used (%s); its batch re-runs", file.name, miss)
                quarantine(file)
                continue
            done[index] = counts
        return done

    @staticmethod
    def _read_batch(
        file: Path, index: int, key: str, shots: Mapping[int, int] | None
    ) -> dict[str, int]:
        """The counts of one checkpoint file, or :class:`_Miss` saying why not."""
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise _Miss(f"unreadable: {exc.strerror}") from None
        if file.name.endswith(".zst"):
            zstd = _zstd()
            if zstd is None:
                raise _Miss("compressed, and zstandard is not installed")
            try:
                raw = zstd.ZstdDecompressor().decompress(raw)
            except Exception as exc:  # zstandard.ZstdError and friends
                raise _Miss(f"does not decompress: {exc}") from None
        try:
            data = json.loads(raw)
            stored = int(data["shots"])
            counts = {str(k): int(v) for k, v in data["counts"].items()}
            checksum, stored_key, stored_index = data["checksum"], data["key"], data["batch"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Miss(f"malformed ({type(exc).__name__}: {exc})") from None
        if checksum != _checksum(stored_index, stored, stored_key, counts):
            raise _Miss("checksum does not match its contents")
        if stored_index != index:
            raise _Miss(f"holds batch {stored_index}, not {index}")
        if stored_key != key:
            raise _Miss("written by another circuit, configuration or seed")
        if any(v < 0 for v in counts.values()) or sum(counts.values()) != stored:
            raise _Miss(f"counts do not sum to its {stored} shots")
        if shots is not None and shots[index] != stored:
            raise _Miss(f"holds {stored} shots, the batch has {shots[index]}")
        return counts
