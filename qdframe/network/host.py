"""This host's system type, and what the HAL knows about system types.

Every call into :mod:`qdframe_hal` is in this module, so the rest of the
network package works (with a simpler fallback) where the HAL is absent or
fails.
"""

from __future__ import annotations

import functools
import logging
import platform
from collections.abc import Callable

from qdframe.network.matching import SystemTraits, traits_from_name

__all__ = ["HostSystem", "detect_system", "system_traits"]

_log = logging.getLogger("qdframe.network")


class HostSystem:
    """The system type of this host and how well a HAL profile matched it."""

    def __init__(self, system_type: str, match_level: str, reason: str = "") -> None:
        self.system_type = system_type
        self.match_level = match_level
        self.reason = reason

    def __repr__(self) -> str:
        return f"HostSystem({self.system_type!r}, match_level={self.match_level!r})"


def _fallback_system_type() -> str:
    os_name = {"darwin": "macos"}.get(platform.system().lower(), platform.system().lower())
    machine = platform.machine().lower()
    arch = {"aarch64": "arm64", "amd64": "x86_64"}.get(machine, machine)
    return f"{os_name or 'unknown'}_{arch or 'unknown'}_generic"


@functools.cache
def detect_system() -> HostSystem:
    """Detect this host through the HAL (cached for the process).

    Falls back to ``<os>_<arch>_generic`` when the HAL is missing or fails.
    """
    try:
        from qdframe.plugins import default_plugins
        from qdframe_hal import all_profiles, detect_host, match_profile

        match = match_profile(detect_host(), all_profiles(default_plugins()))
        return HostSystem(match.profile.system_type, match.level, match.reason)
    except Exception as exc:  # detection must never stop the network client
        _log.debug("HAL detection unavailable (%s); using the platform name", exc)
        return HostSystem(_fallback_system_type(), "generic", "hardware detection unavailable")


def system_traits() -> Callable[[str], SystemTraits]:
    """Family and CPU architecture per system type, from the HAL's profiles.

    Ids the HAL does not know are read by :func:`traits_from_name`.
    """
    known: dict[str, SystemTraits] = {}
    try:
        from qdframe.plugins import default_plugins
        from qdframe_hal import all_profiles

        for profile in all_profiles(default_plugins()):
            known[profile.system_type] = SystemTraits(profile.family, profile.cpu_arch)
    except Exception as exc:
        _log.debug("HAL profiles unavailable (%s); matching by name only", exc)

    def traits(system_type: str) -> SystemTraits:
        return known.get(system_type) or traits_from_name(system_type)

    return traits
