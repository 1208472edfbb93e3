"""The built-in ``local`` executor: a thread or process pool on this machine.

Registered through ``qdframe_register_executors`` in
:mod:`qdframe_executors.plugin`; the shared retry and ordering logic lives in
:mod:`qdframe.executors`.
"""

from __future__ import annotations

from qdframe_executors.local import LocalExecutor, default_worker_count

__all__ = ["LocalExecutor", "default_worker_count"]
