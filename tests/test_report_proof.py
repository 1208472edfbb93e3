"""The JSON result and the HTML report say what a verification proved."""

from __future__ import annotations

import json
from pathlib import Path

from qiskit import QuantumCircuit, qasm2
from typer.testing import CliRunner

from qdframe.allocation import Allocation
from qdframe.cli.main import app
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.report import ExecutionSummary, VerificationSummary, load_report
from qdframe.report.html import _proof
from qdframe.topology import Topology
from qdframe.verification import verify

runner = CliRunner()


def _program_and_circuit() -> tuple[QuantumCircuit, object]:
    circuit = qft_no_swaps(4)
    topology = Topology("ring", 2, [(0, 1)], data_qubits=2)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 0, 1, 1]))
    return circuit, compile_distributed(circuit, plan)


def test_a_random_inputs_result_states_its_inputs_and_bound() -> None:
    circuit, program = _program_and_circuit()
    data = verify(circuit, program, method="random-inputs", inputs=3).as_dict()
    assert data["inputs"] == 3 and data["method"] == "random-inputs"
    assert 0 < data["false_accept_probability"] < 1
    assert data["scope"].startswith("3 random input states, false-accept probability <= ")
    summary = VerificationSummary.from_result(data)
    assert summary is not None and summary.inputs == "3"
    page = _proof(summary)
    assert "3 random input states" in page and "false-accept probability" in page
    assert "verified" in page and 'class="error"' not in page


def test_an_exact_result_covers_all_inputs_and_a_refusal_shows_red() -> None:
    circuit, program = _program_and_circuit()
    data = verify(circuit, program).as_dict()
    assert data["inputs"] == "all" and data["scope"] == "all input states"
    assert "false_accept_probability" not in data
    wrong = circuit.copy()
    wrong.h(0)
    refused = VerificationSummary.from_result(verify(wrong, program).as_dict())
    assert refused is not None and refused.verified is False
    page = _proof(refused)
    assert "NOT verified" in page and 'class="error"' in page
    assert refused.distance is not None and refused.distance > 0.1


def test_nothing_checked_gives_no_summary_and_old_reports_still_load() -> None:
    assert VerificationSummary.from_result(None) is None
    assert VerificationSummary.from_result({"verified": True}) is None
    cut = VerificationSummary.from_result(
        {"verified": None, "method": "none", "reason": "circuit cutting leaves nothing"}
    )
    assert cut is not None and cut.verified is None and "cutting" in cut.proved
    # A report written before the field existed has no proof and still validates.
    assert ExecutionSummary.model_validate({"backend": "numpy", "shots": 1}).proof is None


def test_qdframe_run_json_and_html_report_say_what_was_proved(tmp_path: Path) -> None:
    circuit = qft_no_swaps(4)
    circuit.measure_all()
    source = tmp_path / "qft4.qasm"
    source.write_text(qasm2.dumps(circuit))
    run_dir = tmp_path / "run"
    result = runner.invoke(
        app,
        ["run", str(source), "--nodes", "2", "--qubits-per-node", "2", "--topology", "ring",
         "--verify", "--shots", "200", "--seed", "3", "--json", "--report", str(run_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    v = data["verification"]
    assert data["verified"] is True
    assert v["method"] == "exact-state" and v["inputs"] == "all"
    assert v["scope"] == "all input states" and v["distance"] <= v["bound"]
    report = load_report(Path(data["report"]).with_suffix(".json"))
    assert report.execution is not None and report.execution.proof is not None
    assert report.execution.proof.scope == "all input states"
    page = Path(data["report"]).read_text()
    assert '<h3 id="verification">Verification</h3>' in page
    assert "all input states" in page and "exact-state" in page
