"""A Moebius-ladder topology: a ring of 2m nodes with chords between opposite nodes."""

from qdframe_moebius.topology import build_moebius

__all__ = ["build_moebius"]
