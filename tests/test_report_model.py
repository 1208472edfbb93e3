"""The report model: builders, validation, atomic JSON persistence and re-rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from qiskit import QuantumCircuit

from qdframe.config import SystemConfig
from qdframe.context import RunContext
from qdframe.errors import EXIT_USAGE
from qdframe.report import (
    HTML_NAME,
    JSON_NAME,
    SCHEMA_VERSION,
    CircuitSummary,
    ConfigSummary,
    MetricsSummary,
    MitigationSummary,
    ReportError,
    RunReport,
    ScheduleSummary,
    TimelineItem,
    TopologySummary,
    load_report,
    rerender,
    write_report,
)
from qdframe.report.example import example_report
from qdframe.topology import Topology


def test_circuit_summary_counts_what_the_circuit_holds() -> None:
    circuit = QuantumCircuit(3, name="probe")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ccx(0, 1, 2)
    circuit.barrier()
    circuit.measure_all()
    summary = CircuitSummary.from_circuit(circuit)
    assert summary.name == "probe"
    assert (summary.num_qubits, summary.num_clbits) == (3, 3)
    assert summary.ops["measure"] == 3 and summary.ops["cx"] == 1
    assert summary.two_qubit_gates == 2  # cx and ccx; barriers do not count
    assert summary.depth == circuit.depth()


def test_config_summary_keeps_the_headline_values_and_everything_else() -> None:
    config = SystemConfig.model_validate(
        {"distributed": {"num_nodes": 12, "network_topology": "ring", "allocator": "fm"}}
    )
    summary = ConfigSummary.from_config(config)
    assert (summary.num_nodes, summary.topology, summary.allocator) == (12, "ring", "fm")
    assert summary.communication_mode == "quantum"
    assert summary.settings == json.loads(config.model_dump_json())


def test_topology_summary_marks_usage_and_failures() -> None:
    topology = Topology("line", 4, [(0, 1), (1, 2), (2, 3)], data_qubits=[2, 3, 2, 1])
    summary = TopologySummary.from_topology(
        topology, usage={(2, 1): 5.0}, failed_nodes=[3], failed_links=[(3, 2)]
    )
    assert [n.data_qubits for n in summary.nodes] == [2, 3, 2, 1]
    assert [(e.u, e.v, e.usage, e.failed) for e in summary.edges] == [
        (0, 1, 0.0, False),
        (1, 2, 5.0, False),
        (2, 3, 0.0, True),
    ]
    assert [n.failed for n in summary.nodes] == [False, False, False, True]


def test_metrics_are_read_from_the_run_context() -> None:
    context = RunContext(run_id="r", config=SystemConfig())
    context.metrics.update(
        {
            "stage_seconds": {"intake": 0.25, "execute": 0.5},
            "recoveries": [
                {
                    "stage": "execute",
                    "error": "HardwareError",
                    "attempt": 0,
                    "action": "fallback_classical",
                    "reason": "GPU lost",
                }
            ],
            "jobs": 4,
            "handle": object(),  # not JSON data: left out
        }
    )
    metrics = MetricsSummary.from_context(context, cpu_percent=50.0)
    assert metrics.total_seconds == pytest.approx(0.75)
    assert metrics.recoveries[0].action == "fallback_classical"
    assert metrics.extra == {"jobs": 4}
    assert metrics.cpu_percent == 50.0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimelineItem(node=0, start_us=5, end_us=4), "before it starts"),
        (lambda: ScheduleSummary(makespan_us=1, node_utilisation={2: 1.5}), "node 2 is 1.5"),
        (
            lambda: TopologySummary.model_validate(
                {"name": "x", "nodes": [{"id": 0}], "edges": [{"u": 0, "v": 1}]}
            ),
            "link 0-1 joins a node that is not listed",
        ),
        (lambda: RunReport.model_validate({"run_id": "r"}), "circuit"),
    ],
)
def test_inconsistent_data_is_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        build()


def test_a_report_round_trips_through_its_files(tmp_path: Path) -> None:
    report = example_report(seed=3)
    json_path, html_path = write_report(tmp_path / "run", report)
    assert (json_path.name, html_path.name) == (JSON_NAME, HTML_NAME)
    loaded = load_report(tmp_path / "run")
    assert loaded == report
    assert load_report(json_path) == report
    data = json.loads(json_path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["schedule"]["node_utilisation"].keys() == {str(n) for n in range(6)}


def test_writing_replaces_atomically_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_report(tmp_path, example_report(seed=1))
    second = example_report(seed=2)
    write_report(tmp_path, second)
    assert sorted(p.name for p in tmp_path.iterdir()) == [HTML_NAME, JSON_NAME]
    assert load_report(tmp_path) == second


def test_rerender_rebuilds_the_page_from_the_json(tmp_path: Path) -> None:
    json_path, html_path = write_report(tmp_path, example_report())
    data = json.loads(json_path.read_text())
    data["circuit"]["name"] = "renamed circuit"
    json_path.write_text(json.dumps(data))
    html_path.unlink()
    assert rerender(tmp_path) == html_path
    assert "renamed circuit" in html_path.read_text()


def test_missing_reports_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="is not a run directory") as info:
        load_report(tmp_path / "nowhere")
    assert info.value.exit_code == EXIT_USAGE
    with pytest.raises(ReportError, match="has not written one yet"):
        load_report(tmp_path)
    with pytest.raises(ReportError, match="has not written one yet"):
        rerender(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object, found list"),
        (
            json.dumps({"schema_version": SCHEMA_VERSION + 1, "qdframe_version": "9.0"}),
            f"schema version {SCHEMA_VERSION + 1}, written by qdframe 9.0",
        ),
        (
            json.dumps({"run_id": "r", "circuit": {"name": "c", "num_qubits": -1}}),
            r"circuit\.num_qubits: .*greater than or equal to 0",
        ),
    ],
)
def test_broken_reports_are_explained(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / JSON_NAME).write_text(content)
    with pytest.raises(ReportError, match=message):
        load_report(tmp_path)


def test_mitigation_results_fit_the_report() -> None:
    from qdframe_mitigation import ReadoutMitigator, ZNEMitigator, backend_runner

    import qdframe
    from qdframe.noise import NoiseModel

    runner = backend_runner(
        qdframe.get_backend("numpy"),
        NoiseModel().with_readout_error(prob_meas1_prep0=0.1, prob_meas0_prep1=0.2),
    )
    readout = ReadoutMitigator()
    calibration = readout.calibrate(runner, {0: [0], 1: [1]}, shots=500, seed=1)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    result = ZNEMitigator(scales=(1, 3)).estimate(circuit, "IZ", runner, shots=200, seed=1)
    summary = MitigationSummary.from_data(readout=calibration.to_dict(), zne=[result.to_dict()])
    assert [(q.node, q.qubit) for q in summary.readout] == [(0, 0), (1, 1)]
    assert summary.readout[1].prob_meas0_prep1 == calibration.readout(1).prob_meas0_prep1
    assert summary.readout_shots == 500
    assert summary.zne[0].value == result.value
    assert summary.zne[0].observable == {"IZ": 1.0}
