"""Classical communication mode: cuts that fit the nodes, reconstruction within error bars."""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qdframe.config import SystemConfig
from qdframe.errors import ConfigError
from qdframe.plugins import default_plugins

cutting = pytest.importorskip("qdframe_cutting")
pytest.importorskip("qiskit_addon_cutting")


def _run_classical(*args, **kwargs):
    return cutting.run_classical(*args, plugins=default_plugins(), **kwargs)


def config(qubits_per_node: int = 2, max_overhead: float = 1000.0) -> SystemConfig:
    return SystemConfig.model_validate(
        {
            "distributed": {"num_nodes": 2, "qubits_per_node": qubits_per_node},
            "communication": {"max_sampling_overhead": max_overhead},
        }
    )


def four_qubit_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.ry(0.3 * (q + 1), q)
    circuit.cx(0, 1)
    circuit.cx(2, 3)
    circuit.cx(1, 2)
    circuit.ry(0.5, 1)
    circuit.cx(0, 3)
    return circuit


OBSERVABLES = [SparsePauliOp("ZZZZ"), SparsePauliOp.from_list([("XIII", 0.5), ("IIZI", 1.0)])]


def test_reconstruction_is_within_three_standard_errors_of_the_exact_value() -> None:
    circuit = four_qubit_circuit()
    result = _run_classical(circuit, OBSERVABLES, config(), shots=1000, seed=3)
    exact = [Statevector(circuit).expectation_value(o).real for o in OBSERVABLES]
    for value, error, truth in zip(
        result.expectation_values, result.standard_errors, exact, strict=True
    ):
        assert 0 < error < 0.2
        assert abs(value - truth) <= 3 * error
    # Every piece fits a node; two CX gate cuts cost 3**2 each in samples.
    assert all(width <= 2 for width in result.piece_qubits.values())
    assert len(result.cuts) == 2
    assert result.sampling_overhead == pytest.approx(81.0)
    assert result.payload_bytes < result.raw_bytes


def test_too_expensive_cuts_are_refused_with_the_limit_named() -> None:
    with pytest.raises(cutting.SamplingOverheadError, match="max_sampling_overhead = 10"):
        _run_classical(four_qubit_circuit(), "ZZZZ", config(max_overhead=10.0), shots=10)


def test_a_circuit_that_fits_one_node_is_not_cut() -> None:
    circuit = four_qubit_circuit()
    plan = cutting.cut_for_nodes(circuit, ["ZZZZ"], qubits_per_node=4, max_sampling_overhead=1.0)
    assert plan.cuts == [] and plan.sampling_overhead == 1.0


def test_the_configured_executor_gives_the_same_estimates() -> None:
    circuit = four_qubit_circuit()
    serial = _run_classical(circuit, "ZZZZ", config(), shots=200, seed=5, batches=2)
    registry = default_plugins().registries.executors
    if "local" not in registry:
        pytest.skip("no local executor registered")
    with registry.get("local")(workers=2) as executor:
        pooled = _run_classical(
            circuit, "ZZZZ", config(), shots=200, seed=5, batches=2, executor=executor
        )
    assert pooled.expectation_values == serial.expectation_values
    assert pooled.subexperiments == serial.subexperiments > 1


def test_observables_are_checked() -> None:
    circuit = four_qubit_circuit()
    with pytest.raises(ConfigError, match="acts on 3 qubits"):
        _run_classical(circuit, "ZZZ", config(), shots=10)
    with pytest.raises(ConfigError, match="observables must be"):
        _run_classical(circuit, 42, config(), shots=10)


def test_mid_circuit_measurements_are_refused() -> None:
    circuit = four_qubit_circuit()
    circuit.measure_all()
    circuit.h(0)
    with pytest.raises(Exception, match="mid-circuit"):
        _run_classical(circuit, "ZZZZ", config(), shots=10)


@pytest.mark.slow
def test_sub_experiments_spread_over_dask() -> None:
    pytest.importorskip("distributed")
    registry = default_plugins().registries.executors
    if "dask" not in registry:
        pytest.skip("no dask executor registered")
    circuit = four_qubit_circuit()
    serial = _run_classical(circuit, "ZZZZ", config(), shots=200, seed=5, batches=2)
    with registry.get("dask")(config=config()) as executor:
        spread = _run_classical(
            circuit, "ZZZZ", config(), shots=200, seed=5, batches=2, executor=executor
        )
    assert spread.expectation_values == serial.expectation_values
    assert not math.isnan(spread.standard_errors[0])
