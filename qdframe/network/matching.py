"""Choosing the shared data that fits this host: exact or closest match.

System types are HAL profile ids (``apple_silicon_m3_pro``). When no data
exists for this host's type, the closest one is used and the level of the
match is stated: ``family`` (same product line, e.g. M3 Pro → M3),
``architecture`` (same CPU architecture) or ``generic`` (anything, the one
with the most contributors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from qdframe.network.schemas import SystemOptimization

__all__ = ["MatchLevel", "SystemMatch", "SystemTraits", "closest_match", "traits_from_name"]

MatchLevel = Literal["exact", "family", "architecture", "generic"]

_ARCH_MARKERS: tuple[tuple[str, str], ...] = (
    ("apple_silicon", "arm64"),
    ("aarch64", "arm64"),
    ("arm64", "arm64"),
    ("intel_mac", "x86_64"),
    ("x86_64", "x86_64"),
    ("amd64", "x86_64"),
)


@dataclass(frozen=True)
class SystemTraits:
    """What matching needs to know about a system type."""

    family: str | None
    cpu_arch: str | None


@dataclass(frozen=True)
class SystemMatch:
    """The shared data chosen for ``requested`` and how close it is."""

    requested: str
    data: SystemOptimization
    level: MatchLevel

    @property
    def system_type(self) -> str:
        return self.data.system_type


def traits_from_name(system_type: str) -> SystemTraits:
    """Traits read from the id alone (``apple_silicon_m3`` → family ``apple_silicon``, arm64).

    The HAL's profiles know better; this is the fallback for ids it does not know.
    """
    parts = system_type.split("_")
    family = "_".join(parts[:2]) if len(parts) >= 3 else None
    arch = next((a for marker, a in _ARCH_MARKERS if marker in system_type), None)
    return SystemTraits(family, arch)


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("_"), b.split("_"), strict=False):
        if x != y:
            break
        count += 1
    return count


def closest_match(
    system_type: str,
    available: Sequence[SystemOptimization],
    *,
    traits: Callable[[str], SystemTraits] = traits_from_name,
) -> SystemMatch | None:
    """The best data for ``system_type`` among ``available``; ``None`` if there is none.

    Within a level, the system type sharing the longest id prefix wins (M3 Pro
    → M3 before M1), then the one with the most contributors.

    :param traits: family and architecture of a system type (the HAL's
        profiles know more than the id does).
    """
    if not available:
        return None
    for entry in available:
        if entry.system_type == system_type:
            return SystemMatch(system_type, entry, "exact")

    def rank(entry: SystemOptimization) -> tuple[int, int, int, str]:
        return (
            _common_prefix(system_type, entry.system_type),
            entry.contributor_count,
            entry.optimization_count,
            entry.system_type,
        )

    own = traits(system_type)
    if own.family is not None:
        family = [e for e in available if traits(e.system_type).family == own.family]
        if family:
            return SystemMatch(system_type, max(family, key=rank), "family")
    if own.cpu_arch is not None:
        same_arch = [e for e in available if traits(e.system_type).cpu_arch == own.cpu_arch]
        if same_arch:
            return SystemMatch(system_type, max(same_arch, key=rank), "architecture")
    return SystemMatch(system_type, max(available, key=rank), "generic")
