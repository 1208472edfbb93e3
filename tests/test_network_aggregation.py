"""Robust aggregation: per-contributor medians, MAD outlier cut, thresholds, choices."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qdframe.network.aggregation import (
    Record,
    aggregate_system,
    recommend_settings,
    robust_center,
)


def _record(token: str, savings: float) -> Record:
    return Record(token=token, savings=savings, quantum_advantage=savings > 0, received_at=100.0)


def test_one_installation_cannot_outvote_many() -> None:
    samples = [("loud", 90.0)] * 100 + [(f"t{i}", 10.0 + i) for i in range(4)]
    result = robust_center(samples)
    assert result is not None
    # Five contributors: medians 10, 11, 12, 13 and 90; 90 is 79 away from the
    # median (12) while the scaled MAD is 1.4826 -> cut, leaving 10..13.
    assert result.contributors == 5 and result.kept == 4
    assert result.value == pytest.approx(11.5)


def test_outlier_beyond_three_and_a_half_mad_is_ignored() -> None:
    samples = [("a", 10.0), ("b", 10.5), ("c", 11.0), ("d", 12.0), ("e", 95.0)]
    result = robust_center(samples)
    assert result is not None
    assert result.kept == 4
    assert result.value == pytest.approx(10.75)


def test_value_just_inside_the_cut_is_kept() -> None:
    # median 10, deviations 0,0,1,1,x; MAD = 1 -> cut at 3.5 * 1.4826 = 5.19
    inside = robust_center([("a", 10.0), ("b", 10.0), ("c", 11.0), ("d", 9.0), ("e", 15.1)])
    outside = robust_center([("a", 10.0), ("b", 10.0), ("c", 11.0), ("d", 9.0), ("e", 15.3)])
    assert inside is not None and outside is not None
    assert inside.kept == 5 and outside.kept == 4


def test_per_contributor_median_first() -> None:
    samples = [("a", 1.0), ("a", 2.0), ("a", 30.0), ("b", 4.0), ("c", 6.0)]
    result = robust_center(samples)
    assert result is not None
    assert result.contributors == 3
    assert result.value == 4.0  # medians 2, 4, 6


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.floats(-100, 100)), min_size=1))
def test_center_lies_within_the_contributor_medians(samples: list[tuple[str, float]]) -> None:
    result = robust_center(samples)
    assert result is not None
    values = [v for _, v in samples]
    assert min(values) <= result.value <= max(values)
    assert 1 <= result.kept <= result.contributors


def test_publication_needs_min_contributors() -> None:
    two = [_record("a", 10.0), _record("b", 20.0), _record("b", 22.0)]
    assert aggregate_system("s", "1.0", two, min_contributors=3) is None
    three = [*two, _record("c", 30.0)]
    published = aggregate_system("s", "1.0", three, min_contributors=3)
    assert published is not None
    assert published.contributor_count == 3 and published.optimization_count == 4
    assert published.average_savings == 21.0  # medians 10, 21, 30


def test_recommended_choice_has_best_robust_savings_and_enough_support() -> None:
    samples: list[tuple[str, float, dict[str, Any]]] = [
        *[(f"fast{i}", 20.0 + i, {"k.a": "x"}) for i in range(3)],
        *[(f"slow{i}", 5.0 + i, {"k.a": "y"}) for i in range(3)],
        ("lonely", 99.0, {"k.a": "z"}),  # one installation is not enough
    ]
    assert recommend_settings(samples, 3) == {"k.a": "x"}
    assert recommend_settings(samples, 1) == {"k.a": "z"}
    assert recommend_settings(samples, 4) == {}


def test_true_and_one_are_different_choices() -> None:
    samples: list[tuple[str, float, dict[str, Any]]] = [
        *[(f"b{i}", 10.0, {"k.flag": True}) for i in range(3)],
        *[(f"i{i}", 20.0, {"k.flag": 1}) for i in range(3)],
    ]
    chosen = recommend_settings(samples, 3)["k.flag"]
    assert chosen == 1 and not isinstance(chosen, bool)


def test_aggregate_fields() -> None:
    records = [
        Record("a", 10.0, True, 100.0, {"k.a": 1}, 5.0, {"qft": (12.0, {"k.a": 1})}),
        Record("b", 0.0, False, 300.0, {"k.a": 1}, None, {"qft": (8.0, {"k.a": 1})}),
        Record("c", 20.0, True, 200.0, {"k.a": 2}, 7.0, {"qft": (10.0, {"k.a": 2})}),
    ]
    published = aggregate_system("apple_silicon_m3", "1.0", records, min_contributors=1)
    assert published is not None
    assert published.last_updated == 300
    assert published.quantum_advantage_rate == pytest.approx(2 / 3, abs=1e-4)
    assert published.average_energy_savings == 6.0
    assert published.recommended_settings == {"k.a": 2}
    qft = published.process_optimizations["qft"]
    assert (qft.average_savings, qft.contributor_count) == (10.0, 3)
    strict = aggregate_system("apple_silicon_m3", "1.0", records, min_contributors=3)
    assert strict is not None
    assert strict.average_energy_savings is None  # only two reported energy
    assert strict.recommended_settings == {}  # no choice has three installations
