"""The ``aer`` backend: Qiskit Aer (CPU, or NVIDIA GPU with qiskit-aer-gpu).

Same contract and result format as the numpy backend, with Aer's methods
(``statevector``, ``density_matrix``, ``matrix_product_state``, ``stabilizer``,
``automatic``). Needs the ``aer`` extra: ``pip install "qdframe[aer]"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_aer.backend import AerBackend
    from qdframe_aer.device import DeviceChoice, GPUFallbackWarning, choose_device
    from qdframe_aer.noise import to_aer_noise_model
    from qdframe_aer.options import METHODS, AerOptions, aer_options_from_config

__all__ = [
    "METHODS",
    "AerBackend",
    "AerOptions",
    "DeviceChoice",
    "GPUFallbackWarning",
    "aer_options_from_config",
    "choose_device",
    "to_aer_noise_model",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AerBackend": "qdframe_aer.backend",
        "DeviceChoice": "qdframe_aer.device",
        "GPUFallbackWarning": "qdframe_aer.device",
        "choose_device": "qdframe_aer.device",
        "to_aer_noise_model": "qdframe_aer.noise",
        "METHODS": "qdframe_aer.options",
        "AerOptions": "qdframe_aer.options",
        "aer_options_from_config": "qdframe_aer.options",
    },
)
