"""Choosing Aer's device: the GPU only when Aer can use it and the HAL sees one.

Two things must both hold for the GPU: the installed Aer was built with GPU
support (``AerSimulator().available_devices()`` lists ``"GPU"``; that is the
``qiskit-aer-gpu`` distribution) and the HAL finds a CUDA GPU on this host
(``nvidia-smi``). Otherwise:

* ``device="auto"`` uses the CPU and records why in every result's metadata;
* ``device="gpu"`` does the same and also warns (:class:`GPUFallbackWarning`);
* ``require_gpu=True`` raises :class:`qdframe.HardwareError` instead.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from qdframe.plugin import HardwareError

if TYPE_CHECKING:
    from qdframe.plugin import HostInfo

__all__ = ["DeviceChoice", "GPUFallbackWarning", "aer_devices", "choose_device"]


class GPUFallbackWarning(UserWarning):
    """The GPU was asked for but cannot be used; the run uses the CPU."""


@dataclass(frozen=True)
class DeviceChoice:
    """Where Aer runs and why.

    :param device: Aer's device name, ``"CPU"`` or ``"GPU"``.
    :param requested: what was asked: ``"auto"``, ``"cpu"`` or ``"gpu"``.
    :param note: why the GPU is not used although it was wanted; ``None``
        when the choice is what was asked for.
    """

    device: Literal["CPU", "GPU"]
    requested: str
    note: str | None = None


@functools.cache
def aer_devices() -> tuple[str, ...]:
    """Devices the installed Aer can simulate on (``("CPU",)`` or ``("CPU", "GPU")``)."""
    from qiskit_aer import AerSimulator

    return tuple(str(d) for d in AerSimulator().available_devices())


def _gpu_problem(host: HostInfo | None, devices: Sequence[str]) -> str | None:
    if "GPU" not in devices:
        return (
            "the installed qiskit-aer has no GPU support "
            '(install qiskit-aer-gpu: pip install "qdframe[gpu]")'
        )
    if host is None:
        from qdframe.plugin import detect_host

        host = detect_host()
    if not host.has_cuda_gpu:
        return "no CUDA GPU was detected on this host (nvidia-smi found none)"
    return None


def choose_device(
    requested: str,
    *,
    require_gpu: bool = False,
    host: HostInfo | None = None,
    devices: Sequence[str] | None = None,
) -> DeviceChoice:
    """Decide between CPU and GPU.

    :param requested: ``"auto"``, ``"cpu"`` or ``"gpu"``.
    :param require_gpu: raise rather than fall back to the CPU.
    :param host: the HAL's host facts; detected when needed and not given.
    :param devices: Aer's available devices; asked from Aer when not given.
    :raises HardwareError: ``require_gpu`` and the GPU cannot be used.
    """
    if requested == "cpu" and not require_gpu:
        return DeviceChoice("CPU", requested)
    problem = _gpu_problem(host, aer_devices() if devices is None else devices)
    if problem is None:
        return DeviceChoice("GPU", requested)
    if require_gpu:
        raise HardwareError(
            f"backend 'aer': a GPU is required ([acceleration] require_gpu) but {problem}"
        )
    if requested == "gpu":
        note = f"GPU requested but {problem}; running on the CPU"
        warnings.warn(f"backend 'aer': {note}", GPUFallbackWarning, stacklevel=4)
    else:
        note = f"GPU not used: {problem}"
    return DeviceChoice("CPU", requested, note)
