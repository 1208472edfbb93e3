"""The ``mitigation`` plugin: registers the ``readout`` and ``zne`` mitigators."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar
from qdframe_mitigation.readout import ReadoutMitigator
from qdframe_mitigation.zne import ZNEMitigator

__all__ = ["qdframe_register_mitigators"]


@qdframe.hookimpl
def qdframe_register_mitigators(registry: Registrar) -> None:
    """Register readout-error mitigation and zero-noise extrapolation."""
    registry.add(
        ReadoutMitigator.name,
        ReadoutMitigator,
        description="readout-error mitigation: per-node calibration, tensored inverse",
    )
    registry.add(
        ZNEMitigator.name,
        ZNEMitigator,
        description="zero-noise extrapolation: gate folding, linear or Richardson fit",
    )
