"""Tunable settings: what the tuner may vary and shared data may change.

Plugins declare settings through ``qdframe_register_tunable_settings``. The set
of declared settings is the whitelist: the optimization-sharing client applies
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TunableSetting"]


@dataclass(frozen=True)
class TunableSetting:
    """One setting the tuner may try and the network may recommend.

    :param key: dotted configuration path, e.g. ``"acceleration.precision"``
        or a backend option such as ``"backend.numpy.fusion_max_qubits"``.
    :param choices: the values that may be tried and applied; nothing else is.
    :param default: the value used when nothing is tuned (one of ``choices``).
    :param description: one line for ``--help`` and reports.
    """

    key: str
    choices: tuple[Any, ...]
    default: Any
    description: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError(f"tunable setting {self.key!r} declares no choices")
        if self.default not in self.choices:
            raise ValueError(
                f"tunable setting {self.key!r}: default {self.default!r} "
                f"is not one of its choices {list(self.choices)!r}"
            )

    def allows(self, value: Any) -> bool:
        """Whether ``value`` may be applied (is one of the declared choices)."""
        return value in self.choices
