"""How many qubits fit in memory, and the settings that follow from a machine's size.

A statevector of ``n`` qubits holds ``2**n`` complex amplitudes: 16 bytes each at
``complex128`` and 8 bytes at ``complex64``. A simulator needs more than the state
itself, so the largest circuit a machine takes is derived with headroom:

* host (CPU or unified) memory: the state and one buffer of the same size (for
  out-of-place gate kernels and sampling probabilities) must fit in 3/4 of the
  memory, leaving the rest to the operating system and other processes;
* CUDA device memory: the state must fit in 9/10 of the device memory (GPU
  simulators update the state in place and keep only small chunk buffers).

``max_statevector_qubits`` is the largest ``n`` with
``workspace_factor * bytes_per_amplitude * 2**n <= fraction * memory_bytes``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final, Literal

from qdframe.errors import ConfigError

__all__ = [
    "BYTES_PER_AMPLITUDE",
    "DEFAULT_BACKEND",
    "GPU_MEMORY_FRACTION",
    "GPU_WORKSPACE_FACTOR",
    "HOST_MEMORY_FRACTION",
    "HOST_WORKSPACE_FACTOR",
    "PRECISIONS",
    "SETTING_BACKEND",
    "SETTING_PRECISION",
    "SETTING_USE_GPU",
    "SETTING_WORKERS",
    "SMALL_MEMORY_BYTES",
    "Precision",
    "derived_settings",
    "max_statevector_qubits",
    "statevector_bytes",
]

Precision = Literal["complex64", "complex128"]

#: Precisions in the order a report lists them.
PRECISIONS: Final[tuple[Precision, ...]] = ("complex64", "complex128")

#: Bytes of one amplitude, per precision name.
BYTES_PER_AMPLITUDE: Final[dict[str, int]] = {"complex64": 8, "complex128": 16}

#: Share of host memory a simulation may use.
HOST_MEMORY_FRACTION: Final = Fraction(3, 4)
#: Copies of the state a CPU simulation keeps at once.
HOST_WORKSPACE_FACTOR: Final = 2
#: Share of CUDA device memory a simulation may use.
GPU_MEMORY_FRACTION: Final = Fraction(9, 10)
#: Copies of the state a GPU simulation keeps at once.
GPU_WORKSPACE_FACTOR: Final = 1

#: Machines with at most this much memory get ``complex64`` recommended.
SMALL_MEMORY_BYTES: Final = 8 * 2**30

#: The backend recommended when nothing argues for another.
DEFAULT_BACKEND: Final = "numpy"

#: Configuration paths of the recommended settings.
SETTING_BACKEND: Final = "acceleration.backend"
SETTING_PRECISION: Final = "acceleration.precision"
SETTING_USE_GPU: Final = "acceleration.use_gpu"
SETTING_WORKERS: Final = "resources.executor_workers"

SettingValue = str | int | float | bool


def statevector_bytes(num_qubits: int, precision: str = "complex128") -> int:
    """Bytes of one statevector of ``num_qubits`` qubits at ``precision``."""
    per_amplitude: int = _bytes_per_amplitude(precision)
    return per_amplitude << num_qubits


def max_statevector_qubits(
    memory_bytes: int,
    precision: str = "complex128",
    *,
    fraction: Fraction = HOST_MEMORY_FRACTION,
    workspace_factor: int = HOST_WORKSPACE_FACTOR,
) -> int:
    """Largest number of qubits whose statevector fits ``memory_bytes`` with headroom.

    :param memory_bytes: memory available to the simulation.
    :param precision: ``"complex64"`` or ``"complex128"``.
    :param fraction: share of ``memory_bytes`` the simulation may use.
    :param workspace_factor: how many state-sized buffers live at once.
    :returns: ``n >= 0``; 0 when not even one amplitude pair fits.
    """
    if memory_bytes < 0:
        raise ConfigError(f"memory_bytes must be >= 0, got {memory_bytes}")
    per_state = workspace_factor * _bytes_per_amplitude(precision)
    # Exact integer arithmetic: floor(fraction * memory / per_state) amplitudes.
    amplitudes = (memory_bytes * fraction.numerator) // (fraction.denominator * per_state)
    return max(amplitudes.bit_length() - 1, 0)


def derived_settings(
    *, performance_cores: int, cores: int, memory_bytes: int, cuda: bool = False
) -> dict[str, SettingValue]:
    """Recommended settings that follow from a machine's size alone.

    Keys are dotted paths of :class:`qdframe.config.SystemConfig`:

    * ``acceleration.backend``: :data:`DEFAULT_BACKEND`;
    * ``acceleration.precision``: ``complex64`` at or below 8 GiB, where one
      more qubit matters more than the last digits, else ``complex128``;
    * ``acceleration.use_gpu``: whether a CUDA GPU is present;
    * ``resources.executor_workers``: the performance cores (efficiency cores
      slow a statevector job down more than they add), or all cores when the
      split is unknown.
    """
    precision = "complex64" if memory_bytes <= SMALL_MEMORY_BYTES else "complex128"
    return {
        SETTING_BACKEND: DEFAULT_BACKEND,
        SETTING_PRECISION: precision,
        SETTING_USE_GPU: cuda,
        SETTING_WORKERS: performance_cores if performance_cores > 0 else cores,
    }


def _bytes_per_amplitude(precision: str) -> int:
    try:
        return BYTES_PER_AMPLITUDE[precision]
    except KeyError:
        allowed = ", ".join(BYTES_PER_AMPLITUDE)
        raise ConfigError(f"unknown precision {precision!r}", allowed=allowed) from None
