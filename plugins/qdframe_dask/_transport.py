"""How functions, jobs and results travel between the client and Dask workers.

Everything crosses as bytes that Dask passes through untouched:

* Dask inspects task arguments and results element by element (looking for
  futures, choosing serialisers); a result such as a counts dictionary with a
  thousand bitstrings then costs tens of milliseconds. A bytes object is one
  element.
* Dask pickles a task graph with cloudpickle, many times slower on objects
  such as circuits, as soon as the graph's pickle mentions ``__main__`` (a
  function defined in a script). Jobs pickled on their own keep the fast
  path for everything but the function.

Jobs travel in batches (:func:`call_batch`): one task runs a slice of a
``map`` call's jobs, so that the scheduler's and the network's cost per task
is paid once per slice rather than once per job. The function (which holds
what all jobs share, such as a compiled program) is scattered to the workers
once per ``map`` and named by every task.
"""

from __future__ import annotations

import functools
import importlib
import pickle
from collections.abc import Callable
from typing import Any

__all__ = ["call", "call_batch", "dumps", "dumps_function", "loads"]


def _cloudpickle() -> Any:
    """cloudpickle (installed with distributed; it has no type information)."""
    return importlib.import_module("cloudpickle")


def dumps(obj: Any) -> bytes:
    """Plain pickle where it can stand alone, else cloudpickle (lambdas, ``__main__``)."""
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # objects plain pickle refuses: lambdas, local classes
        data = b"__main__"
    if b"__main__" in data:  # refers to the client's script: send the code itself
        data = _cloudpickle().dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def dumps_function(fn: Callable[[Any], Any]) -> bytes:
    """The job function, through cloudpickle: it is sent once per batch, and
    cloudpickle honours ``register_pickle_by_value`` for modules workers
    cannot import (a test module, a notebook's helpers)."""
    data: bytes = _cloudpickle().dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def loads(data: bytes) -> Any:
    """Inverse of :func:`dumps` (cloudpickle output is read by plain pickle)."""
    return pickle.loads(data)


@functools.lru_cache(maxsize=16)
def _function(data: bytes) -> Callable[[Any], Any]:
    fn: Callable[[Any], Any] = loads(data)
    return fn


def call(function: bytes, job: bytes) -> bytes:
    """Run one job on a worker; the function is unpickled once per worker."""
    return dumps(_function(function)(loads(job)))


def _dump_error(error: Exception) -> bytes:
    """``error`` pickled, or a ``RuntimeError`` naming it when it cannot be."""
    try:
        return dumps(error)
    except Exception:  # an exception holding something unpicklable
        return dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def call_batch(function: bytes, jobs: bytes) -> bytes:
    """Run a slice of jobs on a worker: per job ``(True, result)`` or ``(False, error)``.

    A job that raises does not stop the others; the client retries it on
    its own. Only a lost worker fails the whole task.
    """
    fn = _function(function)
    outcomes: list[tuple[bool, bytes]] = []
    for job in loads(jobs):
        try:
            outcomes.append((True, dumps(fn(job))))
        except Exception as exc:
            outcomes.append((False, _dump_error(exc)))
    return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)
