"""qiskit-addon-cutting runs its sub-experiments through qdframe's Sampler."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import PauliList, SparsePauliOp, Statevector

import qdframe as qd
from qdframe.qiskit import Sampler

cutting = pytest.importorskip("qiskit_addon_cutting")


def test_cut_circuit_reconstructs_through_the_sampler() -> None:
    qc = QuantumCircuit(4)
    qc.h(range(4))
    qc.rzz(0.7, 0, 1)
    qc.rzz(0.4, 1, 2)  # the gate between the two halves is cut
    qc.rzz(0.9, 2, 3)
    qc.ry(0.3, range(4))
    observables = PauliList(["ZZII", "IZZI", "XIIX"])
    partitioned = cutting.partition_problem(
        circuit=qc, partition_labels="AABB", observables=observables
    )
    experiments, coefficients = cutting.generate_cutting_experiments(
        circuits=partitioned.subcircuits,
        observables=partitioned.subobservables,
        num_samples=np.inf,
    )
    shots = 4000
    # Each half runs distributed over two single-qubit nodes.
    network = {"distributed": {"num_nodes": 2, "qubits_per_node": 1, "network_topology": "ring"}}
    with Sampler(qd.SystemConfig.model_validate(network), seed=3) as sampler:
        results = {
            label: sampler.run(circuits, shots=shots).result()
            for label, circuits in experiments.items()
        }
    estimates = cutting.reconstruct_expectation_values(
        results, coefficients, partitioned.subobservables
    )
    exact = [Statevector(qc).expectation_value(SparsePauliOp(p)).real for p in observables]
    # Every term is a product of two independent +-1 averages (variance <= 2 / shots),
    # weighted by its coefficient: std <= sqrt(2 * sum c**2 / shots).
    weights = np.array([c for c, _ in coefficients])
    std = np.sqrt(2 * np.sum(weights**2) / shots)
    assert np.all(np.abs(np.array(estimates) - np.array(exact)) < 5 * std), (estimates, exact)
    # The check is sharp enough to see a sampler that returned wrong bits.
    assert 5 * std < 0.2
