"""The built-in ``local`` executor: a thread or process pool on this machine.

Registered through ``qdframe_register_executors`` in
:mod:`qdframe_executors.plugin`; the shared retry and ordering logic lives in
:mod:`qdframe.executors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_executors.local import LocalExecutor, default_worker_count

__all__ = ["LocalExecutor", "default_worker_count"]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LocalExecutor": "qdframe_executors.local",
        "default_worker_count": "qdframe_executors.local",
    },
)
