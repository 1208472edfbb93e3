"""Config-driven fault injection for qdframe, for testing recovery paths.

Faults come from ``[[recovery.faults]]`` in the configuration; see
:mod:`qdframe_faults.injector` for what each kind raises and when.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_faults.injector import (
        STATE_FILE,
        FaultInjector,
        InjectedCrash,
        build_error,
        validate_faults,
    )

__all__ = ["STATE_FILE", "FaultInjector", "InjectedCrash", "build_error", "validate_faults"]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "STATE_FILE": "qdframe_faults.injector",
        "FaultInjector": "qdframe_faults.injector",
        "InjectedCrash": "qdframe_faults.injector",
        "build_error": "qdframe_faults.injector",
        "validate_faults": "qdframe_faults.injector",
    },
)
