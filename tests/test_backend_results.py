"""Backend.run has one return type: BackendResults, for one circuit as for many."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.backend import BackendResult, BackendResults, single_result


def _bell(measure: bool) -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2 if measure else 0)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure([0, 1], [0, 1])
    return circuit


@pytest.mark.parametrize("name", ["numpy", "aer"])
def test_one_circuit_and_a_sequence_return_the_same_type(name: str) -> None:
    backend = qd.get_backend(name)
    alone = backend.run(_bell(True), shots=100, seed=3)
    batch = backend.run([_bell(True), _bell(False)], shots=100, seed=3)
    empty = backend.run([], shots=100, seed=3)
    assert type(alone) is type(batch) is type(empty) is BackendResults
    assert (len(alone), len(batch), len(empty)) == (1, 2, 0)
    assert alone.counts == batch[0].counts
    assert set(batch[1].counts) == {""}


def test_a_single_result_reads_directly() -> None:
    results = qd.get_backend("numpy").run(_bell(False), shots=0)
    assert results.statevector is not None and results.statevector.shape == (4,)
    assert results.metadata is results.single().metadata
    assert single_result(results) is results[0]


def test_a_batch_refuses_to_be_read_as_one_result() -> None:
    results = qd.get_backend("numpy").run([_bell(True), _bell(True)], shots=10, seed=1)
    with pytest.raises(ValueError, match=r"holds 2 results.*index it"):
        _ = results.counts
    with pytest.raises(ValueError, match="holds 0 results"):
        BackendResults().single()
    with pytest.raises(ValueError, match="holds 2 results"):
        single_result(results)


def test_only_backend_results_are_held() -> None:
    with pytest.raises(TypeError, match="item 1 is dict"):
        BackendResults([BackendResult(), {"0": 1}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="expected BackendResults, got list"):
        single_result([BackendResult()])  # type: ignore[arg-type]


def test_sequence_behaviour() -> None:
    first, second = BackendResult(counts={"0": 1}), BackendResult(counts={"1": 1})
    results = BackendResults([first, second])
    assert list(results) == [first, second]
    assert results[1:] == BackendResults([second])
    assert results != BackendResults([first])
    assert results[-1] is second
