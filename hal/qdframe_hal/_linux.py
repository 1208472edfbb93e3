"""Linux host detection: ``/proc``, ``/sys`` and ``nvidia-smi``."""

from __future__ import annotations

from dataclasses import dataclass, field

from qdframe_hal._parse import (
    parse_cpuinfo,
    parse_cpulist,
    parse_int,
    parse_meminfo_total,
    parse_nvidia_smi,
)
from qdframe_hal.host import HostInfo
from qdframe_hal.probe import CommandRunner
from qdframe_hal.profile import GPUInfo

__all__ = ["NVIDIA_SMI_QUERY", "detect_linux"]

#: The query detection runs; recordings must use exactly this argv.
NVIDIA_SMI_QUERY: tuple[str, ...] = (
    "nvidia-smi",
    "--query-gpu=name,memory.total,compute_cap",
    "--format=csv,noheader",
)
# Drivers older than 510 reject the compute_cap field; ask again without it.
_NVIDIA_SMI_OLD_DRIVER: tuple[str, ...] = (
    "nvidia-smi",
    "--query-gpu=name,memory.total",
    "--format=csv,noheader",
)

_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}
# /proc/cpuinfo on Arm gives implementer and part numbers, not names.
_ARM_IMPLEMENTERS = {
    "0x41": "Arm",
    "0x42": "Broadcom",
    "0x46": "Fujitsu",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}
_ARM_PARTS = {
    ("0x41", "0xd08"): "Cortex-A72",
    ("0x41", "0xd0b"): "Cortex-A76",
    ("0x41", "0xd0c"): "Neoverse-N1",
    ("0x41", "0xd40"): "Neoverse-V1",
    ("0x41", "0xd49"): "Neoverse-N2",
    ("0x41", "0xd4f"): "Neoverse-V2",
    ("0xc0", "0xac3"): "AmpereOne",
}
# cgroup v1 reports "no limit" as a page-rounded LONG_MAX.
_CGROUP_V1_UNLIMITED = 2**60


@dataclass
class _Cpu:
    vendor: str | None = None
    brand: str | None = None
    logical: int | None = None
    cores: int | None = None
    performance: int | None = None
    efficiency: int | None = None
    notes: list[str] = field(default_factory=list)


def detect_linux(runner: CommandRunner, *, cpu_arch: str) -> HostInfo:
    """Measure a Linux host through ``runner``."""
    cpu = _cpu(runner)
    notes = list(cpu.notes)
    meminfo = runner.read("/proc/meminfo")
    memory = parse_meminfo_total(meminfo) if meminfo is not None else None
    if memory is None:
        notes.append("/proc/meminfo unreadable: memory unknown")
    limit = _cgroup_memory_limit(runner)
    gpus, gpu_note = _nvidia_gpus(runner)
    if gpu_note:
        notes.append(gpu_note)
    if limit is not None and memory is not None and limit >= memory:
        limit = None
    return HostInfo(
        os="linux",
        cpu_arch=cpu_arch,
        cpu_vendor=cpu.vendor,
        cpu_brand=cpu.brand,
        performance_cores=cpu.performance,
        efficiency_cores=cpu.efficiency,
        cores=cpu.cores,
        logical_cpus=cpu.logical,
        memory_bytes=memory,
        memory_limit_bytes=limit,
        gpus=tuple(gpus),
        notes=tuple(notes),
    )


def _cpu(runner: CommandRunner) -> _Cpu:
    text = runner.read("/proc/cpuinfo")
    if text is None:
        return _Cpu(notes=["/proc/cpuinfo unreadable: CPU unknown"])
    processors = parse_cpuinfo(text)
    if not processors:
        return _Cpu(notes=["/proc/cpuinfo lists no processor"])
    first = processors[0]
    cpu = _Cpu(logical=len(processors))
    if "vendor_id" in first:
        cpu.vendor = _X86_VENDORS.get(first["vendor_id"], first["vendor_id"])
        cpu.brand = first.get("model name")
    elif "CPU implementer" in first:
        implementer = first["CPU implementer"].lower()
        part = first.get("CPU part", "").lower()
        cpu.vendor = _ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer}")
        name = _ARM_PARTS.get((implementer, part), f"part {part}" if part else "CPU")
        cpu.brand = f"{cpu.vendor} {name}"
    cores_of = _core_ids(processors)
    cpu.cores = len(set(cores_of.values())) if cores_of else len(processors)
    cpu.performance, cpu.efficiency = _hybrid_split(runner, cores_of, cpu.cores)
    return cpu


def _core_ids(processors: list[dict[str, str]]) -> dict[int, tuple[str, str]]:
    """Logical CPU number → (package, core), when every processor says so."""
    found: dict[int, tuple[str, str]] = {}
    for proc in processors:
        if "core id" not in proc or not proc["processor"].isdigit():
            return {}
        found[int(proc["processor"])] = (proc.get("physical id", "0"), proc["core id"])
    return found


def _hybrid_split(
    runner: CommandRunner, cores_of: dict[int, tuple[str, str]], cores: int
) -> tuple[int, int]:
    """(performance, efficiency) physical cores; Intel hybrid CPUs list both kinds."""
    big = parse_cpulist(runner.read("/sys/devices/cpu_core/cpus"))
    little = parse_cpulist(runner.read("/sys/devices/cpu_atom/cpus"))
    if not big or not little or not cores_of:
        return cores, 0
    performance = len({cores_of[c] for c in big if c in cores_of})
    efficiency = len({cores_of[c] for c in little if c in cores_of})
    if performance + efficiency != cores:
        return cores, 0
    return performance, efficiency


def _cgroup_memory_limit(runner: CommandRunner) -> int | None:
    """The memory limit of this process's cgroup (v2 or v1), if any."""
    paths = []
    for line in (runner.read("/proc/self/cgroup") or "").splitlines():
        _, controllers, relative = [*line.split(":", 2), "", ""][:3]
        relative = relative.strip().strip("/")
        if controllers == "" and relative:  # v2: "0::/path"
            paths.append(f"/sys/fs/cgroup/{relative}/memory.max")
        elif "memory" in controllers.split(",") and relative:  # v1: "4:memory:/path"
            paths.append(f"/sys/fs/cgroup/memory/{relative}/memory.limit_in_bytes")
    paths += ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
    for path in paths:
        value = parse_int(runner.read(path))
        if value is not None and 0 < value < _CGROUP_V1_UNLIMITED:
            return value
    return None


def _nvidia_gpus(runner: CommandRunner) -> tuple[list[GPUInfo], str | None]:
    out = runner.run(NVIDIA_SMI_QUERY)
    if out is None:
        out = runner.run(_NVIDIA_SMI_OLD_DRIVER)
    if out is not None:
        try:
            return parse_nvidia_smi(out), None
        except ValueError as exc:
            return [], f"nvidia-smi output not understood: {exc}"
    if runner.read("/proc/driver/nvidia/version") is not None:
        return [], "an NVIDIA driver is loaded but nvidia-smi failed: GPUs unknown"
    return [], None
