"""The ``mitigation`` plugin: registers the ``readout`` and ``zne`` mitigators."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar, lazy_factory

__all__ = ["qdframe_register_mitigators"]


@qdframe.hookimpl
def qdframe_register_mitigators(registry: Registrar) -> None:
    """Register readout-error mitigation and zero-noise extrapolation."""
    registry.add(
        "readout",
        lazy_factory("qdframe_mitigation.readout:ReadoutMitigator"),
        description="readout-error mitigation: per-node calibration, tensored inverse",
    )
    registry.add(
        "zne",
        lazy_factory("qdframe_mitigation.zne:ZNEMitigator"),
        description="zero-noise extrapolation: gate folding, linear or Richardson fit",
    )
