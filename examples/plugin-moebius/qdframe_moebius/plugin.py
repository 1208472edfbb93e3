"""The plugin module named by the ``qdframe`` entry point."""

from __future__ import annotations

import qdframe
from qdframe.plugin import Registrar
from qdframe_moebius.topology import build_moebius

# qdframe checks this at load time and refuses the plugin with a clear message
# when the installed qdframe is older.
QDFRAME_REQUIRES = ">=0.1"


@qdframe.hookimpl
def qdframe_register_topologies(registry: Registrar) -> None:
    registry.add("moebius", build_moebius, description="ring with chords between opposite nodes")
