"""The qdframe_mac plugin: Mac profiles, their brand strings and settings."""

from __future__ import annotations

import pytest
import qdframe_mac.plugin
from qdframe_mac import mac_profiles

import qdframe
from qdframe_hal import HardwareProfile, HostInfo, match_profile

GIB = 2**30

APPLE = [
    f"apple_silicon_m{generation}{tier}"
    for generation in (1, 2, 3, 4)
    for tier in ("", "_pro", "_max")
]
INTEL = ["intel_mac_i5", "intel_mac_i7", "intel_mac_i9"]

# Apple's published CPU configurations (performance, efficiency cores) per chip.
APPLE_CPU_CONFIGS = {
    "apple_silicon_m1": {(4, 4)},
    "apple_silicon_m1_pro": {(6, 2), (8, 2)},
    "apple_silicon_m1_max": {(8, 2)},
    "apple_silicon_m2": {(4, 4)},
    "apple_silicon_m2_pro": {(6, 4), (8, 4)},
    "apple_silicon_m2_max": {(8, 4)},
    "apple_silicon_m3": {(4, 4)},
    "apple_silicon_m3_pro": {(5, 6), (6, 6)},
    "apple_silicon_m3_max": {(10, 4), (12, 4)},
    "apple_silicon_m4": {(4, 4), (4, 6)},
    "apple_silicon_m4_pro": {(8, 4), (10, 4)},
    "apple_silicon_m4_max": {(10, 4), (12, 4)},
}
# Unified memory Apple sold with each chip, in GB.
APPLE_MEMORY_GB = {
    "apple_silicon_m1": {8, 16},
    "apple_silicon_m1_pro": {16, 32},
    "apple_silicon_m1_max": {32, 64},
    "apple_silicon_m2": {8, 16, 24},
    "apple_silicon_m2_pro": {16, 32},
    "apple_silicon_m2_max": {32, 64, 96},
    "apple_silicon_m3": {8, 16, 24},
    "apple_silicon_m3_pro": {18, 36},
    "apple_silicon_m3_max": {36, 48, 64, 96, 128},
    "apple_silicon_m4": {16, 24, 32},
    "apple_silicon_m4_pro": {24, 48, 64},
    "apple_silicon_m4_max": {36, 48, 64, 128},
}


def _profiles() -> dict[str, HardwareProfile]:
    return {p.system_type: p for p in mac_profiles()}


def test_fifteen_mac_profiles() -> None:
    assert sorted(p.system_type for p in mac_profiles()) == sorted(APPLE + INTEL)


def test_plugin_registers_every_profile_through_the_hook() -> None:
    loaded = qdframe.load_plugins(autoload=False, plugins=[("mac", qdframe_mac.plugin)])
    registry = loaded.registries.hardware_profiles
    assert sorted(registry.names()) == sorted(APPLE + INTEL)
    assert {e.plugin for e in registry.entries()} == {"mac"}
    assert not loaded.failures


def test_mac_plugin_is_installed_as_an_entry_point() -> None:
    loaded = qdframe.load_plugins()
    assert "mac" in {p.name for p in loaded.plugins}
    assert set(APPLE + INTEL) <= set(loaded.registries.hardware_profiles.names())


@pytest.mark.parametrize("system_type", APPLE)
def test_apple_core_counts_are_the_published_configurations(system_type: str) -> None:
    profile = next(p for p in mac_profiles() if p.system_type == system_type)
    configs = {(v.performance_cores, v.efficiency_cores) for v in profile.variants}
    assert configs == APPLE_CPU_CONFIGS[system_type]
    # The profile's own counts are the top configuration.
    top = max(configs, key=sum)
    assert (profile.performance_cores, profile.efficiency_cores) == top
    assert profile.cores == sum(top)
    assert {m // GIB for m in profile.memory_options_bytes} == APPLE_MEMORY_GB[system_type]
    assert profile.memory_bytes == min(profile.memory_options_bytes)
    (gpu,) = profile.gpus
    assert gpu.vendor == "Apple" and gpu.unified_memory
    assert gpu.cores == max(v.gpu_cores or 0 for v in profile.variants)


def test_binned_variants_carry_their_gpu_cores() -> None:
    profiles = _profiles()
    m3_pro = profiles["apple_silicon_m3_pro"]
    assert {(v.performance_cores + v.efficiency_cores, v.gpu_cores) for v in m3_pro.variants} == {
        (11, 14),
        (12, 18),
    }
    m4_pro = profiles["apple_silicon_m4_pro"]
    assert {(v.performance_cores + v.efficiency_cores, v.gpu_cores) for v in m4_pro.variants} == {
        (12, 16),
        (14, 20),
    }


@pytest.mark.parametrize("system_type", APPLE)
def test_apple_brand_strings_map_exactly(system_type: str) -> None:
    # apple_silicon_m3_pro <- "Apple M3 Pro"
    chip = system_type.removeprefix("apple_silicon_").split("_")
    brand = "Apple " + " ".join([chip[0].upper(), *(word.capitalize() for word in chip[1:])])
    host = HostInfo(os="macos", cpu_arch="arm64", cpu_brand=brand)
    match = match_profile(host, mac_profiles())
    assert (match.level, match.profile.system_type) == ("exact", system_type)


@pytest.mark.parametrize(
    ("brand", "system_type", "cores"),
    [
        ("Intel(R) Core(TM) i5-8259U CPU @ 2.30GHz", "intel_mac_i5", 4),
        ("Intel(R) Core(TM) i5-8210Y CPU @ 1.60GHz", "intel_mac_i5", 2),
        ("Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz", "intel_mac_i7", 6),
        ("Intel(R) Core(TM) i7-10700K CPU @ 3.80GHz", "intel_mac_i7", 8),
        ("Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz", "intel_mac_i9", 8),
        ("Intel(R) Core(TM) i9-10910 CPU @ 3.60GHz", "intel_mac_i9", 10),
    ],
)
def test_intel_brand_strings_map_to_tier_and_variant(
    brand: str, system_type: str, cores: int
) -> None:
    host = HostInfo(os="macos", cpu_arch="x86_64", cpu_brand=brand)
    match = match_profile(host, mac_profiles())
    assert (match.level, match.profile.system_type) == ("exact", system_type)
    variant = next(v for v in match.profile.variants if v.label == match.variant)
    assert variant.performance_cores == cores
    assert brand.split()[2] in variant.label  # the model number, e.g. "i5-8259U"


def test_intel_brand_on_linux_is_not_a_mac() -> None:
    host = HostInfo(
        os="linux", cpu_arch="x86_64", cpu_brand="Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz"
    )
    assert match_profile(host, mac_profiles()).level == "generic"


@pytest.mark.parametrize("system_type", APPLE + INTEL)
def test_recommended_settings(system_type: str) -> None:
    profile = _profiles()[system_type]
    settings = profile.recommended_settings
    assert settings["resources.executor_workers"] == profile.performance_cores
    expected_precision = "complex64" if profile.memory_bytes <= 8 * GIB else "complex128"
    assert settings["acceleration.precision"] == expected_precision
    expected_backend = "aer" if system_type.startswith("intel_mac") else "numpy"
    assert settings["acceleration.backend"] == expected_backend


def test_eight_gigabyte_machines_get_complex64() -> None:
    small = {p.system_type for p in mac_profiles() if p.memory_bytes == 8 * GIB}
    assert {"apple_silicon_m1", "apple_silicon_m2", "apple_silicon_m3"} <= small
    for system_type in small:
        assert (
            _profiles()[system_type].recommended_settings["acceleration.precision"] == "complex64"
        )


def test_intel_macs_have_no_efficiency_cores_and_list_variants() -> None:
    for system_type in INTEL:
        profile = _profiles()[system_type]
        assert profile.efficiency_cores == 0
        assert profile.variants
        assert profile.cores == max(v.performance_cores for v in profile.variants)
