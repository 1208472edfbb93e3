"""How many qubits fit in memory, and the settings that follow from a machine's size.

The statevector memory rule is :mod:`qdframe.backend`'s, the one every backend
checks before it allocates: a state of ``n`` qubits takes
:func:`statevector_bytes` (``2**n`` amplitudes, 16 bytes each at
``complex128`` and 8 at ``complex64``) and a simulation may use
:data:`HOST_MEMORY_FRACTION` (= :data:`qdframe.backend.MEMORY_FRACTION`) of
host memory. A profile's ``max_statevector_qubits`` applies that rule to the
machine's total memory, so it is what a backend would accept on an idle
machine of that size; a run is checked against the memory available then.
CUDA device memory has its own share, :data:`GPU_MEMORY_FRACTION`, which the
Aer backend applies too (GPU simulators update the state in place and keep
only small chunk buffers).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final, Literal

from qdframe.backend import MEMORY_FRACTION
from qdframe.backend import PRECISIONS as _AMPLITUDE_BYTES
from qdframe.backend import max_statevector_qubits as _max_statevector_qubits
from qdframe.backend import statevector_bytes as _statevector_bytes

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

#: Bytes of one amplitude, per precision name (:data:`qdframe.backend.PRECISIONS`).
BYTES_PER_AMPLITUDE: Final[dict[str, int]] = _AMPLITUDE_BYTES

#: Share of host memory a simulation may use (:data:`qdframe.backend.MEMORY_FRACTION`).
HOST_MEMORY_FRACTION: Final = MEMORY_FRACTION
#: State-sized buffers a CPU simulation keeps at once: the state (kernel
#: buffers are chunk-sized and counted by each backend).
HOST_WORKSPACE_FACTOR: Final = 1
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


#: The one sizing function (:func:`qdframe.backend.statevector_bytes`).
statevector_bytes = _statevector_bytes

#: The one fitting rule (:func:`qdframe.backend.max_statevector_qubits`), with
#: the host share and workspace as defaults.
max_statevector_qubits = _max_statevector_qubits


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
