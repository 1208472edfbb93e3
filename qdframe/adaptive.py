"""Adaptive distribution: link weights learned from what runs observe.

Each observation of a link — a failure, a measured latency, a measured pair
fidelity — moves that link's estimate by exponential averaging with
``[adaptive] learning_rate``. The estimates become link overrides for the next
plan: a link that keeps failing or is slower than advertised looks longer to
the router and the allocator. A re-plan is recommended when the predicted
relative improvement of the current plan's weighted cost exceeds
``[adaptive] threshold``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qdframe.files import atomic_write_text

if TYPE_CHECKING:
    from qdframe.config import AdaptiveDistributionConfig
    from qdframe.topology import LinkSpec, Topology

__all__ = ["LinkEstimate", "LinkLearner", "ReplanAdvice"]

Link = tuple[int, int]


def _key(a: int, b: int) -> Link:
    return (min(a, b), max(a, b))


@dataclass(frozen=True)
class LinkEstimate:
    """What has been learned about one link.

    :param failure_rate: running average of failures per use (0..1).
    :param latency_factor: observed over nominal latency (1 = as advertised).
    :param fidelity: running average of delivered pair fidelity, when observed.
    """

    failure_rate: float = 0.0
    latency_factor: float = 1.0
    fidelity: float | None = None

    def weight(self) -> float:
        """Cost multiplier of using this link once (1 = nominal).

        A use that fails with probability ``p`` is retried, so it costs
        ``1 / (1 - p)`` uses on average; latency scales the time taken.
        """
        reliability = max(1.0 - self.failure_rate, 1e-3)
        return self.latency_factor / reliability


@dataclass(frozen=True)
class ReplanAdvice:
    """Whether to re-plan, and why."""

    replan: bool
    predicted_gain: float
    reasons: tuple[str, ...]


class LinkLearner:
    """Learns link weights from observations; persists them as JSON."""

    def __init__(self, config: AdaptiveDistributionConfig) -> None:
        self.learning_rate = config.learning_rate
        self.threshold = config.threshold
        self.estimates: dict[Link, LinkEstimate] = {}
        self._baseline: dict[Link, float] = {}

    def _update(self, old: float, new: float) -> float:
        return (1.0 - self.learning_rate) * old + self.learning_rate * new

    def observe(
        self,
        a: int,
        b: int,
        *,
        failed: bool = False,
        latency_us: float | None = None,
        nominal_latency_us: float | None = None,
        fidelity: float | None = None,
    ) -> LinkEstimate:
        """Fold one observation of link ``a``-``b`` into its estimate."""
        link = _key(a, b)
        current = self.estimates.get(link, LinkEstimate())
        updated = replace(current, failure_rate=self._update(current.failure_rate, float(failed)))
        if latency_us is not None and nominal_latency_us:
            factor = latency_us / nominal_latency_us
            updated = replace(updated, latency_factor=self._update(current.latency_factor, factor))
        if fidelity is not None:
            base = current.fidelity if current.fidelity is not None else fidelity
            updated = replace(updated, fidelity=self._update(base, fidelity))
        self.estimates[link] = updated
        return updated

    def weights(self) -> dict[Link, float]:
        return {link: est.weight() for link, est in self.estimates.items()}

    def link_overrides(self, topology: Topology) -> dict[Link, LinkSpec]:
        """Learned :class:`LinkSpec` overrides for links that differ from nominal."""
        overrides: dict[Link, LinkSpec] = {}
        for link, estimate in self.estimates.items():
            try:
                spec = topology.link(*link)
            except Exception:  # a link of another topology: nothing to override
                continue
            weight = estimate.weight()
            fidelity = estimate.fidelity if estimate.fidelity is not None else spec.epr_fidelity
            fidelity = min(max(fidelity, 0.2501), 1.0)
            if weight == 1.0 and fidelity == spec.epr_fidelity:
                continue
            overrides[link] = replace(
                spec, latency_us=spec.latency_us * weight, epr_fidelity=fidelity
            )
        return overrides

    def mark_planned(self) -> None:
        """Remember the weights the current plan was made with."""
        self._baseline = self.weights()

    def advise(self, link_usage: dict[Link, int]) -> ReplanAdvice:
        """Predict how much the current plan got worse under the learned weights.

        ``link_usage`` is the plan's EPR pairs per link. The predicted gain of
        re-planning is the relative growth of the plan's weighted cost since it
        was made; re-plan when it exceeds the threshold.
        """
        if not link_usage:
            return ReplanAdvice(False, 0.0, ("the plan uses no links",))
        old = new = 0.0
        reasons = []
        for link, pairs in sorted(link_usage.items()):
            key = _key(*link)
            before = self._baseline.get(key, 1.0)
            after = self.estimates.get(key, LinkEstimate()).weight()
            old += pairs * before
            new += pairs * after
            if abs(after - before) > 1e-12:
                reasons.append(
                    f"link {key[0]}-{key[1]} weight {before:.3f} -> {after:.3f} "
                    f"({pairs} pairs planned over it)"
                )
        gain = (new - old) / old if old else 0.0
        replan = gain > self.threshold
        if not reasons:
            reasons.append("no planned link changed")
        return ReplanAdvice(replan, gain, tuple(reasons))

    # ------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        return {f"{a}-{b}": asdict(est) for (a, b), est in sorted(self.estimates.items())}

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=2))

    def load(self, path: Path) -> None:
        """Read saved estimates; a missing or unreadable file starts fresh."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for key, values in data.items():
                a, b = (int(x) for x in key.split("-"))
                self.estimates[_key(a, b)] = LinkEstimate(**values)
        except (OSError, ValueError, TypeError):
            self.estimates = {}
