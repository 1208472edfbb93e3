"""Running kernel chunks on several threads.

A kernel splits its work into independent pieces (chunks of the state). The
:class:`Runner` hands pieces to a few threads on demand, each with its own
chunk buffers; numpy releases the interpreter lock inside copies and matrix
products, so the threads run in parallel. Handing out pieces one at a time
keeps every core busy even when another process takes one of them for a
while, which a BLAS call split evenly between threads cannot do.

While the runner works, a multithreaded OpenBLAS is set to one thread so the
two levels of threading do not compete; :func:`single_threaded_blas` restores
the previous setting afterwards. With a BLAS it cannot control, the runner
uses one thread and leaves threading to the BLAS.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

import numpy as np
import numpy.typing as npt

from qdframe_numpy.program import Complex

__all__ = ["Runner", "Workspace", "available_cores", "blas_threads", "single_threaded_blas"]

_SET_NAMES = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GET_NAMES = tuple(name.replace("set_num", "get_num") for name in _SET_NAMES)
_blas_lock = threading.Lock()


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows
        return os.cpu_count() or 1


def _numpy_openblas_paths() -> list[str]:
    """Paths of loaded OpenBLAS libraries that belong to numpy.

    Other packages (Qiskit Aer, for one) may load their own OpenBLAS; only
    numpy's is the one that numpy's matrix products use.
    """
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if "numpy" in os.path.basename(os.path.dirname(p)).lower())


@cache
def _openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """The set/get thread-count functions of numpy's OpenBLAS, if it can be found."""
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # make sure the library is loaded
    for path in _numpy_openblas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in zip(_SET_NAMES, _GET_NAMES, strict=True):
            setter = getattr(library, set_name, None)
            getter = getattr(library, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes = [ctypes.c_int]
                setter.restype = None
                getter.argtypes = []
                getter.restype = ctypes.c_int
                return (lambda count, f=setter: f(count)), (lambda f=getter: int(f()))
    return None


def blas_threads() -> int | None:
    """Threads numpy's OpenBLAS uses, or ``None`` when it cannot be told."""
    functions = _openblas()
    return None if functions is None else functions[1]()


@contextmanager
def single_threaded_blas() -> Iterator[bool]:
    """Run the body with OpenBLAS on one thread; yields whether that was possible."""
    functions = _openblas()
    if functions is None:
        yield False
        return
    setter, getter = functions
    with _blas_lock:
        previous = getter()
        setter(1)
    try:
        yield True
    finally:
        with _blas_lock:
            setter(previous)


class Workspace:
    """Chunk-sized buffers used by one thread.

    :param dtype: the state's dtype.
    :param elements: amplitudes per buffer.
    """

    def __init__(self, dtype: npt.DTypeLike, elements: int) -> None:
        self.dtype = np.dtype(dtype)
        self.elements = elements
        self.gathered: Complex = np.empty(elements, dtype=self.dtype)
        self.product: Complex = np.empty(elements, dtype=self.dtype)

    @property
    def nbytes(self) -> int:
        return self.gathered.nbytes + self.product.nbytes


class Runner:
    """Runs the pieces of a kernel on up to ``threads`` threads.

    :param dtype: the state's dtype.
    :param elements: amplitudes per chunk buffer.
    :param threads: threads to use (the calling thread is one of them).
    """

    def __init__(self, dtype: npt.DTypeLike, elements: int, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self.elements = elements
        self.workspaces = [Workspace(dtype, elements) for _ in range(self.threads)]
        self._pool = (
            ThreadPoolExecutor(self.threads - 1, thread_name_prefix="qdframe-numpy")
            if self.threads > 1
            else None
        )

    @property
    def work(self) -> Workspace:
        """The calling thread's workspace (for serial kernels)."""
        return self.workspaces[0]

    @property
    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.workspaces)

    def run(self, count: int, piece: Callable[[int, Workspace], None]) -> None:
        """Call ``piece(i, workspace)`` for ``i`` in ``range(count)``, in parallel."""
        if self._pool is None or count < 2:
            work = self.workspaces[0]
            for i in range(count):
                piece(i, work)
            return
        counter = itertools.count()

        def worker(work: Workspace) -> None:
            # ``next`` on itertools.count is atomic under the interpreter lock.
            for i in iter(counter.__next__, None):
                if i >= count:
                    return
                piece(i, work)

        helpers = min(self.threads, count) - 1
        futures = [self._pool.submit(worker, w) for w in self.workspaces[1 : 1 + helpers]]
        try:
            worker(self.workspaces[0])
        finally:
            for future in futures:
                future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
