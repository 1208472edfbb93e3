"""Default error handlers for qdframe: the recovery policy behind ``qdframe_handle_error``.

See :mod:`qdframe_errors.handlers` for the policy and :mod:`qdframe_errors.plugin`
for how the hook finds the handlers to ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.plugin import lazy_exports

if TYPE_CHECKING:
    from qdframe_errors.chain import choose_action, handlers_for, matching_handlers
    from qdframe_errors.handlers import (
        DEFAULT_HANDLERS,
        CommunicationHandler,
        HardwareHandler,
        ResourceHandler,
        UnrecoverableHandler,
        backoff_delay,
        describe_error,
    )

__all__ = [
    "DEFAULT_HANDLERS",
    "CommunicationHandler",
    "HardwareHandler",
    "ResourceHandler",
    "UnrecoverableHandler",
    "backoff_delay",
    "choose_action",
    "describe_error",
    "handlers_for",
    "matching_handlers",
]

# Names load on first use: loading the plugin's entry point imports this
# package, and registration must not pay for what a command never uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "choose_action": "qdframe_errors.chain",
        "handlers_for": "qdframe_errors.chain",
        "matching_handlers": "qdframe_errors.chain",
        "DEFAULT_HANDLERS": "qdframe_errors.handlers",
        "CommunicationHandler": "qdframe_errors.handlers",
        "HardwareHandler": "qdframe_errors.handlers",
        "ResourceHandler": "qdframe_errors.handlers",
        "UnrecoverableHandler": "qdframe_errors.handlers",
        "backoff_delay": "qdframe_errors.handlers",
        "describe_error": "qdframe_errors.handlers",
    },
)
