"""Statevectors kept in memory-mapped files when they do not fit the memory budget.

With ``spill_to_disk`` the numpy backend runs a circuit whose statevector is
larger than its memory budget from a file: :class:`SpillArea` makes one
private folder per circuit (under ``spill_dir`` or the system's temporary
folder), maps each statevector from a file in it with :class:`numpy.memmap`,
and removes the folder when the circuit finishes or fails. The operating
system pages the state between the file and memory, so the process's own
(anonymous) memory stays within the budget while the state is larger.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.plugin import ResourceError, format_bytes

__all__ = ["SPILL_PREFIX", "SpillArea", "check_disk", "spill_root"]

#: Name prefix of the per-circuit folders (``qdframe-spill-XXXXXXXX``).
SPILL_PREFIX = "qdframe-spill-"


def spill_root(spill_dir: str | None) -> Path:
    """The folder the spill folders go in: ``spill_dir`` or the system's temporary folder.

    :raises ResourceError: ``spill_dir`` is not an existing folder.
    """
    root = Path(spill_dir) if spill_dir is not None else Path(tempfile.gettempdir())
    if not root.is_dir():
        raise ResourceError(
            f"backend 'numpy': spill_dir {str(root)!r} is not an existing folder; "
            "create it or set [memory] spill_dir to one"
        )
    return root


def check_disk(needed: int, spill_dir: str | None, *, what: str) -> Path:
    """Refuse, before writing, a spill that does not fit the free disk space.

    :returns: the folder the spill folder goes in.
    :raises ResourceError: the folder is missing or has less free space than ``needed``.
    """
    root = spill_root(spill_dir)
    free = shutil.disk_usage(root).free
    if needed > free:
        raise ResourceError(
            f"backend 'numpy': {what} needs {format_bytes(needed)} ({needed} bytes) on disk "
            f"to spill but {str(root)!r} has only {format_bytes(free)} ({free} bytes) free; "
            "set [memory] spill_dir to a folder on a larger disk, use single precision "
            '([acceleration] precision = "complex64", half the size), or cut the circuit '
            "(--mode classical)"
        )
    return root


class SpillArea:
    """A private folder of memory-mapped statevectors, removed on exit.

    :param root: the folder to create it in (see :func:`check_disk`).
    """

    def __init__(self, root: Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=root))
        self.files = 0
        self.bytes = 0
        self._maps: list[np.memmap[Any, Any]] = []

    def allocate(self, size: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
        """A zeroed array of ``size`` elements of ``dtype`` backed by a new file."""
        file = self.path / f"state-{self.files}.bin"
        mapped: np.memmap[Any, Any] = np.memmap(file, dtype=dtype, mode="w+", shape=(size,))
        self._maps.append(mapped)
        self.files += 1
        self.bytes += int(mapped.nbytes)
        # A plain ndarray view: numpy operations on it give plain arrays, not memmaps.
        return mapped.view(np.ndarray)

    def close(self) -> None:
        """Remove the folder; each file's space is freed once its last view is gone."""
        self._maps.clear()
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> SpillArea:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
