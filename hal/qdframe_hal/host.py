"""What was measured on one host: :class:`HostInfo`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from qdframe_hal.profile import GPUInfo

__all__ = ["HostInfo"]

_Count = Annotated[int, Field(ge=0)]


class HostInfo(BaseModel):
    """The facts host detection measured; ``None`` means "could not be measured".

    :param os: ``"macos"``, ``"linux"``, or the lowercased kernel name of
        another system.
    :param cpu_arch: ``"arm64"`` or ``"x86_64"`` (``aarch64``/``amd64`` are
        normalised), or the raw machine name of another architecture.
    :param cpu_vendor: ``"Apple"``, ``"Intel"``, ``"AMD"``, ``"Arm"``, ...
    :param cpu_brand: the CPU brand string, e.g. ``"Apple M3 Pro"``.
    :param model_identifier: the machine model, e.g. ``"Mac15,6"`` (macOS).
    :param performance_cores: physical performance cores (all cores on a
        homogeneous CPU).
    :param efficiency_cores: physical efficiency cores (0 on a homogeneous CPU).
    :param cores: physical cores.
    :param logical_cpus: hardware threads.
    :param memory_bytes: physical memory the kernel reports.
    :param memory_limit_bytes: a lower limit imposed on this process tree
        (a container's cgroup), when there is one.
    :param gpus: GPUs found (NVIDIA through ``nvidia-smi``).
    :param translated: the process runs under Rosetta 2 on Apple silicon.
    :param notes: what could not be measured and why.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    os: str
    cpu_arch: str
    cpu_vendor: str | None = None
    cpu_brand: str | None = None
    model_identifier: str | None = None
    performance_cores: _Count | None = None
    efficiency_cores: _Count | None = None
    cores: _Count | None = None
    logical_cpus: _Count | None = None
    memory_bytes: _Count | None = None
    memory_limit_bytes: _Count | None = None
    gpus: tuple[GPUInfo, ...] = ()
    translated: bool = False
    notes: tuple[str, ...] = ()

    @property
    def usable_memory_bytes(self) -> int | None:
        """Physical memory, or the container limit when that is lower."""
        known = [m for m in (self.memory_bytes, self.memory_limit_bytes) if m]
        return min(known) if known else None

    @property
    def has_cuda_gpu(self) -> bool:
        """Whether a CUDA GPU was found."""
        return any(g.is_cuda for g in self.gpus)
