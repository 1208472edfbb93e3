"""qdframe's hardware abstraction layer.

* :class:`HardwareProfile`: a kind of machine (CPU, cores, memory, GPUs,
  derived capabilities and recommended settings), loaded from TOML data and
  registered by plugins;
* :func:`detect_host`: measure this machine (or a recording of another)
  through an injectable :class:`CommandRunner`;
* :func:`match_profile`: the closest profile, with an explicit level
  (exact, family, architecture, generic) and score;
* :func:`select_backend`: the registered backend that fits a run, with the
  reason.

Importing this package is cheap: it never imports Qiskit or a simulator.
"""

from __future__ import annotations

from qdframe_hal.capacity import max_statevector_qubits, statevector_bytes
from qdframe_hal.catalog import ProfileEntry, all_profiles, profile_entries
from qdframe_hal.detect import detect_host
from qdframe_hal.host import HostInfo
from qdframe_hal.loader import builtin_profiles, load_profiles, load_profiles_text
from qdframe_hal.match import MatchLevel, ProfileMatch, match_profile
from qdframe_hal.probe import CommandRunner, LocalRunner, RecordedRunner, RecordingRunner
from qdframe_hal.profile import GPUInfo, HardwareProfile, ProfileCapabilities, ProfileVariant
from qdframe_hal.select import BackendChoice, BackendRequirements, BackendVerdict, select_backend

__all__ = [
    "BackendChoice",
    "BackendRequirements",
    "BackendVerdict",
    "CommandRunner",
    "GPUInfo",
    "HardwareProfile",
    "HostInfo",
    "LocalRunner",
    "MatchLevel",
    "ProfileCapabilities",
    "ProfileEntry",
    "ProfileMatch",
    "ProfileVariant",
    "RecordedRunner",
    "RecordingRunner",
    "all_profiles",
    "builtin_profiles",
    "detect_host",
    "load_profiles",
    "load_profiles_text",
    "match_profile",
    "max_statevector_qubits",
    "profile_entries",
    "select_backend",
    "statevector_bytes",
]
