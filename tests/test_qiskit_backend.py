"""qdframe.qiskit.DistributedBackend: a BackendV2 for transpile, run and the Backend primitives."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2, StatevectorEstimator
from qiskit.providers import BackendV2, JobStatus
from qiskit.quantum_info import SparsePauliOp

import qdframe as qd
from qdframe.qiskit import DistributedBackend

NETWORK = {"distributed": {"num_nodes": 3, "qubits_per_node": 2, "network_topology": "ring"}}


@pytest.fixture(scope="module")
def backend() -> DistributedBackend:
    return DistributedBackend(qd.SystemConfig.model_validate(NETWORK), seed=3)


def _ghz(n: int, measure: bool = True) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    if measure:
        qc.measure_all()
    return qc


def test_target_covers_the_network_data_qubits(backend: DistributedBackend) -> None:
    assert isinstance(backend, BackendV2)
    assert backend.num_qubits == 6  # 3 nodes x 2 data qubits
    names = set(backend.operation_names)
    assert {"cx", "h", "rz", "u", "measure", "reset"} <= names
    assert "epr" not in names
    # The numpy simulator runs classical conditions and planning keeps them.
    assert "if_else" in names
    # Any pair of qubits, also across nodes: the network carries remote gates.
    assert backend.target.instruction_supported("cx", (0, 5))


def test_transpile_and_run_give_counts(backend: DistributedBackend) -> None:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure(range(3), range(3))
    compiled = transpile(qc, backend, seed_transpiler=1)
    job = backend.run(compiled, shots=400)
    assert job.status() is JobStatus.DONE
    counts = job.result().get_counts()
    assert sum(counts.values()) == 400
    assert set(counts) == {"000", "111"}
    header = job.result().results[0].header
    assert header["qdframe"]["ebits"] >= 0


def test_several_circuits_with_registers_and_memory(backend: DistributedBackend) -> None:
    q = QuantumRegister(2)
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(1, "b")
    first = QuantumCircuit(q, a, b)
    first.x(1)
    first.measure(0, a[0])
    first.measure(1, b[0])
    second = _ghz(2)
    result = backend.run([first, second], shots=50, memory=True).result()
    assert result.get_counts(0) == {"1 0": 50}
    assert set(result.get_counts(1)) <= {"00", "11"}
    memory = result.get_memory(1)
    assert len(memory) == 50 and set(memory) <= {"00", "11"}


def test_idle_ancillas_are_dropped_before_running(backend: DistributedBackend) -> None:
    """A circuit padded to the target's width still runs on its own qubits only."""
    qc = QuantumCircuit(6, 2)
    qc.x(4)
    qc.measure(4, 1)
    assert backend.run(qc, shots=10).result().get_counts() == {"10": 10}


def test_seed_makes_runs_reproducible(backend: DistributedBackend) -> None:
    qc = transpile(_ghz(3), backend, seed_transpiler=1)
    a = backend.run(qc, shots=64, seed_simulator=5, memory=True).result().get_memory()
    b = backend.run(qc, shots=64, seed_simulator=5, memory=True).result().get_memory()
    c = backend.run(qc, shots=64, seed_simulator=6, memory=True).result().get_memory()
    assert a == b
    assert a != c


def test_bad_run_options_are_refused(backend: DistributedBackend) -> None:
    with pytest.raises(ValueError, match="unknown run option"):
        backend.run(_ghz(2), shotz=10)
    with pytest.raises(ValueError, match="shots: must be an integer from 1"):
        backend.run(_ghz(2), shots=0)
    with pytest.raises(TypeError, match="QuantumCircuits"):
        backend.run(["not a circuit"])  # type: ignore[list-item]


def test_backend_sampler_v2_runs_on_it(backend: DistributedBackend) -> None:
    sampler = BackendSamplerV2(backend=backend, options={"seed_simulator": 2})
    qc = transpile(_ghz(3), backend, seed_transpiler=1)
    result = sampler.run([qc], shots=200).result()[0]
    counts = result.data.meas.get_counts()
    assert sum(counts.values()) == 200
    assert set(counts) == {"000", "111"}


def test_backend_estimator_v2_runs_on_it(backend: DistributedBackend) -> None:
    estimator = BackendEstimatorV2(backend=backend, options={"seed_simulator": 4})
    bare = _ghz(3, measure=False)
    compiled = transpile(bare, backend, seed_transpiler=1)
    observables = [
        SparsePauliOp(label).apply_layout(compiled.layout) for label in ("XXX", "ZZI", "ZZZ")
    ]
    ours = estimator.run([(compiled, observables)], precision=0.05).result()[0]
    ref = StatevectorEstimator().run([(bare, ["XXX", "ZZI", "ZZZ"])]).result()[0]
    stds = np.maximum(ours.data.stds, 1e-3)
    assert np.all(np.abs(ours.data.evs - ref.data.evs) / stds < 5)


def test_control_flow_runs_as_the_original_does(backend: DistributedBackend) -> None:
    # Feed-forward across nodes: the bit measured on qubit 0 decides an X on
    # qubit 5. Exactly the outcomes 00 and 11 are possible, about half each.
    qc = QuantumCircuit(6, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(5)
    qc.measure(5, 1)
    counts = backend.run(transpile(qc, backend), shots=400, seed_simulator=3).result().get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 400
    assert 150 < counts["11"] < 250
