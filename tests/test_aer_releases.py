"""How the Aer single simulation releases protocol qubits, and its wire reuse."""

from __future__ import annotations

import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer.deferred import DeferredForm, resets_are_pure, with_saves
from qdframe_aer.wires import LogicalOp, narrow
from qiskit import QuantumCircuit
from qiskit.circuit.library import CXGate, HGate, Reset
from qiskit_aer import AerSimulator


def _checked(prepared: QuantumCircuit, release: str) -> bool:
    form = with_saves(DeferredForm(prepared, (), ()), prepared, release)
    data = AerSimulator(method="statevector").run(form.circuit, shots=1, seed_simulator=3)
    return resets_are_pure(form, data.result().results[0].data.to_dict())


def _before_reset(*gates: str) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    for gate in gates:
        if gate == "cx":
            circuit.cx(0, 1)
        else:
            getattr(circuit, gate)(0)
    circuit.reset(0)
    return circuit


def test_a_qubit_in_plus_passes_the_hadamard_release() -> None:
    assert _checked(_before_reset("h"), "hadamard")


def test_another_product_state_needs_the_reset_release() -> None:
    circuit = _before_reset("x")
    assert not _checked(circuit, "hadamard")
    assert _checked(circuit, "reset")


def test_an_entangled_qubit_fails_both_releases() -> None:
    circuit = _before_reset("h", "cx")
    assert not _checked(circuit, "hadamard")
    assert not _checked(circuit, "reset")


def test_an_unknown_release_is_refused() -> None:
    with pytest.raises(ValueError, match="hadamard, reset"):
        with_saves(DeferredForm(QuantumCircuit(1), (), ()), QuantumCircuit(1), "drop")


def test_open_protocols_finish_before_new_wires_are_taken() -> None:
    # Two independent "protocols" on qubits 1 and 2 (each used, then reset),
    # interleaved in program order: in that order they need 3 wires, run one
    # after the other they need 2.
    h, cx, reset = HGate(), CXGate(), Reset()
    ops = [
        LogicalOp(h, (1,)),
        LogicalOp(h, (2,)),
        LogicalOp(cx, (1, 0)),
        LogicalOp(reset, (1,)),
        LogicalOp(cx, (2, 0)),
        LogicalOp(reset, (2,)),
        LogicalOp(None, (0,), 0),
    ]
    circuit, terminal = narrow(ops, "two")
    assert circuit.num_qubits == 2
    assert [i.operation.name for i in circuit.data] == ["h", "cx", "reset", "h", "cx", "reset"]
    (wire, clbit) = terminal[0]
    assert clbit == 0 and wire == circuit.find_bit(circuit.data[1].qubits[1]).index
