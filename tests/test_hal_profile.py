"""HardwareProfile, the capacity rule and the TOML profile loader."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

import qdframe
from qdframe.errors import ConfigError
from qdframe_hal import (
    GPUInfo,
    HardwareProfile,
    all_profiles,
    builtin_profiles,
    load_profiles,
    load_profiles_text,
    max_statevector_qubits,
    profile_entries,
    statevector_bytes,
)

GIB = 2**30


def _largest_fitting(memory_bytes: int, bytes_per_amplitude: int, share: float, copies: int) -> int:
    """Count up qubit by qubit until the next one no longer fits (no closed form)."""
    n = 0
    while copies * bytes_per_amplitude * 2 ** (n + 1) <= share * memory_bytes:
        n += 1
    return n


def _profile(**overrides: object) -> HardwareProfile:
    fields: dict[str, object] = {
        "system_type": "test_box",
        "vendor": "Test",
        "family": "test",
        "os": "linux",
        "cpu_arch": "x86_64",
        "cpu_model": "Test CPU",
        "performance_cores": 4,
        "efficiency_cores": 0,
        "cores": 4,
        "memory_bytes": 16 * GIB,
    }
    fields.update(overrides)
    return HardwareProfile.model_validate(fields)


# ---------------------------------------------------------------- capacity


@pytest.mark.parametrize(
    "memory_bytes", [1 * GIB, 8 * GIB, 18 * GIB, 24 * GIB, 36 * GIB, 100 * GIB, 25276502016]
)
def test_host_max_qubits_follow_the_documented_rule(memory_bytes: int) -> None:
    # Host rule (the backends' own): the state within 4/5 of memory.
    assert max_statevector_qubits(memory_bytes, "complex128") == _largest_fitting(
        memory_bytes, 16, 0.8, 1
    )
    assert max_statevector_qubits(memory_bytes, "complex64") == _largest_fitting(
        memory_bytes, 8, 0.8, 1
    )


def test_complex64_holds_exactly_one_more_qubit_than_complex128() -> None:
    for gib in (2, 8, 16, 36, 64, 128):
        assert (
            max_statevector_qubits(gib * GIB, "complex64")
            == max_statevector_qubits(gib * GIB, "complex128") + 1
        )


def test_statevector_bytes_is_sixteen_bytes_per_amplitude_at_complex128() -> None:
    assert statevector_bytes(30, "complex128") == 16 * 2**30
    assert statevector_bytes(30, "complex64") == 8 * 2**30


def test_unknown_precision_is_a_config_error_listing_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match="complex256") as info:
        max_statevector_qubits(GIB, "complex256")
    assert "complex64" in str(info.value) and "complex128" in str(info.value)


def test_profile_capabilities_are_derived_from_memory_and_cuda_gpus() -> None:
    gpu = GPUInfo(vendor="NVIDIA", name="NVIDIA H100", memory_bytes=80 * GIB)
    profile = _profile(memory_bytes=64 * GIB, gpus=(gpu,))
    caps = profile.capabilities
    assert caps.max_statevector_qubits["complex128"] == _largest_fitting(64 * GIB, 16, 0.8, 1)
    # GPU rule: the state alone within 9/10 of device memory.
    assert caps.max_gpu_statevector_qubits["complex128"] == _largest_fitting(80 * GIB, 16, 0.9, 1)
    assert caps.cuda is True
    no_gpu = _profile(memory_bytes=64 * GIB)
    assert no_gpu.capabilities.max_gpu_statevector_qubits == {}
    assert no_gpu.capabilities.cuda is False


# ---------------------------------------------------------------- model


def test_cores_must_add_up() -> None:
    with pytest.raises(ValidationError, match=r"cores \(12\) must equal"):
        _profile(performance_cores=6, efficiency_cores=4, cores=12)


def test_system_type_must_be_a_registry_friendly_id() -> None:
    with pytest.raises(ValidationError, match="lowercase"):
        _profile(system_type="Apple-M3")


def test_profile_is_frozen() -> None:
    profile = _profile()
    with pytest.raises(ValidationError):
        profile.cores = 8


def test_recommended_settings_derive_from_size_and_keep_overrides() -> None:
    small = _profile(memory_bytes=8 * GIB, performance_cores=4, efficiency_cores=4, cores=8)
    assert small.recommended_settings["acceleration.precision"] == "complex64"
    assert small.recommended_settings["resources.executor_workers"] == 4
    assert small.recommended_settings["acceleration.backend"] == "numpy"
    big = _profile(memory_bytes=9 * GIB, setting_overrides={"acceleration.backend": "aer"})
    assert big.recommended_settings["acceleration.precision"] == "complex128"
    assert big.recommended_settings["acceleration.backend"] == "aer"


def test_setting_override_keys_must_be_dotted_paths() -> None:
    with pytest.raises(ValidationError, match="dotted lowercase path"):
        _profile(setting_overrides={"Acceleration Precision": "complex64"})


def test_dump_contains_derived_fields_and_round_trips_without_them() -> None:
    profile = _profile()
    data = profile.model_dump(mode="json")
    assert "capabilities" in data and "recommended_settings" in data
    again = HardwareProfile.model_validate(
        {k: v for k, v in data.items() if k not in {"capabilities", "recommended_settings"}}
    )
    assert again == profile


# ---------------------------------------------------------------- loader

GOOD = """
[defaults]
vendor = "Test"
family = "test"
os = "linux"
cpu_arch = "arm64"

[defaults.setting_overrides]
"acceleration.backend" = "aer"

[profiles.box_small]
cpu_model = "Box S"
performance_cores = 2
efficiency_cores = 2
memory_options_gib = [4, 8]

[profiles.box_small.setting_overrides]
"resources.executor_workers" = 3

[profiles.box_big]
cpu_model = "Box L"
performance_cores = 8
memory_gib = 64
gpus = [{ vendor = "NVIDIA", name = "GPU", memory_gib = 24, compute_capability = "8.9" }]
"""


def test_loader_converts_units_and_fills_conveniences() -> None:
    small, big = load_profiles_text(GOOD, source="good.toml")
    assert small.system_type == "box_small"
    assert small.cores == 4
    assert small.memory_options_bytes == (4 * GIB, 8 * GIB)
    assert small.memory_bytes == 4 * GIB  # the smallest option
    assert big.memory_bytes == 64 * GIB
    assert big.gpus[0].memory_bytes == 24 * GIB
    # [defaults] tables merge key by key with the profile's own.
    assert small.setting_overrides == {
        "acceleration.backend": "aer",
        "resources.executor_workers": 3,
    }
    assert big.setting_overrides == {"acceleration.backend": "aer"}


def test_loader_reads_files(tmp_path: Path) -> None:
    path = tmp_path / "boxes.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert [p.system_type for p in load_profiles(path)] == ["box_small", "box_big"]


def _error(text: str, source: str = "bad.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_profiles_text(textwrap.dedent(text), source=source)
    return info.value


BASE = """
[profiles.box]
vendor = "Test"
family = "test"
os = "linux"
cpu_arch = "x86_64"
cpu_model = "Box"
memory_gib = 8
"""


def test_wrong_type_names_file_and_key() -> None:
    error = _error(BASE + 'performance_cores = "eight"\n')
    assert error.source == "bad.toml"
    assert error.key_path == "profiles.box.performance_cores"
    assert "eight" in str(error)


def test_unknown_key_lists_the_allowed_keys() -> None:
    error = _error(BASE + "performance_cores = 4\nthreads = 8\n")
    assert error.key_path == "profiles.box.threads"
    assert error.allowed is not None
    assert "performance_cores" in error.allowed and "memory_gib" in error.allowed


def test_missing_key_is_named() -> None:
    error = _error(BASE)
    assert error.key_path == "profiles.box.performance_cores"
    assert "missing" in str(error)


def test_invalid_toml_names_the_file() -> None:
    error = _error("[profiles.box\nvendor = 1\n", source="broken.toml")
    assert error.source == "broken.toml"
    assert "invalid TOML" in str(error)


def test_bad_gpu_field_has_an_indexed_path() -> None:
    error = _error(
        BASE + "performance_cores = 4\n"
        'gpus = [{ vendor = "NVIDIA", name = "A", memory_gib = -1 }]\n'
    )
    assert error.key_path == "profiles.box.gpus.0.memory_gib"


def test_error_coming_from_defaults_blames_defaults() -> None:
    error = _error(
        """
        [defaults]
        os = "windows"
        [profiles.box]
        vendor = "Test"
        family = "test"
        cpu_arch = "x86_64"
        cpu_model = "Box"
        memory_gib = 8
        performance_cores = 4
        """
    )
    assert error.key_path == "defaults.os"
    assert "macos" in str(error) and "linux" in str(error)


def test_derived_fields_cannot_be_set() -> None:
    error = _error(BASE + "performance_cores = 4\n[profiles.box.capabilities]\ncuda = true\n")
    assert error.key_path == "profiles.box.capabilities"
    assert "derived" in str(error)


def test_system_type_must_match_the_table_name() -> None:
    error = _error(BASE + 'performance_cores = 4\nsystem_type = "other"\n')
    assert error.key_path == "profiles.box.system_type"


def test_bytes_and_gib_together_are_rejected() -> None:
    error = _error(BASE + "performance_cores = 4\nmemory_bytes = 1024\n")
    assert error.key_path == "profiles.box.memory_gib"
    assert "either" in str(error)


def test_unknown_top_level_table_is_rejected() -> None:
    error = _error("[machines.box]\nvendor = 'x'\n")
    assert error.key_path == "machines"
    assert error.allowed == "defaults, profiles"


def test_file_without_profiles_is_rejected() -> None:
    assert "no profiles" in str(_error("[defaults]\nvendor = 'x'\n"))


# ---------------------------------------------------------------- built-ins and registry


def test_builtin_generic_profiles_cover_linux_and_macos() -> None:
    by_name = {p.system_type: p for p in builtin_profiles()}
    assert {
        "linux_x86_64_generic",
        "linux_x86_64_nvidia",
        "linux_arm64_generic",
        "linux_arm64_nvidia",
        "macos_arm64_generic",
        "macos_x86_64_generic",
    } <= set(by_name)
    assert by_name["linux_x86_64_nvidia"].capabilities.cuda
    assert not by_name["linux_x86_64_generic"].capabilities.cuda
    # Generic profiles match by platform only.
    assert all(not p.brand_patterns and not p.family_patterns for p in by_name.values())


class _ProfilePlugin:
    """A real plugin object registering hardware profiles."""

    def __init__(self, *profiles: tuple[str, object]) -> None:
        self.profiles = profiles

    @qdframe.hookimpl
    def qdframe_register_hardware_profiles(self, registry: object) -> None:
        for name, profile in self.profiles:
            registry.add(name, profile)  # type: ignore[attr-defined]


def test_all_profiles_are_builtins_then_registered_ones() -> None:
    extra = _profile(system_type="lab_box")
    loaded = qdframe.load_plugins(
        autoload=False, plugins=[("lab", _ProfilePlugin(("lab_box", extra)))]
    )
    entries = profile_entries(loaded)
    assert entries[-1].profile == extra and entries[-1].source == "lab"
    assert {e.source for e in entries[:-1]} == {"qdframe_hal"}
    assert all_profiles(loaded)[-1] == extra


def test_plugin_cannot_replace_a_builtin_profile(caplog: pytest.LogCaptureFixture) -> None:
    impostor = _profile(system_type="linux_x86_64_generic", cores=99, performance_cores=99)
    loaded = qdframe.load_plugins(
        autoload=False, plugins=[("impostor", _ProfilePlugin(("linux_x86_64_generic", impostor)))]
    )
    with caplog.at_level(logging.WARNING):
        profiles = all_profiles(loaded)
    generic = [p for p in profiles if p.system_type == "linux_x86_64_generic"]
    assert len(generic) == 1 and generic[0].cores != 99
    assert "impostor" in caplog.text


def test_registry_rejects_a_profile_under_another_name() -> None:
    loaded = qdframe.load_plugins(
        autoload=False, plugins=[("wrong", _ProfilePlugin(("lab_box", _profile(system_type="x"))))]
    )
    assert "lab_box" not in loaded.registries.hardware_profiles
    failure = next(f for f in loaded.failures if f.name == "wrong")
    assert "system_type is 'x'" in failure.cause


def test_importing_the_hal_loads_no_simulator() -> None:
    code = (
        "import sys, qdframe_hal; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'qiskit', 'qiskit_aer', 'numpy'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_bad_core_count_is_reported_alone() -> None:
    # cores is filled from performance_cores; its absence must not be reported too.
    error = _error(BASE + 'performance_cores = "four"\n')
    assert error.key_path == "profiles.box.performance_cores"
    assert "more problem" not in str(error)
