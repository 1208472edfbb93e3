"""``qdframe run --verify-method`` and ``DistributedSystem.run(verify_method=...)``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, qasm2
from typer.testing import CliRunner

import qdframe as qd
from qdframe.cli.main import app
from qdframe.errors import CircuitError, ConfigError
from qdframe.families import qft_no_swaps
from qdframe.verification import METHODS

runner = CliRunner()

_NETWORK = ["--nodes", "2", "--qubits-per-node", "2", "--topology", "ring"]


def _measured_qft4() -> QuantumCircuit:
    circuit = qft_no_swaps(4)
    circuit.h(1)
    circuit.measure_all()
    return circuit


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "qft4.qasm"
    path.write_text(qasm2.dumps(_measured_qft4()))
    return path


def _run_json(source: Path, *extra: str) -> dict:
    result = runner.invoke(
        app, ["run", str(source), *_NETWORK, "--shots", "100", "--seed", "3", "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_random_inputs_is_the_method_that_ran_and_implies_verify(
    source: Path, tmp_path: Path
) -> None:
    # No --verify: the method alone asks for verification.
    run_dir = tmp_path / "run"
    data = _run_json(source, "--verify-method", "random-inputs", "--report", str(run_dir))
    v = data["verification"]
    assert data["verified"] is True
    assert v["method"] == "random-inputs"
    assert v["inputs"] == 8 and 0 < v["false_accept_probability"] < 1
    assert v["scope"].startswith("8 random input states")
    # The HTML report says the same: which method, and what its pass covers.
    page = Path(data["report"]).read_text()
    assert "random-inputs" in page and "8 random input states" in page
    assert "false-accept probability" in page and "all input states" not in page
    # The run directory keeps the method, so a resumed run verifies the same way.
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["verify_method"] == "random-inputs" and manifest["verify"] is True
    resumed = runner.invoke(app, ["run", "--resume", str(run_dir), "--json"])
    assert resumed.exit_code == 0, resumed.output
    again = json.loads(resumed.stdout[resumed.stdout.index("{") :])
    assert again["verification"]["method"] == "random-inputs"
    # Another method given on resume replaces the saved one.
    resumed = runner.invoke(
        app, ["run", "--resume", str(run_dir), "--json", "--verify-method", "exact"]
    )
    assert resumed.exit_code == 0, resumed.output
    again = json.loads(resumed.stdout[resumed.stdout.index("{") :])
    assert again["verification"]["method"] == "exact-state"


def test_sampled_and_exact_report_different_scopes(source: Path) -> None:
    sampled = _run_json(source, "--verify-method", "sampled")["verification"]
    assert sampled["method"] == "sampled" and sampled["inputs"] == "|0...0>"
    exact = _run_json(source, "--verify", "--verify-method", "exact")["verification"]
    assert exact["method"] == "exact-state" and exact["inputs"] == "all"
    assert exact["scope"] == "all input states"


def test_a_bad_method_exits_2_naming_it_and_the_allowed_methods(source: Path) -> None:
    result = runner.invoke(app, ["run", str(source), *_NETWORK, "--verify-method", "choi"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "'choi'" in text and "--verify-method" in text
    assert "allowed: " + ", ".join(METHODS) in text


def test_help_says_what_each_method_proves() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--verify-method" in text
    for phrase in ("every input state", "Haar-random", "false-accept bound", "not a proof"):
        assert phrase in text


def _ring_config() -> object:
    return qd.config.config_from_mapping(
        {"distributed": {"num_nodes": 2, "qubits_per_node": 2, "network_topology": "ring"}}
    )


def test_the_python_api_takes_the_method() -> None:
    with qd.DistributedSystem(_ring_config()) as system:
        result = system.run(_measured_qft4(), shots=50, seed=1, verify_method="random-inputs")
        assert result.verified is True
        assert result.verification["method"] == "random-inputs"
        assert result.verification["inputs"] == 8
        with pytest.raises(ConfigError, match=r"'choi'.*allowed: auto, exact"):
            system.run(_measured_qft4(), shots=50, seed=1, verify_method="choi")
        plain = system.run(_measured_qft4(), shots=50, seed=1, verify=True)
        assert plain.verification["method"] == "exact-state"


def test_qcec_on_a_mid_circuit_measurement_is_refused_before_the_run(tmp_path: Path) -> None:
    circuit = QuantumCircuit(4, 4)
    circuit.h(0)
    circuit.measure(0, 0)  # mid-circuit: qubit 0 is used again
    circuit.cx(0, 3)
    circuit.measure(range(4), range(4))
    path = tmp_path / "midway.qasm"
    path.write_text(qasm2.dumps(circuit))
    run_dir = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "run",
            str(path),
            *_NETWORK,
            "--shots",
            "50",
            "--verify-method",
            "qcec",
            "--report",
            str(run_dir),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "qcec" in result.output and "mid-circuit" in result.output
    # Refused at intake: no shot batch ran, so none was checkpointed.
    assert not list(run_dir.glob("checkpoints/batch-*"))


def test_qcec_on_final_measurements_only_is_accepted_by_the_early_check() -> None:
    from qdframe.verification import check_method

    circuit = _measured_qft4()
    check_method(circuit, "qcec")  # final measurements only: no refusal
    circuit.reset(0)
    with pytest.raises(CircuitError, match="mid-circuit"):
        check_method(circuit, "qcec")
    check_method(circuit, "random-inputs")  # other methods take it
