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

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_hal.capacity import max_statevector_qubits, statevector_bytes
    from qdframe_hal.catalog import ProfileEntry, all_profiles, profile_entries
    from qdframe_hal.detect import detect_host
    from qdframe_hal.host import HostInfo
    from qdframe_hal.loader import builtin_profiles, load_profiles, load_profiles_text
    from qdframe_hal.match import MatchLevel, ProfileMatch, match_profile
    from qdframe_hal.probe import CommandRunner, LocalRunner, RecordedRunner, RecordingRunner
    from qdframe_hal.profile import GPUInfo, HardwareProfile, ProfileCapabilities, ProfileVariant
    from qdframe_hal.select import (
        BackendChoice,
        BackendRequirements,
        BackendVerdict,
        select_backend,
    )

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

# Names load on first use: a plugin that registers a profile imports this
# package, and must not pay for host detection or backend selection.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "max_statevector_qubits": "qdframe_hal.capacity",
        "statevector_bytes": "qdframe_hal.capacity",
        "ProfileEntry": "qdframe_hal.catalog",
        "all_profiles": "qdframe_hal.catalog",
        "profile_entries": "qdframe_hal.catalog",
        "detect_host": "qdframe_hal.detect",
        "HostInfo": "qdframe_hal.host",
        "builtin_profiles": "qdframe_hal.loader",
        "load_profiles": "qdframe_hal.loader",
        "load_profiles_text": "qdframe_hal.loader",
        "MatchLevel": "qdframe_hal.match",
        "ProfileMatch": "qdframe_hal.match",
        "match_profile": "qdframe_hal.match",
        "CommandRunner": "qdframe_hal.probe",
        "LocalRunner": "qdframe_hal.probe",
        "RecordedRunner": "qdframe_hal.probe",
        "RecordingRunner": "qdframe_hal.probe",
        "GPUInfo": "qdframe_hal.profile",
        "HardwareProfile": "qdframe_hal.profile",
        "ProfileCapabilities": "qdframe_hal.profile",
        "ProfileVariant": "qdframe_hal.profile",
        "BackendChoice": "qdframe_hal.select",
        "BackendRequirements": "qdframe_hal.select",
        "BackendVerdict": "qdframe_hal.select",
        "select_backend": "qdframe_hal.select",
    },
)
