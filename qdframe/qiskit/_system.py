"""The distributed system a primitive or backend runs on.

A primitive accepts a :class:`~qdframe.config.SystemConfig`, the path of a
TOML configuration, a :class:`~qdframe.system.DistributedSystem` or ``None``
(each circuit on a 4-node ring just large enough for it). A system built
here belongs to the primitive, which closes it in :meth:`SystemHandle.close`
(or when it is garbage collected); a system passed in stays the caller's.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType
from typing import Self, TypeAlias

from qdframe.config import SystemConfig, load_config
from qdframe.system import DistributedSystem

__all__ = ["OwnsSystem", "SystemHandle", "SystemLike"]

SystemLike: TypeAlias = SystemConfig | str | os.PathLike[str] | DistributedSystem | None


class SystemHandle:
    """A :class:`DistributedSystem` with a lock, owned or borrowed.

    :raises ConfigError: ``source`` is a path that is not a valid configuration.
    :raises TypeError: ``source`` is none of the accepted kinds.
    """

    def __init__(self, source: SystemLike) -> None:
        if isinstance(source, DistributedSystem):
            system, owned = source, False
        elif isinstance(source, SystemConfig):
            system, owned = DistributedSystem(source), True
        elif isinstance(source, str | os.PathLike):
            system, owned = DistributedSystem(load_config(source)), True
        elif source is None:
            system, owned = DistributedSystem(), True
        else:
            raise TypeError(
                f"expected a SystemConfig, a TOML path, a DistributedSystem or None, "
                f"got {type(source).__name__}"
            )
        self.system = system
        self.owned = owned
        # Primitive jobs run on worker threads; one system serves one job at a time.
        self.lock = threading.RLock()
        self._finalizer = weakref.finalize(self, system.cleanup) if owned else None

    def close(self) -> None:
        """Shut the system down when it was built here (a borrowed one is left alone)."""
        if self._finalizer is not None:
            self._finalizer()


class OwnsSystem:
    """``system``, ``close()`` and the ``with`` block of an object over a :class:`SystemHandle`."""

    _handle: SystemHandle

    @property
    def system(self) -> DistributedSystem:
        """The distributed system the circuits run on."""
        return self._handle.system

    def close(self) -> None:
        """Shut down the system when this object built it (a system passed in stays open)."""
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
