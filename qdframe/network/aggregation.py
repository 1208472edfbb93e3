"""Robust aggregation of contributions, per system type and workload class.

One fast or broken machine must not move a recommendation, and one installation
that contributes a hundred times must not outvote a hundred installations. So:

1. each contributor (install token) is reduced to the median of its values;
2. across contributors, values whose distance from the median exceeds 3.5
   robust standard deviations (1.4826 × MAD, the modified z-score rule) are
   ignored;
3. the published value is the median of what is left.

A system type is published only when at least ``min_contributors``
installations contributed; a setting choice is recommended only when it was
chosen by at least that many. Per setting key, the recommended choice is the
one whose contributions show the best robust savings. Callers group records by
qdframe version before calling, so versions never mix.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qdframe.network.schemas import SystemOptimization, WorkloadOptimization

__all__ = [
    "DEFAULT_MIN_CONTRIBUTORS",
    "MAD_CUTOFF",
    "MAD_SCALE",
    "Record",
    "RobustValue",
    "aggregate_system",
    "recommend_settings",
    "robust_center",
]

DEFAULT_MIN_CONTRIBUTORS = 3
#: Outlier cut-off in robust standard deviations.
MAD_CUTOFF = 3.5
#: MAD → standard deviation for normally distributed data.
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Record:
    """One stored contribution, as aggregation needs it."""

    token: str
    savings: float
    quantum_advantage: bool
    received_at: float
    settings: Mapping[str, Any] = field(default_factory=dict)
    energy_savings: float | None = None
    #: workload class → (savings, settings)
    workloads: Mapping[str, tuple[float, Mapping[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class RobustValue:
    """A robust centre and how many contributors it rests on."""

    value: float
    contributors: int
    kept: int


def robust_center(samples: Iterable[tuple[str, float]]) -> RobustValue | None:
    """Median of per-contributor medians, ignoring contributors beyond the MAD cut-off.

    :param samples: ``(contributor, value)`` pairs.
    :returns: ``None`` when there are no samples.
    """
    by_contributor: dict[str, list[float]] = defaultdict(list)
    for token, value in samples:
        by_contributor[token].append(value)
    if not by_contributor:
        return None
    medians = [statistics.median(values) for values in by_contributor.values()]
    center = statistics.median(medians)
    spread = MAD_SCALE * statistics.median(abs(m - center) for m in medians)
    # With no spread at all every differing value is, by the rule, an outlier;
    # the median itself is always kept, so the result is never empty.
    kept = [m for m in medians if abs(m - center) <= MAD_CUTOFF * spread]
    return RobustValue(float(statistics.median(kept)), len(medians), len(kept))


def _value_key(value: Any) -> str:
    # JSON text keeps True and 1 (and 1 and "1") apart, which plain dict keys do not.
    return json.dumps(value, sort_keys=True)


def recommend_settings(
    samples: Sequence[tuple[str, float, Mapping[str, Any]]], min_contributors: int
) -> dict[str, Any]:
    """Per key, the choice with the best robust savings among well-supported choices.

    :param samples: ``(contributor, savings, settings)`` triples.
    :param min_contributors: a choice needs this many distinct contributors.
    """
    per_choice: dict[str, dict[str, list[tuple[str, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    values: dict[str, Any] = {}
    for token, savings, settings in samples:
        for key, value in settings.items():
            vkey = _value_key(value)
            values[vkey] = value
            per_choice[key][vkey].append((token, savings))
    recommended: dict[str, Any] = {}
    for key in sorted(per_choice):
        best: tuple[float, int, str] | None = None
        for vkey, choice_samples in per_choice[key].items():
            stat = robust_center(choice_samples)
            if stat is None or stat.contributors < min_contributors:
                continue
            # Ties go to the choice more installations agree on, then to a
            # stable order so every server process publishes the same answer.
            rank = (stat.value, stat.contributors, vkey)
            if best is None or rank > best:
                best = rank
        if best is not None:
            recommended[key] = values[best[2]]
    return recommended


def _workloads(records: Sequence[Record], min_contributors: int) -> dict[str, WorkloadOptimization]:
    grouped: dict[str, list[tuple[str, float, Mapping[str, Any]]]] = defaultdict(list)
    for record in records:
        for name, (savings, settings) in record.workloads.items():
            grouped[name].append((record.token, savings, settings))
    result: dict[str, WorkloadOptimization] = {}
    for name in sorted(grouped):
        samples = grouped[name]
        stat = robust_center((token, savings) for token, savings, _ in samples)
        if stat is None or stat.contributors < min_contributors:
            continue
        result[name] = WorkloadOptimization(
            average_savings=round(stat.value, 3),
            optimization_count=len(samples),
            contributor_count=stat.contributors,
            recommended_settings=recommend_settings(samples, min_contributors),
        )
    return result


def aggregate_system(
    system_type: str,
    qdframe_version: str,
    records: Sequence[Record],
    *,
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS,
) -> SystemOptimization | None:
    """The published aggregate of one system type, or ``None`` below the threshold."""
    stat = robust_center((r.token, r.savings) for r in records)
    if stat is None or stat.contributors < min_contributors:
        return None
    energy = robust_center(
        (r.token, r.energy_savings) for r in records if r.energy_savings is not None
    )
    advantage = sum(1 for r in records if r.quantum_advantage)
    return SystemOptimization(
        system_type=system_type,
        qdframe_version=qdframe_version,
        average_savings=round(stat.value, 3),
        average_energy_savings=(
            round(energy.value, 3)
            if energy is not None and energy.contributors >= min_contributors
            else None
        ),
        optimization_count=len(records),
        quantum_advantage_rate=round(advantage / len(records), 4),
        last_updated=int(max(r.received_at for r in records)),
        contributor_count=stat.contributors,
        recommended_settings=recommend_settings(
            [(r.token, r.savings, r.settings) for r in records], min_contributors
        ),
        process_optimizations=_workloads(records, min_contributors),
    )
