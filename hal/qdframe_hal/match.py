"""Closest profile for a host, with an explicit match level and score.

Levels, from most to least specific (a profile must run the host's OS on the
host's architecture for the first three):

* ``exact``: the CPU brand string matches one of the profile's
  ``brand_patterns`` (``"Apple M3 Pro"`` → ``apple_silicon_m3_pro``);
* ``family``: no exact match, but the brand matches a profile's
  ``family_patterns`` (a future ``"Apple M5"`` → the closest Apple silicon
  profile);
* ``architecture``: nothing knows the CPU; the closest profile for the same
  OS and architecture (the generic ones are preferred);
* ``generic``: nothing runs this OS on this architecture; the closest
  profile overall, as a fallback.

``score`` lies in [0, 1]: the level's base (exact 0.8, family 0.55,
architecture 0.3, generic 0.05) plus up to 0.2 for how well the profile's
cores, memory and GPUs agree with the host, so a higher level always
outscores a lower one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from qdframe.errors import RegistryError
from qdframe_hal.host import HostInfo
from qdframe_hal.profile import HardwareProfile, ProfileVariant

__all__ = ["LEVEL_BASE_SCORES", "MatchLevel", "ProfileMatch", "match_profile", "tailor_profile"]

MatchLevel = Literal["exact", "family", "architecture", "generic"]

#: Score of a match at each level before the agreement bonus.
LEVEL_BASE_SCORES: dict[str, float] = {
    "exact": 0.8,
    "family": 0.55,
    "architecture": 0.3,
    "generic": 0.05,
}
_AGREEMENT_WEIGHT = 0.2
_GIB = 2**30


class ProfileMatch(BaseModel):
    """The profile chosen for a host and why.

    :param level: ``"exact"``, ``"family"``, ``"architecture"`` or ``"generic"``.
    :param score: in [0, 1]; higher is closer (see the module docstring).
    :param profile: the matched profile as registered.
    :param effective: the matched profile with the host's measured values in
        place of the profile's (see :func:`tailor_profile`); its capabilities
        and recommended settings are the ones to use on this host.
    :param variant: the label of the profile variant the host is, when known.
    :param reason: one or two sentences saying why.
    :param host: what was measured.
    """

    model_config = ConfigDict(frozen=True)

    level: MatchLevel
    score: float
    profile: HardwareProfile
    effective: HardwareProfile
    variant: str | None
    reason: str
    host: HostInfo


def match_profile(host: HostInfo, profiles: Iterable[HardwareProfile]) -> ProfileMatch:
    """Find the profile closest to ``host``.

    :param host: what :func:`qdframe_hal.detect_host` measured.
    :param profiles: candidates, e.g. every profile a plugin set knows
        (:func:`qdframe_hal.all_profiles`).
    :raises RegistryError: there is no profile at all.
    """
    candidates = list(profiles)
    if not candidates:
        raise RegistryError(
            "no hardware profiles to match against: the HAL's own data is missing "
            "and no plugin registered any"
        )
    brand = host.cpu_brand
    platform = [p for p in candidates if p.os == host.os and p.cpu_arch == host.cpu_arch]
    level: MatchLevel
    exact = [p for p in platform if _pattern(brand, p.brand_patterns)]
    family = [p for p in platform if _pattern(brand, p.family_patterns)]
    if exact:
        level, pool = "exact", exact
    elif family:
        level, pool = "family", family
    elif platform:
        level, pool = "architecture", platform
    else:
        level, pool = "generic", candidates
    ranked = sorted(pool, key=lambda p: (-_agreement(host, p, level), p.system_type))
    best = ranked[0]
    score = round(LEVEL_BASE_SCORES[level] + _AGREEMENT_WEIGHT * _agreement(host, best, level), 4)
    effective, variant, changes = tailor_profile(best, host, level=level)
    reason = _why(host, best, level, ranked) + _changes_sentence(changes)
    return ProfileMatch(
        level=level,
        score=score,
        profile=best,
        effective=effective,
        variant=variant.label if variant else None,
        reason=reason,
        host=host,
    )


def tailor_profile(
    profile: HardwareProfile, host: HostInfo, *, level: MatchLevel = "exact"
) -> tuple[HardwareProfile, ProfileVariant | None, list[str]]:
    """The profile as this host has it: measured values replace nominal ones.

    At every level the host's CPU brand, core counts and usable memory (the
    container limit when lower than physical memory) replace the profile's
    when they were measured: a profile describes a kind of machine, the host
    is one machine. GPUs: measured ones when any were found; otherwise the
    profile's at ``exact`` level (with the GPU core count of the detected
    variant) and none below, where the profile's GPU would be a guess.
    Capabilities and recommended settings follow, since both are derived.

    :returns: the effective profile, the detected variant (or ``None``) and
        one line per replaced value, for explanations.
    """
    variant = profile.variant_for(
        brand=host.cpu_brand,
        performance_cores=host.performance_cores,
        efficiency_cores=host.efficiency_cores,
    )
    data: dict[str, Any] = profile.model_dump(exclude={"capabilities", "recommended_settings"})
    changes: list[str] = []
    if host.cpu_brand and host.cpu_brand != profile.cpu_model:
        data["cpu_model"] = host.cpu_brand
    performance, efficiency = host.performance_cores, host.efficiency_cores
    if not performance and host.cores:
        performance, efficiency = host.cores, 0
    if performance:
        efficiency = efficiency or 0
        if (performance, efficiency) != (profile.performance_cores, profile.efficiency_cores):
            changes.append(
                f"{_cores_text(performance, efficiency)} (profile: "
                f"{_cores_text(profile.performance_cores, profile.efficiency_cores)})"
            )
        known = {(profile.performance_cores, profile.efficiency_cores)} | {
            (v.performance_cores, v.efficiency_cores) for v in profile.variants
        }
        if level == "exact" and (performance, efficiency) not in known:
            changes.append("no known configuration of this chip has these core counts")
        data.update(
            performance_cores=performance,
            efficiency_cores=efficiency,
            cores=performance + efficiency,
        )
    memory = host.usable_memory_bytes
    if memory:
        if memory != profile.memory_bytes:
            limited = " (container limit)" if memory == host.memory_limit_bytes else ""
            changes.append(
                f"{_gib(memory)} memory{limited} (profile: {_gib(profile.memory_bytes)})"
            )
        data["memory_bytes"] = memory
    if host.gpus:
        data["gpus"] = [g.model_dump() for g in host.gpus]
        if host.gpus != profile.gpus:
            changes.append(f"{len(host.gpus)} measured GPU(s)")
    elif level != "exact":
        if profile.gpus:
            changes.append("no GPU measured (the profile's GPU is not assumed)")
        data["gpus"] = []
    elif variant is not None and variant.gpu_cores is not None:
        with_cores = [g for g in data["gpus"] if g.get("cores") is not None]
        if len(with_cores) == 1:
            with_cores[0]["cores"] = variant.gpu_cores
    return HardwareProfile.model_validate(data), variant, changes


def _pattern(brand: str | None, patterns: tuple[str, ...]) -> str | None:
    if not brand:
        return None
    return next((p for p in patterns if fnmatchcase(brand, p)), None)


def _agreement(host: HostInfo, profile: HardwareProfile, level: MatchLevel) -> float:
    """How well ``profile`` fits ``host`` on what was measured, in [0, 1]."""
    parts: list[float] = []
    configs = [(profile.performance_cores, profile.efficiency_cores)] + [
        (v.performance_cores, v.efficiency_cores) for v in profile.variants
    ]
    if host.performance_cores is not None and host.efficiency_cores is not None:
        distance = min(
            abs(p - host.performance_cores) + abs(e - host.efficiency_cores) for p, e in configs
        )
        parts.append(1 / (1 + distance))
    elif host.cores is not None:
        parts.append(1 / (1 + min(abs(p + e - host.cores) for p, e in configs)))
    if host.memory_bytes:
        options = profile.memory_options_bytes or (profile.memory_bytes,)
        distance_log2 = min(abs(math.log2(host.memory_bytes / o)) for o in options)
        parts.append(1 / (1 + distance_log2))
    parts.append(1.0 if host.has_cuda_gpu == profile.capabilities.cuda else 0.0)
    if level in ("architecture", "generic"):
        # Without a brand match, a profile that names a specific chip is a guess.
        parts.append(0.0 if profile.brand_patterns else 1.0)
    if level == "generic":
        parts.append(0.5 * (profile.cpu_arch == host.cpu_arch) + 0.5 * (profile.os == host.os))
    return sum(parts) / len(parts)


def _why(
    host: HostInfo, best: HardwareProfile, level: MatchLevel, ranked: list[HardwareProfile]
) -> str:
    brand = repr(host.cpu_brand) if host.cpu_brand else "an unreadable CPU brand"
    platform = f"{host.os}/{host.cpu_arch}"
    if level == "exact":
        pattern = _pattern(host.cpu_brand, best.brand_patterns)
        text = f"CPU {brand} matches {best.system_type} (brand pattern {pattern!r})."
    elif level == "family":
        pattern = _pattern(host.cpu_brand, best.family_patterns)
        text = (
            f"No profile names CPU {brand}; it belongs to family {best.family} "
            f"(pattern {pattern!r}) and {best.system_type} is the closest of "
            f"{len(ranked)} profiles by cores, memory and GPUs."
        )
    elif level == "architecture":
        text = (
            f"No profile names CPU {brand}; {best.system_type} is the closest of "
            f"{len(ranked)} profile(s) for {platform}"
            + (" with a CUDA GPU." if host.has_cuda_gpu else ".")
        )
    else:
        text = (
            f"No profile is for {platform}; {best.system_type} "
            f"({best.os}/{best.cpu_arch}) is used as a generic fallback."
        )
    return text


def _changes_sentence(changes: list[str]) -> str:
    if not changes:
        return ""
    return " Measured on this host and used instead: " + "; ".join(changes) + "."


def _cores_text(performance: int, efficiency: int) -> str:
    if efficiency:
        return f"{performance + efficiency} cores ({performance}P+{efficiency}E)"
    return f"{performance} cores"


def _gib(value: int) -> str:
    return f"{value / _GIB:.1f} GiB"
