"""Adaptive distribution: exponential averaging of link observations, re-plan advice."""

from __future__ import annotations

import pytest
from qdframe_topologies import build_ring

from qdframe.adaptive import LinkLearner
from qdframe.config import AdaptiveDistributionConfig


def _learner(rate=0.5, threshold=0.1):
    return LinkLearner(AdaptiveDistributionConfig(learning_rate=rate, threshold=threshold))


def test_failures_are_averaged_with_the_learning_rate():
    learner = _learner(rate=0.5)
    learner.observe(1, 0, failed=True)
    assert learner.estimates[(0, 1)].failure_rate == pytest.approx(0.5)
    learner.observe(0, 1, failed=True)
    assert learner.estimates[(0, 1)].failure_rate == pytest.approx(0.75)
    learner.observe(0, 1, failed=False)
    assert learner.estimates[(0, 1)].failure_rate == pytest.approx(0.375)
    assert learner.weights()[(0, 1)] == pytest.approx(1 / (1 - 0.375))


def test_latency_and_fidelity_observations():
    learner = _learner(rate=0.25)
    learner.observe(2, 3, latency_us=300.0, nominal_latency_us=100.0, fidelity=0.9)
    estimate = learner.estimates[(2, 3)]
    assert estimate.latency_factor == pytest.approx(0.75 + 0.25 * 3)
    assert estimate.fidelity == pytest.approx(0.9)


def test_replan_only_when_gain_exceeds_threshold():
    learner = _learner(rate=0.1, threshold=0.2)
    learner.mark_planned()
    usage = {(0, 1): 4, (1, 2): 4}
    learner.observe(0, 1, failed=True)  # weight 1/(1-0.1) = 1.111: +5.6 % overall
    advice = learner.advise(usage)
    assert not advice.replan
    assert advice.predicted_gain == pytest.approx((4 / 0.9 + 4 - 8) / 8)
    for _ in range(5):
        learner.observe(0, 1, failed=True)
    advice = learner.advise(usage)
    assert advice.replan
    assert any("link 0-1" in reason for reason in advice.reasons)


def test_overrides_slow_down_unreliable_links(tmp_path):
    topology = build_ring(4, qubits_per_node=2, comm_qubits_per_node=2)
    learner = _learner(rate=0.5)
    learner.observe(0, 1, failed=True)
    overrides = learner.link_overrides(topology)
    assert set(overrides) == {(0, 1)}
    assert overrides[(0, 1)].latency_us == pytest.approx(topology.link(0, 1).latency_us * 2)
    path = tmp_path / "adaptive.json"
    learner.save(path)
    again = _learner(rate=0.5)
    again.load(path)
    assert again.estimates == learner.estimates
    path.write_text("garbage")
    again.load(path)
    assert again.estimates == {}
