"""The tuner with a real small plugin (a Statevector backend with tunable options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _network_fixtures as nf
import pytest

import qdframe
from qdframe.errors import ConfigError
from qdframe.network.schemas import WORKLOAD_CLASSES
from qdframe.settings import TunableSetting
from qdframe.tuning import EnergyMeter, Planner, TuneOptions, Tuner, TuneResult, build_suite
from qdframe.tuning.measure import infidelity


@pytest.fixture(scope="module")
def tuned() -> TuneResult:
    lines: list[str] = []
    result = Tuner(
        nf.load_test_plugins(),
        TuneOptions(suite="quick", num_qubits=7),
        system_type="linux_x86_64_generic",
        meter=None,
        progress=lines.append,
    ).run()
    assert any("rejected, results differ" in line for line in lines)
    return result


def test_finds_the_faster_setting(tuned: TuneResult) -> None:
    # cross_check=True simulates every circuit twice: turning it off halves the work.
    # (complex64 only converts the result: on a busy machine it may or may not
    # look faster, so it is not asserted either way.)
    assert tuned.changed_settings["backend.qsv.cross_check"] is False
    assert set(tuned.changed_settings) <= {"backend.qsv.cross_check", "acceleration.precision"}
    assert tuned.best_settings["backend.qsv.cross_check"] is False
    assert 25.0 < tuned.savings < 75.0
    assert tuned.quantum_advantage
    assert tuned.savings_basis == "time" and tuned.energy_savings is None


def test_rejects_candidates_whose_results_differ(tuned: TuneResult) -> None:
    approximate = [c for c in tuned.candidates if c.changed == {"backend.qsv.approximate": True}]
    assert len(approximate) == 1
    assert not approximate[0].agrees
    assert approximate[0].max_infidelity is not None and approximate[0].max_infidelity > 1e-3
    assert tuned.best_settings["backend.qsv.approximate"] is False
    for workload in tuned.workloads:
        assert workload.best_settings.get("backend.qsv.approximate") is False
    precision = [
        c for c in tuned.candidates if c.changed == {"acceleration.precision": "complex64"}
    ]
    assert precision[0].agrees  # complex64 is within tolerance


def test_reports_every_workload_class(tuned: TuneResult) -> None:
    assert [w.workload_class for w in tuned.workloads] == list(WORKLOAD_CLASSES)
    for workload in tuned.workloads:
        assert workload.num_qubits == 7
        assert workload.best_s <= workload.default_s
        expected = 100 * (workload.default_s - workload.best_s) / workload.default_s
        assert workload.savings == pytest.approx(expected, abs=1e-2)
    assert "resources.executor_workers" in tuned.not_exercised


def test_result_roundtrip_and_contribution(tuned: TuneResult, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "tune.json"
    tuned.save(path)
    assert TuneResult.load(path) == tuned
    contribution = tuned.to_contribution("0" * 32)
    assert contribution.settings == tuned.best_settings
    assert set(contribution.workloads) == set(WORKLOAD_CLASSES)
    assert nf.make_whitelist().check(contribution.settings) == []
    path.write_text("{}")
    with pytest.raises(ConfigError, match="not a valid tuning result"):
        TuneResult.load(path)


class _BrokenPrecision:
    """Declares a precision the backend refuses: the candidate fails, tuning goes on."""

    @staticmethod
    @qdframe.hookimpl
    def qdframe_register_backends(registry: Any) -> None:
        registry.add("qsv", nf.QsvBackend)

    @staticmethod
    @qdframe.hookimpl
    def qdframe_register_tunable_settings(registry: Any) -> None:
        registry.add(
            "acceleration.precision",
            TunableSetting("acceleration.precision", ("complex128", "complex32"), "complex128"),
        )


def test_failing_candidate_is_recorded_not_fatal() -> None:
    loaded = qdframe.load_plugins(autoload=False, plugins=[("broken", _BrokenPrecision)])
    result = Tuner(
        loaded, TuneOptions(suite="quick", num_qubits=4, repeats=1), system_type="x", meter=None
    ).run()
    [failed] = [c for c in result.candidates if c.changed]
    assert failed.error is not None and "complex32" in failed.error
    assert result.changed_settings == {} and result.savings == 0.0
    assert not result.quantum_advantage


def test_planner_maps_settings_to_backend_options() -> None:
    planner = Planner(nf.load_test_plugins(), 6)
    plan = planner.plan(
        {
            "acceleration.precision": "complex64",
            "backend.qsv.cross_check": False,
            "backend.other.thing": 1,
        }
    )
    assert plan.backend == "qsv"
    assert dict(plan.options) == {"precision": "complex64", "cross_check": False}
    defaults = {"acceleration.precision": "complex128"}
    assert planner.not_exercised("backend.qsv.cross_check", defaults) is None
    assert "applies to backend 'other'" in str(planner.not_exercised("backend.other.x", defaults))
    assert planner.not_exercised("resources.executor_workers", defaults) is not None


def test_suite_is_deterministic_and_sized() -> None:
    first = build_suite(6, "standard")
    second = build_suite(6, "standard")
    assert [w.workload_class for w in first] == list(WORKLOAD_CLASSES)
    for a, b in zip(first, second, strict=True):
        assert a.circuits == b.circuits
        assert all(c.num_qubits == 6 for c in a.circuits)
    assert len(build_suite(6, "quick")[1].circuits) < len(first[1].circuits)
    with pytest.raises(ValueError, match="unknown suite"):
        build_suite(6, "huge")


def test_infidelity() -> None:
    import numpy as np

    a = np.array([1, 0, 0, 0], dtype=complex)
    assert infidelity(a, a * np.exp(0.3j)) == pytest.approx(0.0)  # global phase is equal
    assert infidelity(a, np.array([0, 1, 0, 0], dtype=complex)) == pytest.approx(1.0)
    assert infidelity(a, np.array([1, 0], dtype=complex)) == 1.0


def test_energy_meter_reads_rapl_layout(tmp_path: Path) -> None:
    zone = tmp_path / "intel-rapl:0"
    sub = tmp_path / "intel-rapl:0:0"
    for path, name in ((zone, "package-0"), (sub, "core")):
        path.mkdir()
        (path / "name").write_text(name)
        (path / "energy_uj").write_text("999000")
        (path / "max_energy_range_uj").write_text("1000000")
    meter = EnergyMeter.detect(tmp_path)
    assert meter is not None
    before = meter.read()
    (zone / "energy_uj").write_text("1000")  # the counter wrapped
    assert meter.joules_between(before, meter.read()) == pytest.approx(0.002)
    assert EnergyMeter.detect(tmp_path / "nothing") is None
