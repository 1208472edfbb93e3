"""What an optimizer reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["OptimizationReport"]


@dataclass(frozen=True)
class OptimizationReport:
    """What one optimizer pass saved.

    ``saved`` maps a figure to how much lower it is after the pass (negative
    when it grew); ``before``/``after`` hold the figures themselves.
    """

    name: str
    saved: dict[str, float]
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def compare(
        cls,
        name: str,
        before: dict[str, float],
        after: dict[str, float],
        **details: Any,
    ) -> OptimizationReport:
        saved = {k: before[k] - after[k] for k in before if k in after}
        return cls(name, saved, dict(before), dict(after), dict(details))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "saved": self.saved,
            "before": self.before,
            "after": self.after,
            "details": self.details,
        }
