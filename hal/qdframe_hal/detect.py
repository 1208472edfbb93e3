"""Host detection: measure the machine through a :class:`CommandRunner`."""

from __future__ import annotations

import functools
import os
import platform

from qdframe_hal._linux import NVIDIA_SMI_QUERY, detect_linux
from qdframe_hal._macos import detect_macos
from qdframe_hal._parse import first_line, parse_nvidia_smi
from qdframe_hal.host import HostInfo
from qdframe_hal.probe import CommandRunner, LocalRunner

__all__ = [
    "NVIDIA_SMI_QUERY",
    "default_worker_count",
    "detect_host",
    "normalise_arch",
    "normalise_os",
    "parse_nvidia_smi",
]

_ARCH_ALIASES = {"aarch64": "arm64", "arm64": "arm64", "amd64": "x86_64", "x86_64": "x86_64"}
_OS_ALIASES = {"darwin": "macos", "linux": "linux"}


def normalise_arch(machine: str) -> str:
    """``aarch64`` → ``arm64``, ``AMD64`` → ``x86_64``; other names lowercased."""
    key = machine.strip().lower()
    return _ARCH_ALIASES.get(key, key or "unknown")


def normalise_os(system: str) -> str:
    """``Darwin`` → ``macos``, ``Linux`` → ``linux``; other names lowercased."""
    key = system.strip().lower()
    return _OS_ALIASES.get(key, key or "unknown")


def detect_host(
    runner: CommandRunner | None = None,
    *,
    system: str | None = None,
    machine: str | None = None,
) -> HostInfo:
    """Measure a host: CPU, cores, memory, GPUs.

    :param runner: how to run commands and read files; this machine when
        omitted. With a runner (a recording of another machine, say) the
        kernel name and machine come from its ``uname -s`` and ``uname -m``.
    :param system: kernel name (``"Darwin"``, ``"Linux"``) overriding the above.
    :param machine: machine name (``"arm64"``, ``"x86_64"``) overriding the above.
    :returns: what was measured; fields that could not be measured are
        ``None`` and ``notes`` says why. Detection never raises for a missing
        command or file.
    """
    if runner is None:
        runner = LocalRunner()
        system = system or platform.system()
        machine = machine or platform.machine()
    system = system or first_line(runner.run(["uname", "-s"])) or "unknown"
    machine = machine or first_line(runner.run(["uname", "-m"])) or "unknown"
    os_name, arch = normalise_os(system), normalise_arch(machine)
    if os_name == "macos":
        return detect_macos(runner, cpu_arch=arch)
    if os_name == "linux":
        return detect_linux(runner, cpu_arch=arch)
    return HostInfo(
        os=os_name,
        cpu_arch=arch,
        notes=(f"no detector for {system!r}: only the architecture is known",),
    )


def default_worker_count(host: HostInfo | None = None) -> int:
    """Workers for a pool on this host: its performance cores as the HAL measured
    them, else its cores, else ``os.cpu_count()``.

    :param host: measured host facts; this machine (detected once) when omitted.
    """
    if host is None:
        return _this_host_workers()
    for count in (host.performance_cores, host.cores, host.logical_cpus):
        if count:
            return count
    return os.cpu_count() or 1


@functools.cache
def _this_host_workers() -> int:
    try:
        host = detect_host()
    except Exception:  # detection is a best guess; the pool still needs a size
        return os.cpu_count() or 1
    return default_worker_count(host)
