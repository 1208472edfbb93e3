"""The run directory: manifest, checkpoints and reports of one run, written atomically.

Layout::

    RUN_DIR/
      run.json                  what was asked for (circuit, config, shots, seed)
      checkpoints/batch-000003.json[.zst]   counts of one finished shot batch
      report.json, report.html  written by the analyze stage

Every file is written to a temporary name in the same directory, flushed to
disk and renamed over the final name, so a run killed at any moment leaves
either the old file or the new one — never half of one. A checkpoint that
does not parse (a disk error, a hand edit) is ignored and its batch re-run.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from qdframe.errors import ConfigError
from qdframe.files import atomic_write_bytes, atomic_write_text

__all__ = ["RunDirectory"]

_log = logging.getLogger(__name__)
_BATCH = re.compile(r"^batch-(\d{6})\.json(\.zst)?$")
MANIFEST = "run.json"


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

    def save_batch(self, index: int, counts: dict[str, int]) -> None:
        """Record the counts of finished batch ``index``."""
        payload = json.dumps({"batch": index, "counts": counts}, sort_keys=True).encode()
        zstd = _zstd()
        if self.compress and zstd is not None:
            payload = zstd.ZstdCompressor(level=3).compress(payload)
        atomic_write_bytes(self._batch_path(index), payload)

    def completed_batches(self) -> dict[int, dict[str, int]]:
        """The batches already finished, by index (unreadable checkpoints skipped)."""
        done: dict[int, dict[str, int]] = {}
        for file in sorted((self.path / "checkpoints").iterdir()):
            match = _BATCH.match(file.name)
            if not match:
                continue
            index = int(match.group(1))
            try:
                raw = file.read_bytes()
                if match.group(2):
                    zstd = _zstd()
                    if zstd is None:
                        raise ValueError("zstandard is not installed")
                    raw = zstd.ZstdDecompressor().decompress(raw)
                data = json.loads(raw)
                counts = {str(k): int(v) for k, v in data["counts"].items()}
                if data["batch"] != index or any(v < 0 for v in counts.values()):
                    raise ValueError("inconsistent checkpoint")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                _log.warning("ignoring unreadable checkpoint %s (%s); its batch re-runs", file, exc)
                continue
            done[index] = counts
        return done
