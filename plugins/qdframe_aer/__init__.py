"""The ``aer`` backend: Qiskit Aer (CPU, or NVIDIA GPU with qiskit-aer-gpu).

Same contract and result format as the numpy backend, with Aer's methods
(``statevector``, ``density_matrix``, ``matrix_product_state``, ``stabilizer``,
``automatic``). Needs the ``aer`` extra: ``pip install "qdframe[aer]"``.
"""

from __future__ import annotations

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
