"""Host detection from recorded outputs of real machines (tests/data/hal)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from qdframe.errors import ConfigError
from qdframe_hal import (
    HostInfo,
    LocalRunner,
    RecordedRunner,
    RecordingRunner,
    detect_host,
)
from qdframe_hal.detect import NVIDIA_SMI_QUERY, normalise_arch, normalise_os, parse_nvidia_smi

DATA = Path(__file__).parent / "data" / "hal"
GIB = 2**30
MIB = 2**20


def _host(name: str) -> HostInfo:
    return detect_host(RecordedRunner.from_toml(DATA / name))


def _memtotal_bytes(name: str) -> int:
    """MemTotal as the recording states it (kB in /proc/meminfo are KiB)."""
    meminfo = RecordedRunner.from_toml(DATA / name).files["/proc/meminfo"]
    line = next(line for line in meminfo.splitlines() if line.startswith("MemTotal:"))
    return int(line.split()[1]) * 1024


# ---------------------------------------------------------------- macOS


def test_m3_pro_macbook() -> None:
    host = _host("macbook_pro_m3_pro.toml")
    assert (host.os, host.cpu_arch, host.cpu_vendor) == ("macos", "arm64", "Apple")
    assert host.cpu_brand == "Apple M3 Pro"
    assert host.model_identifier == "Mac15,6"
    assert (host.performance_cores, host.efficiency_cores, host.cores) == (6, 6, 12)
    assert host.memory_bytes == 36 * GIB
    assert host.gpus == ()
    assert not host.translated and host.notes == ()


def test_intel_i9_macbook_has_no_efficiency_cores() -> None:
    host = _host("macbook_pro_i9_9980hk.toml")
    assert (host.os, host.cpu_arch, host.cpu_vendor) == ("macos", "x86_64", "Intel")
    assert host.cpu_brand == "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz"
    assert (host.performance_cores, host.efficiency_cores, host.cores) == (8, 0, 8)
    assert host.logical_cpus == 16
    assert host.memory_bytes == 32 * GIB


def test_rosetta_is_seen_through() -> None:
    host = _host("macbook_air_m1_rosetta.toml")
    assert host.cpu_arch == "arm64"
    assert host.translated
    assert any("Rosetta" in note for note in host.notes)


def test_mac_with_failing_sysctl_reports_unknowns_without_raising() -> None:
    host = detect_host(RecordedRunner({"uname -s": "Darwin\n", "uname -m": "arm64\n"}))
    assert host.os == "macos"
    assert host.cpu_brand is None and host.memory_bytes is None and host.cores is None
    assert any("brand_string" in n for n in host.notes)
    assert any("hw.memsize" in n for n in host.notes)


# ---------------------------------------------------------------- Linux


def test_linux_vm_without_gpu() -> None:
    host = _host("linux_x86_64_epyc_vm.toml")
    assert (host.os, host.cpu_arch, host.cpu_vendor) == ("linux", "x86_64", "AMD")
    assert host.cpu_brand == "AMD EPYC"
    assert (host.cores, host.logical_cpus) == (2, 2)
    assert host.memory_bytes == _memtotal_bytes("linux_x86_64_epyc_vm.toml")
    assert host.memory_limit_bytes is None  # cgroup v1 "unlimited"
    assert host.gpus == ()
    assert host.notes == ()


def test_linux_with_two_a100s_and_hyperthreads() -> None:
    host = _host("linux_x86_64_a100x2.toml")
    assert host.cpu_vendor == "Intel"
    # 24 hardware threads on 12 physical cores.
    assert (host.cores, host.logical_cpus) == (12, 24)
    assert (host.performance_cores, host.efficiency_cores) == (12, 0)
    assert host.memory_bytes == _memtotal_bytes("linux_x86_64_a100x2.toml")
    assert [g.name for g in host.gpus] == ["NVIDIA A100-SXM4-40GB"] * 2
    assert all(g.memory_bytes == 40960 * MIB for g in host.gpus)
    assert all(g.compute_capability == "8.0" and g.is_cuda for g in host.gpus)
    assert host.has_cuda_gpu


def test_container_memory_limit_is_reported_and_used() -> None:
    host = _host("linux_x86_64_h100_container.toml")
    assert host.cores == 26  # KVM shows one socket per vCPU
    assert host.memory_limit_bytes == 100 * GIB
    assert host.memory_bytes is not None and host.memory_bytes > 200 * GIB
    assert host.usable_memory_bytes == 100 * GIB
    (gpu,) = host.gpus
    assert (gpu.name, gpu.memory_bytes, gpu.compute_capability) == (
        "NVIDIA H100 PCIe",
        81559 * MIB,
        "9.0",
    )


def test_cgroup_v1_memory_limit_of_this_process() -> None:
    runner = RecordedRunner(
        {"uname -s": "Linux\n", "uname -m": "x86_64\n"},
        {
            "/proc/meminfo": "MemTotal:       65536000 kB\n",
            "/proc/self/cgroup": "5:cpu,cpuacct:/docker/ab12\n4:memory:/docker/ab12\n",
            "/sys/fs/cgroup/memory/docker/ab12/memory.limit_in_bytes": "8589934592\n",
        },
    )
    host = detect_host(runner)
    assert host.memory_limit_bytes == 8 * GIB
    assert host.usable_memory_bytes == 8 * GIB


def test_linux_arm64_graviton() -> None:
    host = _host("linux_arm64_graviton2.toml")
    assert (host.os, host.cpu_arch) == ("linux", "arm64")
    assert host.cpu_vendor == "Arm"
    assert host.cpu_brand == "Arm Neoverse-N1"
    assert (host.cores, host.logical_cpus) == (4, 4)
    assert host.memory_limit_bytes is None  # memory.max says "max"


def _hybrid_cpuinfo() -> str:
    # Intel Core i9-12900K: 8 P-cores with two threads each (CPUs 0-15), 8 E-cores (16-23).
    blocks = []
    for cpu in range(24):
        core = cpu // 2 * 4 if cpu < 16 else 32 + (cpu - 16)
        blocks.append(
            f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\n"
            "model name\t: 12th Gen Intel(R) Core(TM) i9-12900K\n"
            f"physical id\t: 0\ncore id\t\t: {core}\ncpu cores\t: 16\n"
        )
    return "\n".join(blocks)


def test_intel_hybrid_cpu_is_split_into_performance_and_efficiency_cores() -> None:
    runner = RecordedRunner(
        {"uname -s": "Linux\n", "uname -m": "x86_64\n"},
        {
            "/proc/cpuinfo": _hybrid_cpuinfo(),
            "/proc/meminfo": "MemTotal:       65536000 kB\n",
            "/sys/devices/cpu_core/cpus": "0-15\n",
            "/sys/devices/cpu_atom/cpus": "16-23\n",
        },
    )
    host = detect_host(runner)
    assert (host.performance_cores, host.efficiency_cores, host.cores) == (8, 8, 16)
    assert host.logical_cpus == 24


def test_driver_present_but_nvidia_smi_failing_is_noted() -> None:
    runner = RecordedRunner(
        {"uname -s": "Linux\n", "uname -m": "x86_64\n"},
        {"/proc/driver/nvidia/version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module 550.54\n"},
    )
    host = detect_host(runner)
    assert host.gpus == ()
    assert any("nvidia-smi failed" in note for note in host.notes)


def test_old_driver_without_compute_cap_falls_back_to_the_short_query() -> None:
    runner = RecordedRunner(
        {
            "uname -s": "Linux\n",
            "uname -m": "x86_64\n",
            "nvidia-smi --query-gpu=name,memory.total --format=csv,noheader": (
                "Tesla V100-SXM2-16GB, 16160 MiB\n"
            ),
        }
    )
    (gpu,) = detect_host(runner).gpus
    assert gpu.name == "Tesla V100-SXM2-16GB"
    assert gpu.memory_bytes == 16160 * MIB
    assert gpu.compute_capability is None


def test_detection_asks_for_the_documented_nvidia_smi_query() -> None:
    runner = RecordedRunner({"uname -s": "Linux\n", "uname -m": "x86_64\n"})
    detect_host(runner)
    assert shlex.join(NVIDIA_SMI_QUERY) in runner.unanswered
    assert NVIDIA_SMI_QUERY == (
        "nvidia-smi",
        "--query-gpu=name,memory.total,compute_cap",
        "--format=csv,noheader",
    )


def test_unknown_system_keeps_only_the_architecture() -> None:
    host = detect_host(RecordedRunner({"uname -s": "FreeBSD\n", "uname -m": "amd64\n"}))
    assert (host.os, host.cpu_arch) == ("freebsd", "x86_64")
    assert host.cores is None
    assert any("FreeBSD" in note for note in host.notes)


def test_explicit_system_and_machine_override_uname() -> None:
    host = detect_host(RecordedRunner({}), system="Linux", machine="aarch64")
    assert (host.os, host.cpu_arch) == ("linux", "arm64")
    assert any("cpuinfo" in note for note in host.notes)


# ---------------------------------------------------------------- nvidia-smi parsing


def test_parse_eight_h100s() -> None:
    text = "NVIDIA H100 80GB HBM3, 81559 MiB, 9.0\n" * 8
    gpus = parse_nvidia_smi(text)
    assert len(gpus) == 8
    assert {(g.name, g.memory_bytes, g.compute_capability) for g in gpus} == {
        ("NVIDIA H100 80GB HBM3", 81559 * MIB, "9.0")
    }


def test_parse_not_available_fields_and_nounits() -> None:
    gpus = parse_nvidia_smi("NVIDIA GH200 480GB, [N/A], [N/A]\nTesla T4, 15360, 7.5\n")
    assert (gpus[0].name, gpus[0].memory_bytes, gpus[0].compute_capability) == (
        "NVIDIA GH200 480GB",
        None,
        None,
    )
    assert (gpus[1].memory_bytes, gpus[1].compute_capability) == (15360 * MIB, "7.5")


def test_parse_keeps_commas_inside_a_name() -> None:
    (gpu,) = parse_nvidia_smi("Quadro RTX 8000, Rev A, 48601 MiB, 7.5\n")
    assert gpu.name == "Quadro RTX 8000, Rev A"
    assert gpu.memory_bytes == 48601 * MIB


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aarch64", "arm64"),
        ("arm64", "arm64"),
        ("AMD64", "x86_64"),
        ("x86_64", "x86_64"),
        ("riscv64", "riscv64"),
    ],
)
def test_normalise_arch(raw: str, expected: str) -> None:
    assert normalise_arch(raw) == expected


def test_normalise_os() -> None:
    assert [normalise_os(s) for s in ("Darwin", "Linux", "Windows")] == [
        "macos",
        "linux",
        "windows",
    ]


# ---------------------------------------------------------------- runners


def test_local_runner_runs_programs_and_reads_files(tmp_path: Path) -> None:
    runner = LocalRunner()
    assert runner.run(["uname", "-s"]) is not None
    assert runner.run(["qdframe-no-such-program"]) is None
    assert runner.run(["sh", "-c", "exit 3"]) is None  # a failing command reads as unavailable
    path = tmp_path / "f.txt"
    path.write_text("hello\n", encoding="utf-8")
    assert runner.read(str(path)) == "hello\n"
    assert runner.read(str(tmp_path / "missing")) is None


def test_recording_replays_to_the_same_host(tmp_path: Path) -> None:
    recorder = RecordingRunner(LocalRunner())
    live = detect_host(recorder)
    path = tmp_path / "this.toml"
    path.write_text(recorder.to_toml(description="this machine"), encoding="utf-8")
    replayed = RecordedRunner.from_toml(path)
    assert replayed.description == "this machine"
    assert detect_host(replayed) == live


def test_malformed_recording_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rec.toml"
    path.write_text('[commands]\n"uname -s" = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        RecordedRunner.from_toml(path)
    assert info.value.source == str(path)
    assert info.value.key_path == "commands.uname -s"
    path.write_text("[commands\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        RecordedRunner.from_toml(path)
