"""The estimate before a run, the --max-seconds refusal, stage progress and interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from typer.testing import CliRunner

import qdframe as qd
from qdframe.errors import RegistryError
from qdframe.estimate import (
    RunTooLongError,
    check_estimate,
    estimate_run,
    memory_advice,
    simulation_profile,
)
from qdframe.plugins import default_plugins

ROOT = Path(__file__).resolve().parents[1]
QFT8 = ROOT / "examples" / "qft8.qasm"
_RUN = (sys.executable, "-m", "qdframe", "run", str(QFT8), "--nodes", "2")


def _ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def _branching(mid: int) -> QuantumCircuit:
    qc = QuantumCircuit(2, mid + 1)
    for bit in range(mid):
        qc.h(0)
        qc.measure(0, bit)
        qc.x(0)  # work after the measurement: the outcome splits the state
    qc.measure(1, mid)
    return qc


def test_final_measurements_need_one_simulation_per_batch() -> None:
    estimate = estimate_run(
        _ghz(3), 1000, batch_shots=100, backend="numpy", plugins=default_plugins()
    )
    assert estimate.mid_circuit_measurements == 0
    assert estimate.trajectories == 10
    assert estimate.simulated_qubits == 3
    assert estimate.statevector_bytes == 16 * 2**3


def test_mid_circuit_measurements_branch_up_to_one_trajectory_per_shot() -> None:
    plugins = default_plugins()
    few = estimate_run(_branching(2), 1000, batch_shots=100, backend="numpy", plugins=plugins)
    many = estimate_run(_branching(10), 1000, batch_shots=100, backend="numpy", plugins=plugins)
    assert few.mid_circuit_measurements == 2
    assert few.trajectories == 10 * 4  # four outcome histories in each of ten batches
    assert many.trajectories == 1000
    assert many.seconds > few.seconds > 0


def test_estimate_scales_with_the_state_size() -> None:
    plugins = default_plugins()
    small = estimate_run(_ghz(4), 10, backend="numpy", plugins=plugins)
    large = estimate_run(_ghz(12), 10, backend="numpy", plugins=plugins)
    per_gate_small = small.seconds / small.gates
    per_gate_large = large.seconds / large.gates
    assert per_gate_large == pytest.approx(per_gate_small * 2**8)
    assert "12 simulated qubits" in large.describe()


def _distributed(n: int = 6, nodes: int = 2) -> QuantumCircuit:
    from qdframe.config import config_from_mapping
    from qdframe.distribute import compile_distributed
    from qdframe.families import qft_no_swaps
    from qdframe.planning import make_plan

    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": n // nodes,
                "network_topology": "ring",
            }
        }
    )
    circuit = qft_no_swaps(n)
    circuit.measure_all()
    plan = make_plan(circuit, config, plugins=default_plugins(), seed=1)
    return compile_distributed(circuit, plan, config).to_circuit()


def test_a_distributed_circuit_is_one_simulation_per_batch() -> None:
    # Protocol outcomes are corrected away and measured communication qubits
    # leave the state: one simulation per batch, narrower than the circuit.
    circuit = _distributed(6, 3)
    profile = simulation_profile(circuit)
    assert profile.single_simulation
    assert profile.mid_circuit_measurements == 0
    assert 6 <= profile.peak_qubits < circuit.num_qubits
    plugins = default_plugins()
    estimate = estimate_run(circuit, 1000, batch_shots=100, backend="numpy", plugins=plugins)
    assert estimate.trajectories == 10
    assert estimate.simulated_qubits == profile.peak_qubits
    assert estimate.circuit_qubits == circuit.num_qubits
    assert f"of the circuit's {circuit.num_qubits} simulated qubits" in estimate.describe()
    assert "10 simulations (one per shot batch)" in estimate.describe()
    with pytest.raises(RunTooLongError, match=r"fewer shot batches .*checkpoint_interval"):
        check_estimate(estimate, estimate.seconds / 2)
    # With noise every shot is a trajectory over every qubit.
    noisy = estimate_run(
        circuit, 1000, batch_shots=100, backend="numpy", plugins=plugins, noisy=True
    )
    assert noisy.trajectories == 1000
    assert noisy.simulated_qubits == circuit.num_qubits
    assert noisy.seconds > 100 * estimate.seconds


def test_memory_advice_offers_only_what_fits() -> None:
    from qdframe.backend import statevector_bytes

    need = statevector_bytes(30, "complex128")
    half = memory_advice(30, "complex128", need // 2, data_qubits=28)
    assert any('precision = "complex64"' in a for a in half)
    assert any("--nodes" in a for a in half)
    tight = memory_advice(30, "complex128", need // 8, data_qubits=29)
    assert not any("complex64" in a for a in tight)  # half the memory is not enough
    assert not any("--nodes" in a for a in tight)  # nor are the data qubits alone
    assert any("--mode classical" in a for a in tight)
    assert not any("precision='" in a for a in half + tight)  # no Python syntax


def test_memory_refusal_is_printed_once_with_flags(tmp_path: Path) -> None:
    config = tmp_path / "small.toml"
    config.write_text("[memory]\nmax_memory_bytes = 4096\n", encoding="utf-8")
    out = subprocess.run(
        [*_RUN, "--config", str(config), "--report", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert out.returncode == 1, out.stderr
    text = out.stdout + out.stderr
    assert text.count("refusing to run") == 1, text
    assert text.count("may be used") == 1, text
    assert "--mode classical" in text
    assert "complex64" not in text  # 4 KiB cannot hold half of the state either
    assert "Traceback" not in text


def test_check_estimate_refuses_only_over_the_limit() -> None:
    estimate = estimate_run(_ghz(4), 10, backend="numpy", plugins=default_plugins())
    check_estimate(estimate, None)
    check_estimate(estimate, estimate.seconds * 2)
    with pytest.raises(
        RunTooLongError, match=r"refusing to run: 4 simulated qubits.*--max-seconds"
    ):
        check_estimate(estimate, estimate.seconds / 2)


def test_run_records_the_estimate_and_takes_a_backend() -> None:
    with qd.DistributedSystem() as system:
        result = system.run(_ghz(4), shots=32, seed=1, backend="numpy")
        assert result.backend == "numpy"
        assert result.metrics["estimate"]["simulated_qubits"] >= 4
        with pytest.raises(RegistryError, match="nope"):
            system.run(_ghz(4), shots=32, seed=1, backend="nope")


def test_max_seconds_refuses_before_any_shot(tmp_path: Path) -> None:
    from qdframe.cli.main import app

    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["run", str(QFT8), "--nodes", "2", "--max-seconds", "0", "--report", str(run_dir)],
    )
    assert result.exit_code == 1, result.output
    assert "refusing to run" in result.output
    assert "simulated qubits" in result.output
    assert not list((run_dir / "checkpoints").glob("batch-*"))


def test_plain_progress_names_the_stages(tmp_path: Path) -> None:
    out = subprocess.run(
        [*_RUN, "--shots", "50", "--seed", "1", "--report", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    stages = [line.removeprefix("qdframe: stage ") for line in lines if "stage " in line]
    assert stages[:6] == ["intake", "allocate", "optimize", "lower", "schedule", "execute"]
    assert any(line.startswith("qdframe: estimate: ") for line in lines)
    assert "qdframe: shot batches 1/1" in lines


def test_json_output_has_no_progress_lines(tmp_path: Path) -> None:
    out = subprocess.run(
        [*_RUN, "--shots", "50", "--seed", "1", "--json", "--report", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "qdframe: stage" not in out.stderr
    assert json.loads(out.stdout)["estimate"]["trajectories"] >= 1


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_promptly_and_says_how_to_resume(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [*_RUN, "--shots", "20000", "--seed", "1", "--report", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "shot batches" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert "shot batches" in seen
    time.sleep(0.5)  # let a few batches finish
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    stopped_s = time.monotonic() - sent
    assert proc.returncode == code
    assert stopped_s < 2.0
    assert f"qdframe run --resume {run_dir}" in err
    if sig is signal.SIGTERM:
        return  # the resume itself is the same for both signals
    resumed = subprocess.run(
        [sys.executable, "-m", "qdframe", "run", "--resume", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["metrics"]["resumed_batches"] >= 1


def _estimate_metrics(seconds: float) -> dict[str, object]:
    return {
        "simulated_qubits": 10,
        "statevector_bytes": 16 << 10,
        "gates": 64,
        "mid_circuit_measurements": 0,
        "trajectories": 11,
        "seconds_per_amplitude": 1e-8,
        "seconds": seconds,
        "backend": "numpy",
        "circuit_qubits": 12,
        "single_simulation": True,
    }


@pytest.mark.parametrize(("seconds", "shown"), [(2.0, True), (7200.0, False)])
def test_plain_display_shows_the_estimate_once(seconds: float, shown: bool) -> None:
    import io
    import types

    from qdframe.cli._progress import RunDisplay

    stream = io.StringIO()
    display = RunDisplay("plain", stream=stream)
    context = types.SimpleNamespace(metrics={"estimate": _estimate_metrics(seconds)})
    display.stage("execute", context)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "qdframe: stage execute"
    # A slow run's estimate is already in the warning the guard logged.
    assert any(line.startswith("qdframe: estimate: 10 of the circuit's 12") for line in lines) == (
        shown
    )


def test_terminal_progress_names_the_stages(tmp_path: Path) -> None:
    import pty
    import select

    # stderr on a pseudo-terminal: the rich status line, not plain lines.
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*_RUN, "--shots", "3000", "--seed", "1", "--report", str(tmp_path / "r")],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"},
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    shown = seen.decode("utf-8", "replace")
    assert "qdframe: stage" not in shown  # no plain lines on a terminal
    # The line is redrawn ten times a second: stages shorter than that may
    # not be drawn at all, these two always are.
    for stage in ("allocate", "execute: shot batches"):
        assert stage in shown, stage
    assert "estimate:" in shown
