"""Default error handlers for qdframe: the recovery policy behind ``qdframe_handle_error``.

See :mod:`qdframe_errors.handlers` for the policy and :mod:`qdframe_errors.plugin`
for how the hook finds the handlers to ask.
"""

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
