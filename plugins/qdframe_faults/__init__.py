"""Config-driven fault injection for qdframe, for testing recovery paths.

Faults come from ``[[recovery.faults]]`` in the configuration; see
:mod:`qdframe_faults.injector` for what each kind raises and when.
"""

from qdframe_faults.injector import (
    STATE_FILE,
    FaultInjector,
    InjectedCrash,
    build_error,
    validate_faults,
)

__all__ = ["STATE_FILE", "FaultInjector", "InjectedCrash", "build_error", "validate_faults"]
