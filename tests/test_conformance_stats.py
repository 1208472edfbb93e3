"""The chi-square helpers of qdframe.testing, against closed forms and scipy."""

from __future__ import annotations

import math

import pytest

from qdframe.testing import chi_square_pvalue, chi_square_test, regularized_gamma_q


@pytest.mark.parametrize("x", [0.0, 0.1, 1.0, 2.5, 7.0, 30.0, 200.0])
def test_two_degrees_of_freedom_is_an_exponential(x: float) -> None:
    # For dof = 2 the tail is exactly exp(-x / 2).
    assert chi_square_pvalue(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("x", [0.01, 0.5, 3.841458820694124, 10.0])
def test_one_degree_of_freedom_is_a_normal_tail(x: float) -> None:
    assert chi_square_pvalue(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-11)


def test_known_critical_value() -> None:
    assert chi_square_pvalue(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)


def test_matches_scipy_over_a_grid() -> None:
    stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 3, 5, 10, 31, 100, 255):
        for x in (0.001, 0.5, dof * 0.5, dof, dof + 3 * math.sqrt(2 * dof), 5.0 * dof):
            assert chi_square_pvalue(x, dof) == pytest.approx(
                float(stats.chi2.sf(x, dof)), rel=1e-9, abs=1e-15
            )


def test_gamma_q_edges_and_errors() -> None:
    assert regularized_gamma_q(3.0, 0.0) == 1.0
    with pytest.raises(ValueError):
        regularized_gamma_q(0.0, 1.0)
    with pytest.raises(ValueError):
        chi_square_pvalue(1.0, 0)


def test_fair_counts_pass_and_biased_counts_fail() -> None:
    fair = {"0": 5050, "1": 4950}
    biased = {"0": 5600, "1": 4400}
    half = {"0": 0.5, "1": 0.5}
    assert chi_square_test(fair, half).pvalue > 0.3
    assert chi_square_test(biased, half).pvalue < 1e-20


def test_rare_outcomes_are_pooled_and_impossible_ones_fail() -> None:
    probabilities = {"a": 0.5, "b": 0.4998, "c": 0.0001, "d": 0.0001}
    result = chi_square_test({"a": 500, "b": 500}, probabilities)
    assert result.dof == 2  # a, b and the pooled rare bin
    assert result.pvalue > 0.5
    impossible = chi_square_test({"a": 10, "z": 1}, {"a": 1.0})
    assert impossible.pvalue == 0.0
