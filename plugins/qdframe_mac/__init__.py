"""Hardware profiles of Macs: Apple M1 to M4 (base, Pro, Max) and Intel Core i5/i7/i9.

The profiles are data (``qdframe_mac/data/*.toml``) registered through the
``qdframe_register_hardware_profiles`` hook in :mod:`qdframe_mac.plugin`.
"""

from __future__ import annotations

from qdframe_mac.plugin import mac_profiles

__all__ = ["mac_profiles"]
