"""A/B timing of two settings dicts (``qdframe network apply --verify``).

Shared settings were fastest on other machines of this system type; before
keeping them here, both sets are timed on the quick suite, alternately (A, B,
A, B) so that drift hits both, and the shared ones are kept only when their
results agree and they are faster by more than the noise margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe.tuning.measure import DEFAULT_TOLERANCE, PreparedPlan, interleave, max_infidelity
from qdframe.tuning.plan import Planner
from qdframe.tuning.workloads import build_suite

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins

__all__ = ["Verification", "verify_settings"]


@dataclass(frozen=True)
class Verification:
    """Outcome of an A/B comparison."""

    current_s: float
    shared_s: float
    max_infidelity: float
    agrees: bool
    faster: bool
    num_qubits: int

    @property
    def gain(self) -> float:
        """Relative time reduction of the shared settings (negative: slower)."""
        return 0.0 if self.current_s <= 0 else (self.current_s - self.shared_s) / self.current_s

    def to_json(self) -> dict[str, Any]:
        return {
            "current_s": self.current_s,
            "shared_s": self.shared_s,
            "gain": self.gain,
            "max_infidelity": self.max_infidelity,
            "agrees": self.agrees,
            "faster": self.faster,
            "num_qubits": self.num_qubits,
        }


def verify_settings(
    current: Mapping[str, Any],
    shared: Mapping[str, Any],
    *,
    plugins: LoadedPlugins | None = None,
    num_qubits: int = 10,
    rounds: int = 6,
    min_gain: float = 0.03,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verification:
    """Time ``current`` against ``current`` updated with ``shared``, ``rounds`` times each."""
    if plugins is None:
        from qdframe.plugins import default_plugins

        plugins = default_plugins()
    planner = Planner(plugins, num_qubits)
    workloads = build_suite(num_qubits, "quick")
    current_plan = PreparedPlan(planner.plan(dict(current)), plugins, workloads)
    shared_plan = PreparedPlan(planner.plan({**current, **shared}), plugins, workloads)
    worst = max_infidelity(current_plan.first_round(), shared_plan.first_round())
    agrees = worst <= tolerance
    interleave([current_plan, shared_plan], rounds)
    current_s = current_plan.measurement().total_s
    shared_s = shared_plan.measurement().total_s
    gain = 0.0 if current_s <= 0 else (current_s - shared_s) / current_s
    return Verification(
        current_s=current_s,
        shared_s=shared_s,
        max_infidelity=worst,
        agrees=agrees,
        faster=agrees and gain >= min_gain,
        num_qubits=num_qubits,
    )
