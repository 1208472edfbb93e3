"""Every known profile: the HAL's own generic ones plus those plugins register."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qdframe_hal.loader import builtin_profiles
from qdframe_hal.profile import HardwareProfile

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins

__all__ = ["BUILTIN_SOURCE", "ProfileEntry", "all_profiles", "profile_entries"]

#: The source named for the HAL's own profiles.
BUILTIN_SOURCE = "qdframe_hal"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileEntry:
    """A profile and where it comes from.

    :param source: ``"qdframe_hal"`` for the HAL's own profiles, otherwise the
        name of the plugin that registered it.
    """

    profile: HardwareProfile
    source: str
    description: str = ""


def profile_entries(plugins: LoadedPlugins) -> tuple[ProfileEntry, ...]:
    """The HAL's profiles, then those in the ``hardware_profiles`` registry.

    :param plugins: the plugin set to read.

    A plugin profile whose ``system_type`` is already one of the HAL's own is
    skipped with a warning: the built-in generic profiles are what the
    fallback levels rely on.
    """
    entries = [ProfileEntry(p, BUILTIN_SOURCE, p.description) for p in builtin_profiles()]
    taken = {e.profile.system_type for e in entries}
    for entry in plugins.registries.hardware_profiles.entries():
        if entry.name in taken:
            _log.warning(
                "plugin %r registered hardware profile %r, which qdframe_hal already "
                "provides; the plugin's profile is ignored",
                entry.plugin,
                entry.name,
            )
            continue
        entries.append(ProfileEntry(entry.obj, entry.plugin, entry.description))
    return tuple(entries)


def all_profiles(plugins: LoadedPlugins) -> tuple[HardwareProfile, ...]:
    """Every known profile: :func:`builtin_profiles` then the registered ones."""
    return tuple(e.profile for e in profile_entries(plugins))
