"""Which system types a server accepts: a bounded, known set.

A contribution names its system type, and every new name would become a
row of the published table, so names are not free-form: the HAL's profile
ids, the generic ``<os>_<arch>_generic`` types a host without a matching
profile reports, and the extra types the operator lists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

__all__ = ["GENERIC_ARCHES", "GENERIC_SYSTEMS", "accepted_system_types"]

_log = logging.getLogger("qdframe.network.server")

#: Operating systems and CPU architectures of the generic fallback types
#: (the names :func:`qdframe.network.host.detect_system` can report).
GENERIC_SYSTEMS = ("linux", "macos", "windows", "freebsd")
GENERIC_ARCHES = ("x86_64", "arm64", "armv7l", "i686", "ppc64le", "s390x", "riscv64")


def _profile_ids() -> set[str]:
    try:
        from qdframe.plugins import default_plugins
        from qdframe_hal import all_profiles

        return {profile.system_type for profile in all_profiles(default_plugins())}
    except Exception as exc:  # the HAL is optional for the server
        _log.warning("HAL profiles unavailable (%s); accepting generic system types only", exc)
        return set()


def accepted_system_types(extra: Iterable[str] = ()) -> frozenset[str]:
    """HAL profile ids, generic types and ``extra``."""
    generic = {
        f"{os_name}_{arch}_generic" for os_name in GENERIC_SYSTEMS for arch in GENERIC_ARCHES
    }
    return frozenset(_profile_ids() | generic | set(extra))
