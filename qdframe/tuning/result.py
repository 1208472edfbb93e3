"""The tuning result: what was timed, what was kept, and the savings.

Stored as JSON (atomically) so that ``qdframe network contribute`` can send
it later and ``qdframe tune --json`` can print it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qdframe.errors import ConfigError
from qdframe.files import atomic_write_bytes
from qdframe.network.schemas import ContributionIn, WorkloadContribution

__all__ = ["CandidateResult", "TuneResult", "WorkloadTiming"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkloadTiming(_Model):
    """One workload: default time, best time and the settings that gave it."""

    workload_class: str
    num_qubits: int
    circuits: int
    default_s: float
    best_s: float
    savings: float = Field(description="Relative time reduction, percent.")
    best_settings: dict[str, Any]


class CandidateResult(_Model):
    """One candidate: the settings changed from the defaults and what happened."""

    changed: dict[str, Any]
    plan: str
    total_s: float | None = None
    times_s: dict[str, float] = Field(default_factory=dict)
    energy_j: float | None = None
    max_infidelity: float | None = None
    agrees: bool = False
    error: str | None = None


class TuneResult(_Model):
    """Everything ``qdframe tune`` measured on this host."""

    format: Literal["qdframe-tune-result"] = "qdframe-tune-result"
    format_version: Literal[1] = 1
    qdframe_version: str
    system_type: str
    match_level: str
    created_at: float
    suite: str
    num_qubits: int
    repeats: int
    tolerance: float
    defaults: dict[str, Any]
    best_settings: dict[str, Any]
    changed_settings: dict[str, Any]
    savings: float = Field(description="Overall relative time reduction, percent.")
    energy_savings: float | None = None
    savings_basis: Literal["time", "energy"]
    quantum_advantage: bool
    workloads: list[WorkloadTiming]
    candidates: list[CandidateResult]
    not_exercised: dict[str, str] = Field(default_factory=dict)
    duration_s: float

    def save(self, path: Path) -> None:
        """Write atomically (readers see the old or the new file)."""
        atomic_write_bytes(path, self.model_dump_json(indent=2).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> TuneResult:
        """Read a stored result.

        :raises ConfigError: missing or not a tuning result.
        """
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                "no tuning result here; run `qdframe tune` first", source=str(path)
            ) from None
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, UnicodeDecodeError, ValidationError) as exc:
            raise ConfigError(
                f"not a valid tuning result ({type(exc).__name__})", source=str(path)
            ) from None

    def to_contribution(self, install_token: str) -> ContributionIn:
        """The anonymous contribution for this result (see docs/privacy.md)."""
        workloads: dict[str, WorkloadContribution] = {}
        for timing in self.workloads:
            workloads[timing.workload_class] = WorkloadContribution(
                savings=round(max(-100.0, min(100.0, timing.savings)), 3),
                settings=dict(timing.best_settings),
            )
        data: dict[str, Any] = {
            "install_token": install_token,
            "qdframe_version": self.qdframe_version,
            "system_type": self.system_type,
            "suite": self.suite,
            "savings": round(max(-100.0, min(100.0, self.savings)), 3),
            "energy_savings": (
                None
                if self.energy_savings is None
                else round(max(-100.0, min(100.0, self.energy_savings)), 3)
            ),
            "quantum_advantage": self.quantum_advantage,
            "settings": dict(self.best_settings),
            "workloads": workloads,
        }
        return ContributionIn.model_validate(data)
