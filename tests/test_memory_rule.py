"""One statevector memory rule: the HAL never picks a backend that then refuses the circuit."""

from __future__ import annotations

from fractions import Fraction

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit

import qdframe
import qdframe_hal.capacity as capacity
from qdframe import backend as core
from qdframe.config import config_from_mapping
from qdframe.errors import ResourceError
from qdframe_hal import BackendRequirements, select_backend

BUDGETS = [2**14, 2**16, 3 * 2**16, 2**18, 2**20, 5 * 2**18]


def test_the_hal_and_the_backends_share_one_sizing_and_one_share() -> None:
    assert capacity.statevector_bytes is core.statevector_bytes
    assert capacity.max_statevector_qubits is core.max_statevector_qubits
    assert capacity.HOST_MEMORY_FRACTION == core.MEMORY_FRACTION == Fraction(4, 5)
    assert capacity.BYTES_PER_AMPLITUDE == core.PRECISIONS
    with pytest.raises(ValueError, match="complex256"):
        core.statevector_bytes(3, "complex256")


def _circuit(n: int) -> QuantumCircuit:
    circuit = random_circuit(n, 6, max_operands=3, seed=n)
    circuit.measure_all()
    return circuit


@pytest.mark.parametrize("budget", BUDGETS)
def test_the_chosen_backend_accepts_the_circuit_at_every_size(budget: int) -> None:
    plugins = qdframe.load_plugins()
    options = {"max_memory_bytes": budget}
    for n in range(6, 18):
        circuit = _circuit(n)
        requirements = BackendRequirements.from_circuit(circuit)
        try:
            choice = select_backend(
                requirements, plugins=plugins, options=lambda _: options, circuit=circuit
            )
        except ResourceError as exc:
            assert "no registered backend can run" in str(exc)
            continue
        backend = qdframe.get_backend(choice.backend, plugins=plugins, **options)
        result = backend.run(circuit, shots=4, seed=1)  # must not refuse
        assert sum(result.counts.values()) == 4


def test_a_backend_whose_capabilities_fit_but_preflight_refuses_is_not_chosen() -> None:
    plugins = qdframe.load_plugins(disabled=["aer"])
    budget = 2**16
    numpy = qdframe.get_backend("numpy", plugins=plugins, max_memory_bytes=budget)
    n = numpy.capabilities.max_qubits["complex128"]
    circuit = _circuit(n)
    with pytest.raises(ResourceError):
        numpy.run(circuit, shots=4)  # the capabilities alone would have let it in
    with pytest.raises(ResourceError, match="would refuse this circuit"):
        select_backend(
            BackendRequirements.from_circuit(circuit),
            plugins=plugins,
            options=lambda _: {"max_memory_bytes": budget},
            circuit=circuit,
        )


def test_a_run_with_a_small_memory_budget_picks_a_backend_that_runs_it() -> None:
    config = config_from_mapping(
        {
            "distributed": {"num_nodes": 2, "qubits_per_node": 2, "network_topology": "line"},
            "memory": {"max_memory_bytes": 2**16},
            "acceleration": {"use_gpu": False},
        }
    )
    circuit = QuantumCircuit(4)
    circuit.h(0)
    for q in range(3):
        circuit.cx(q, q + 1)
    with qdframe.DistributedSystem(config) as system:
        result = system.run(circuit, shots=50, seed=2)
    assert set(result.counts) == {"0000", "1111"}
    # The HAL judged the backend under the run's budget, not the host's memory.
    limited = qdframe.get_backend(result.backend, max_memory_bytes=2**16)
    limit = limited.capabilities.max_qubits["complex128"]
    assert f"(up to {limit})" in result.metrics["backend_reason"]
