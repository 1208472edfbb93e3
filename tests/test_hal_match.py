"""Matching hosts to profiles: levels, scores and the host-adjusted profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from qdframe_mac import mac_profiles

from qdframe.errors import RegistryError
from qdframe.plugins import load_plugins
from qdframe_hal import (
    HostInfo,
    RecordedRunner,
    all_profiles,
    builtin_profiles,
    detect_host,
    match_profile,
    max_statevector_qubits,
)
from qdframe_hal.match import LEVEL_BASE_SCORES

DATA = Path(__file__).parent / "data" / "hal"
GIB = 2**30
EVERY_PROFILE = (*builtin_profiles(), *mac_profiles())


def _recorded(name: str, **replace: str) -> HostInfo:
    runner = RecordedRunner.from_toml(DATA / name)
    for command, output in replace.items():
        runner.commands[command] = output
    return detect_host(runner)


def _mac(brand: str, performance: int, efficiency: int, memory_gib: int) -> HostInfo:
    return HostInfo(
        os="macos",
        cpu_arch="arm64",
        cpu_vendor="Apple",
        cpu_brand=brand,
        performance_cores=performance,
        efficiency_cores=efficiency,
        cores=performance + efficiency,
        memory_bytes=memory_gib * GIB,
    )


def test_recorded_m3_pro_matches_exactly() -> None:
    match = match_profile(_recorded("macbook_pro_m3_pro.toml"), EVERY_PROFILE)
    assert match.level == "exact"
    assert match.profile.system_type == "apple_silicon_m3_pro"
    assert match.variant == "12-core CPU, 18-core GPU"
    # Cores are a sold configuration and 36 GB a sold option: full agreement.
    assert match.score == pytest.approx(1.0)
    assert "Apple M3 Pro" in match.reason
    assert match.effective.memory_bytes == 36 * GIB


def test_recorded_intel_i9_matches_exactly_with_its_variant() -> None:
    match = match_profile(_recorded("macbook_pro_i9_9980hk.toml"), EVERY_PROFILE)
    assert (match.level, match.profile.system_type) == ("exact", "intel_mac_i9")
    assert match.variant is not None and "i9-9980HK" in match.variant
    # The profile's top configuration is the 10-core iMac; this host has 8.
    assert match.profile.cores == 10
    assert (match.effective.cores, match.effective.efficiency_cores) == (8, 0)
    assert match.effective.cpu_model == "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz"
    assert match.effective.recommended_settings["resources.executor_workers"] == 8
    assert match.effective.recommended_settings["acceleration.backend"] == "aer"
    assert "8 cores" in match.reason


def test_binned_variant_sets_the_gpu_core_count() -> None:
    recorded = _recorded(
        "macbook_pro_m3_pro.toml",
        **{
            "sysctl -n hw.perflevel0.physicalcpu": "5\n",
            "sysctl -n hw.physicalcpu": "11\n",
            "sysctl -n hw.memsize": str(18 * GIB) + "\n",
        },
    )
    match = match_profile(recorded, EVERY_PROFILE)
    assert match.variant == "11-core CPU, 14-core GPU"
    assert (match.effective.performance_cores, match.effective.efficiency_cores) == (5, 6)
    assert match.effective.gpus[0].cores == 14
    assert match.profile.gpus[0].cores == 18  # the registered profile is untouched


def test_unknown_apple_chip_matches_its_family() -> None:
    host = _recorded(
        "macbook_pro_m3_pro.toml",
        **{
            "sysctl -n machdep.cpu.brand_string": "Apple M7 Ultra\n",
            "sysctl -n hw.perflevel0.physicalcpu": "32\n",
            "sysctl -n hw.perflevel1.physicalcpu": "8\n",
            "sysctl -n hw.physicalcpu": "40\n",
            "sysctl -n hw.memsize": str(256 * GIB) + "\n",
        },
    )
    match = match_profile(host, EVERY_PROFILE)
    assert match.level == "family"
    assert match.profile.family == "apple_silicon"
    assert match.profile.system_type.startswith("apple_silicon_m")
    assert LEVEL_BASE_SCORES["family"] <= match.score < LEVEL_BASE_SCORES["exact"]
    assert "Apple M7 Ultra" in match.reason and "Apple M*" in match.reason
    # Measured values replace the borrowed profile's.
    effective = match.effective
    assert (effective.performance_cores, effective.efficiency_cores) == (32, 8)
    assert effective.memory_bytes == 256 * GIB
    assert effective.cpu_model == "Apple M7 Ultra"
    assert effective.capabilities.max_statevector_qubits["complex128"] == max_statevector_qubits(
        256 * GIB
    )
    # A guessed GPU is not carried over below the exact level.
    assert effective.gpus == ()


def test_family_level_picks_the_closest_chip() -> None:
    # A hypothetical "Apple M5" laid out like an M4 (4P+6E, 16 GB).
    match = match_profile(_mac("Apple M5", 4, 6, 16), EVERY_PROFILE)
    assert (match.level, match.profile.system_type) == ("family", "apple_silicon_m4")


def test_intel_mac_cpu_outside_the_table_matches_the_family() -> None:
    host = HostInfo(
        os="macos",
        cpu_arch="x86_64",
        cpu_brand="Intel(R) Xeon(R) W-2140B CPU @ 3.20GHz",
        performance_cores=8,
        efficiency_cores=0,
        cores=8,
        memory_bytes=32 * GIB,
    )
    match = match_profile(host, EVERY_PROFILE)
    assert match.level == "family"
    assert match.profile.family == "intel_mac"


def test_linux_arm64_matches_by_architecture() -> None:
    match = match_profile(_recorded("linux_arm64_graviton2.toml"), EVERY_PROFILE)
    assert (match.level, match.profile.system_type) == ("architecture", "linux_arm64_generic")
    assert LEVEL_BASE_SCORES["architecture"] <= match.score < LEVEL_BASE_SCORES["family"]
    assert match.effective.cores == 4
    assert "linux/arm64" in match.reason


def test_linux_arm64_without_an_arm64_profile_falls_back_to_generic() -> None:
    x86_only = [p for p in EVERY_PROFILE if p.cpu_arch == "x86_64"]
    match = match_profile(_recorded("linux_arm64_graviton2.toml"), x86_only)
    assert match.level == "generic"
    assert match.score < LEVEL_BASE_SCORES["architecture"]
    # The closest fallback still runs the same OS, and is a generic profile.
    assert match.profile.os == "linux"
    assert not match.profile.brand_patterns
    assert "fallback" in match.reason


def test_gpu_host_gets_the_nvidia_profile_and_gpu_capabilities() -> None:
    match = match_profile(_recorded("linux_x86_64_a100x2.toml"), EVERY_PROFILE)
    assert match.profile.system_type == "linux_x86_64_nvidia"
    gpus = match.effective.gpus
    assert [g.name for g in gpus] == ["NVIDIA A100-SXM4-40GB"] * 2
    assert match.effective.recommended_settings["acceleration.use_gpu"] is True


def test_host_without_gpu_gets_the_plain_profile() -> None:
    match = match_profile(_recorded("linux_x86_64_epyc_vm.toml"), EVERY_PROFILE)
    assert match.profile.system_type == "linux_x86_64_generic"
    assert match.effective.recommended_settings["acceleration.use_gpu"] is False
    assert match.effective.recommended_settings["resources.executor_workers"] == 2


def test_container_limit_bounds_the_effective_memory() -> None:
    match = match_profile(_recorded("linux_x86_64_h100_container.toml"), EVERY_PROFILE)
    assert match.effective.memory_bytes == 100 * GIB
    assert match.effective.capabilities.max_statevector_qubits == {
        p: max_statevector_qubits(100 * GIB, p) for p in ("complex64", "complex128")
    }
    assert "container limit" in match.reason


def test_without_mac_profiles_a_mac_matches_the_generic_mac_profile() -> None:
    match = match_profile(_recorded("macbook_pro_m3_pro.toml"), builtin_profiles())
    assert (match.level, match.profile.system_type) == ("architecture", "macos_arm64_generic")


def test_levels_score_in_strict_order() -> None:
    exact = match_profile(_mac("Apple M3 Pro", 6, 6, 36), EVERY_PROFILE)
    family = match_profile(_mac("Apple M9", 6, 6, 36), EVERY_PROFILE)
    architecture = match_profile(_mac("Some Arm CPU", 6, 6, 36), EVERY_PROFILE)
    generic = match_profile(
        HostInfo(os="haiku", cpu_arch="arm64", cores=12, memory_bytes=36 * GIB), EVERY_PROFILE
    )
    levels = [m.level for m in (exact, family, architecture, generic)]
    assert levels == ["exact", "family", "architecture", "generic"]
    assert exact.score > family.score > architecture.score > generic.score


def test_memory_drives_the_recommended_precision_on_the_host() -> None:
    eight = match_profile(_mac("Apple M1", 4, 4, 8), EVERY_PROFILE).effective
    sixteen = match_profile(_mac("Apple M1", 4, 4, 16), EVERY_PROFILE).effective
    assert eight.recommended_settings["acceleration.precision"] == "complex64"
    assert sixteen.recommended_settings["acceleration.precision"] == "complex128"


def test_unknown_values_keep_the_profile_values() -> None:
    host = HostInfo(os="macos", cpu_arch="arm64", cpu_brand="Apple M2 Max")
    match = match_profile(host, EVERY_PROFILE)
    assert match.level == "exact"
    assert match.effective.cores == match.profile.cores
    assert match.effective.memory_bytes == match.profile.memory_bytes
    assert match.effective.gpus == match.profile.gpus


def test_no_profiles_is_an_error() -> None:
    with pytest.raises(RegistryError, match="no hardware profiles"):
        match_profile(HostInfo(os="linux", cpu_arch="x86_64"), [])


def test_default_profiles_include_the_mac_plugin() -> None:
    match = match_profile(_recorded("macbook_pro_m3_pro.toml"), all_profiles(load_plugins()))
    assert match.profile.system_type == "apple_silicon_m3_pro"
    assert {p.system_type for p in all_profiles(load_plugins())} >= {
        p.system_type for p in EVERY_PROFILE
    }
