"""qdframe's default backend: a statevector simulator on numpy.

It needs nothing beyond numpy (and Qiskit, to read circuits). Gates are fused
into dense and diagonal blocks applied in place with BLAS; mid-circuit
measurements, resets, classical conditions and noise run as grouped quantum
trajectories. Use it through ``qdframe.get_backend("numpy", **options)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_numpy.backend import NumpyBackend
    from qdframe_numpy.options import NumpyOptions

__all__ = ["NumpyBackend", "NumpyOptions"]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "NumpyBackend": "qdframe_numpy.backend",
        "NumpyOptions": "qdframe_numpy.options",
    },
)
