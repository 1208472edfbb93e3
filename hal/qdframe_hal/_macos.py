"""macOS host detection through ``sysctl``."""

from __future__ import annotations

from qdframe_hal._parse import first_line, parse_int
from qdframe_hal.host import HostInfo
from qdframe_hal.probe import CommandRunner

__all__ = ["detect_macos"]


def _sysctl(runner: CommandRunner, name: str) -> str | None:
    return runner.run(["sysctl", "-n", name])


def detect_macos(runner: CommandRunner, *, cpu_arch: str) -> HostInfo:
    """Measure a Mac through ``sysctl``.

    ``hw.perflevel0``/``hw.perflevel1`` are the performance and efficiency
    clusters of Apple silicon; Intel Macs have neither, so all their physical
    cores count as performance cores.
    """
    notes: list[str] = []
    brand = first_line(_sysctl(runner, "machdep.cpu.brand_string"))
    if brand is None:
        notes.append("sysctl machdep.cpu.brand_string failed: CPU model unknown")
    memory = parse_int(_sysctl(runner, "hw.memsize"))
    if memory is None:
        notes.append("sysctl hw.memsize failed: memory unknown")
    cores = parse_int(_sysctl(runner, "hw.physicalcpu"))
    logical = parse_int(_sysctl(runner, "hw.logicalcpu"))
    performance = parse_int(_sysctl(runner, "hw.perflevel0.physicalcpu"))
    efficiency = parse_int(_sysctl(runner, "hw.perflevel1.physicalcpu"))
    if performance is None:
        performance = cores
        efficiency = None if cores is None else 0
    elif efficiency is None:
        efficiency = 0
    if cores is None and performance is not None and efficiency is not None:
        cores = performance + efficiency
    elif (
        cores is not None
        and performance is not None
        and efficiency is not None
        and performance + efficiency != cores
    ):
        notes.append(
            f"hw.physicalcpu ({cores}) differs from perflevel0 + perflevel1 "
            f"({performance} + {efficiency})"
        )

    # A Python built for x86_64 runs under Rosetta 2 on Apple silicon and sees
    # uname -m = x86_64; the hardware is still arm64.
    translated = False
    if cpu_arch != "arm64" and first_line(_sysctl(runner, "hw.optional.arm64")) == "1":
        translated = True
        cpu_arch = "arm64"
        notes.append("running under Rosetta 2: the hardware is arm64")

    return HostInfo(
        os="macos",
        cpu_arch=cpu_arch,
        cpu_vendor=_vendor(brand),
        cpu_brand=brand,
        model_identifier=first_line(_sysctl(runner, "hw.model")),
        performance_cores=performance,
        efficiency_cores=efficiency,
        cores=cores,
        logical_cpus=logical,
        memory_bytes=memory,
        translated=translated,
        notes=tuple(notes),
    )


def _vendor(brand: str | None) -> str | None:
    if brand is None:
        return None
    if brand.startswith("Apple"):
        return "Apple"
    if "Intel" in brand:
        return "Intel"
    return None
