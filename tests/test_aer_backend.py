"""The ``aer`` backend: methods, result format, errors, agreement with numpy and Qiskit."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer import plugin as aer_plugin
from qdframe_aer.backend import AerBackend
from qdframe_aer.options import METHODS
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector

import qdframe as qd
from qdframe.backend import InvalidCircuitError
from qdframe.errors import ConfigError, ResourceError
from qdframe.noise import DepolarizingError, NoiseModel
from qdframe.plugins import LoadedPlugins
from qdframe.protocols import Backend


@pytest.fixture(scope="module")
def plugins() -> LoadedPlugins:
    return qd.load_plugins(autoload=False, plugins=[("aer", aer_plugin)])


def ghz(n: int, *, measure: bool = True) -> QuantumCircuit:
    circuit = QuantumCircuit(n, n if measure else 0, name=f"ghz{n}")
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    if measure:
        circuit.measure(range(n), range(n))
    return circuit


def test_mps_runs_a_40_qubit_ghz_circuit(plugins: LoadedPlugins) -> None:
    backend = qd.get_backend("aer", plugins=plugins, method="matrix_product_state")
    shots = 2000
    result = backend.run(ghz(40), shots=shots, seed=11)
    assert set(result.counts) <= {"0" * 40, "1" * 40}
    assert sum(result.counts.values()) == shots
    ones = result.counts.get("1" * 40, 0)
    # binomial(2000, 1/2): 5 standard deviations is about 112
    assert abs(ones - shots / 2) < 5 * math.sqrt(shots / 4)
    assert result.metadata["method"] == "matrix_product_state"
    assert result.metadata["num_qubits"] == 40


def test_stabilizer_runs_far_beyond_statevector_sizes(plugins: LoadedPlugins) -> None:
    backend = qd.get_backend("aer", plugins=plugins, method="stabilizer")
    result = backend.run(ghz(300), shots=200, seed=3)
    assert set(result.counts) == {"0" * 300, "1" * 300}
    assert backend.capabilities.max_qubits["complex128"] >= 300


@pytest.mark.parametrize("method", ["automatic", "statevector", "matrix_product_state"])
def test_exact_statevector_matches_qiskit_and_numpy(method: str, plugins: LoadedPlugins) -> None:
    from qdframe_numpy import plugin as numpy_plugin

    both = qd.load_plugins(autoload=False, plugins=[("aer", aer_plugin), ("numpy", numpy_plugin)])
    aer = qd.get_backend("aer", plugins=both, method=method)
    reference = qd.get_backend("numpy", plugins=both)
    for seed in range(4):
        circuit = random_circuit(5, 6, max_operands=3, seed=seed)
        state = aer.run(circuit, shots=0).statevector
        assert state is not None
        np.testing.assert_allclose(state, Statevector(circuit).data, atol=1e-9)
        np.testing.assert_allclose(state, reference.run(circuit, shots=0).statevector, atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_samples_a_bell_pair(method: str, plugins: LoadedPlugins) -> None:
    backend = qd.get_backend("aer", plugins=plugins, method=method)
    result = backend.run(ghz(2), shots=500, seed=5)
    assert set(result.counts) == {"00", "11"}
    assert sum(result.counts.values()) == 500


def test_bitstrings_put_clbit_zero_rightmost_with_no_register_spaces(
    plugins: LoadedPlugins,
) -> None:
    q = QuantumRegister(3)
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    circuit = QuantumCircuit(q, a, b)
    circuit.x(0)
    circuit.measure(0, a[0])  # clbit 0 reads 1
    circuit.measure(1, b[0])  # clbit 1 reads 0
    circuit.measure(0, b[1])  # clbit 2 reads 1
    backend = qd.get_backend("aer", plugins=plugins)
    result = backend.run(circuit, shots=7, memory=True, seed=1)
    assert result.counts == {"101": 7}
    assert result.memory == ["101"] * 7


def test_memory_lists_shots_in_order_consistent_with_counts(plugins: LoadedPlugins) -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.h([0, 1])
    circuit.measure([0, 1], [0, 1])
    result = qd.get_backend("aer", plugins=plugins).run(circuit, shots=300, seed=2, memory=True)
    assert result.memory is not None and len(result.memory) == 300
    tally: dict[str, int] = {}
    for bits in result.memory:
        tally[bits] = tally.get(bits, 0) + 1
    assert tally == result.counts


def test_circuits_without_classical_bits_count_every_shot_under_empty_string(
    plugins: LoadedPlugins,
) -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    assert qd.get_backend("aer", plugins=plugins).run(circuit, shots=9).counts == {"": 9}


def test_a_seed_makes_runs_reproducible_and_batch_head_equals_single(
    plugins: LoadedPlugins,
) -> None:
    circuit = QuantumCircuit(4, 4)
    circuit.h(range(4))
    circuit.measure(range(4), range(4))
    backend = qd.get_backend("aer", plugins=plugins)
    first = backend.run(circuit, shots=200, seed=42, memory=True)
    again = backend.run(circuit, shots=200, seed=42, memory=True)
    batch = backend.run([circuit, circuit], shots=200, seed=42, memory=True)
    assert first.memory == again.memory
    assert isinstance(batch, qd.BackendResults) and len(batch) == 2
    assert batch[0].memory == first.memory


def test_a_batch_returns_results_in_order(plugins: LoadedPlugins) -> None:
    circuits = []
    for k in range(4):
        circuit = QuantumCircuit(3, 3)
        for bit in range(3):
            if (k >> bit) & 1:
                circuit.x(bit)
        circuit.measure(range(3), range(3))
        circuits.append(circuit)
    results = qd.get_backend("aer", plugins=plugins).run(circuits, shots=5)
    assert isinstance(results, qd.BackendResults)
    assert [r.counts for r in results] == [{format(k, "03b"): 5} for k in range(4)]
    assert len(qd.get_backend("aer", plugins=plugins).run([], shots=5)) == 0


def test_mid_circuit_measurement_and_classical_condition(plugins: LoadedPlugins) -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    circuit.x(0)  # the measured qubit is used again
    result = qd.get_backend("aer", plugins=plugins).run(circuit, shots=50)
    assert result.counts == {"11": 50}


def test_custom_gates_are_decomposed(plugins: LoadedPlugins) -> None:
    bell = QuantumCircuit(2, name="bellprep")
    bell.h(0)
    bell.cx(0, 1)
    circuit = QuantumCircuit(2)
    circuit.append(bell.to_gate(), [0, 1])
    state = qd.get_backend("aer", plugins=plugins).run(circuit, shots=0).statevector
    np.testing.assert_allclose(state, [2**-0.5, 0, 0, 2**-0.5], atol=1e-12)


def test_metadata_reports_time_memory_method_precision(plugins: LoadedPlugins) -> None:
    backend = qd.get_backend("aer", plugins=plugins, method="statevector", precision="complex64")
    result = backend.run(ghz(6, measure=False), shots=0)
    meta = result.metadata
    assert meta["time_s"] > 0
    assert meta["peak_bytes"] >= 8 * 2**6
    assert (meta["method"], meta["precision"], meta["backend"]) == (
        "statevector",
        "complex64",
        "aer",
    )
    assert result.statevector is not None and result.statevector.dtype == np.complex64
    assert result.counts == {}


def test_shots_zero_refuses_measurements_noise_and_non_statevector_methods(
    plugins: LoadedPlugins,
) -> None:
    backend = qd.get_backend("aer", plugins=plugins)
    with pytest.raises(InvalidCircuitError, match="measures"):
        backend.run(ghz(2), shots=0)
    noise = NoiseModel().with_gate_error(DepolarizingError(probability=0.1), ["h"])
    with pytest.raises(InvalidCircuitError, match="mixed state"):
        backend.run(ghz(2, measure=False), shots=0, noise=noise)
    for method in ("density_matrix", "stabilizer"):
        other = qd.get_backend("aer", plugins=plugins, method=method)
        with pytest.raises(InvalidCircuitError, match=f"method '{method}'"):
            other.run(ghz(2, measure=False), shots=0)


def test_bad_requests_are_invalid_circuit_errors_saying_why(plugins: LoadedPlugins) -> None:
    backend = qd.get_backend("aer", plugins=plugins)
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    with pytest.raises(InvalidCircuitError, match="unbound parameters: theta"):
        backend.run(circuit, shots=0)
    with pytest.raises(InvalidCircuitError, match="QuantumCircuit"):
        backend.run("OPENQASM 2.0;", shots=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidCircuitError, match="shots: must be an integer from 0"):
        backend.run(ghz(1), shots=-1)
    with pytest.raises(InvalidCircuitError, match="NoiseModel"):
        backend.run(ghz(1), noise={"depolarizing": 0.1})  # type: ignore[arg-type]
    t_gate = QuantumCircuit(1, 1)
    t_gate.t(0)
    t_gate.measure(0, 0)
    stabilizer = qd.get_backend("aer", plugins=plugins, method="stabilizer")
    with pytest.raises(InvalidCircuitError, match="Clifford circuits only"):
        stabilizer.run(t_gate)


def test_a_state_over_the_memory_budget_is_refused_before_running(
    plugins: LoadedPlugins,
) -> None:
    backend = qd.get_backend("aer", plugins=plugins, method="statevector", max_memory_bytes=2**20)
    with pytest.raises(ResourceError, match=r"16 MiB .* only 1 MiB .*max_memory_bytes=1048576"):
        backend.run(ghz(20, measure=False), shots=0)
    density = qd.get_backend("aer", plugins=plugins, method="density_matrix", max_memory_mb=1)
    with pytest.raises(ResourceError, match="density matrix"):
        density.run(ghz(10), shots=10)


def test_capabilities_follow_method_and_memory(plugins: LoadedPlugins) -> None:
    small = qd.get_backend("aer", plugins=plugins, method="statevector", max_memory_bytes=2**24)
    caps = small.capabilities
    assert caps.max_qubits == {"complex128": 20, "complex64": 21}
    density = qd.get_backend("aer", plugins=plugins, method="density_matrix", max_memory_mb=16)
    assert density.capabilities.max_qubits["complex128"] == 10
    assert not density.capabilities.statevector
    assert {"cx", "h", "measure", "if_else"} <= caps.supported_operations
    assert caps.noise and caps.mid_circuit_measurement and caps.classical_conditions
    assert set(caps.methods) == set(METHODS)
    assert "cpu" in caps.devices


def test_unknown_options_and_values_name_what_is_allowed(plugins: LoadedPlugins) -> None:
    with pytest.raises(ConfigError, match=r"unknown option.*'shots_per_second'") as caught:
        qd.get_backend("aer", plugins=plugins, shots_per_second=3)
    assert caught.value.allowed is not None and "fusion_max_qubit" in caught.value.allowed
    with pytest.raises(ConfigError, match="unknown method 'tensor'") as caught:
        qd.get_backend("aer", plugins=plugins, method="tensor")
    assert caught.value.allowed == ", ".join(METHODS)
    with pytest.raises(ConfigError, match=r"backend\.aer\.noise_model"):
        qd.get_backend("aer", plugins=plugins, noise_model=None)
    with pytest.raises(ConfigError, match="fusion_max_qubit"):
        qd.get_backend("aer", plugins=plugins, fusion_max_qubit=0)


def test_aer_options_pass_through_to_the_simulator(plugins: LoadedPlugins) -> None:
    # A bond dimension of 1 keeps the MPS a product state: GHZ loses its correlations.
    truncated = qd.get_backend(
        "aer",
        plugins=plugins,
        method="matrix_product_state",
        matrix_product_state_max_bond_dimension=1,
    )
    counts = truncated.run(ghz(4), shots=400, seed=1).counts
    assert set(counts) != {"0000", "1111"}


def test_aer_is_registered_with_its_tunable_settings(plugins: LoadedPlugins) -> None:
    backend = plugins.registries.backends.get("aer")()
    assert isinstance(backend, AerBackend)
    assert isinstance(backend, Backend)
    settings = plugins.registries.tunable_settings
    for key in ("backend.aer.method", "backend.aer.fusion_max_qubit"):
        assert key in settings
    method = settings.get("backend.aer.method")
    assert method.allows("matrix_product_state") and not method.allows("stabilizer")
