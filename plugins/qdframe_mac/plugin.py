"""The ``mac`` plugin: registers the Mac hardware profiles with the HAL."""

from __future__ import annotations

import functools
from importlib import resources

import qdframe
from qdframe.plugin import HardwareProfile, Registrar, load_profiles_text

__all__ = ["DATA_FILES", "mac_profiles", "qdframe_register_hardware_profiles"]

#: The profile tables, in ``qdframe_mac/data``.
DATA_FILES: tuple[str, ...] = ("apple_silicon.toml", "intel_mac.toml")


@functools.cache
def mac_profiles() -> tuple[HardwareProfile, ...]:
    """Every Mac profile, validated, in file order.

    :raises qdframe.ConfigError: a data file is invalid (names file and key).
    """
    data = resources.files("qdframe_mac").joinpath("data")
    profiles: list[HardwareProfile] = []
    for name in DATA_FILES:
        text = data.joinpath(name).read_text(encoding="utf-8")
        profiles.extend(load_profiles_text(text, source=f"qdframe_mac/data/{name}"))
    return tuple(profiles)


@qdframe.hookimpl
def qdframe_register_hardware_profiles(registry: Registrar) -> None:
    """Register one profile per Mac chip, named by its ``system_type``."""
    for profile in mac_profiles():
        registry.add(profile.system_type, profile, description=profile.description)
