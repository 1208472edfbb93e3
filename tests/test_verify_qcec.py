"""The ``qcec`` verification method (MQT QCEC, optional extra ``verify``)."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction

from qdframe.allocation import Allocation
from qdframe.distribute import DistributedProgram, compile_distributed, plan_from_allocation
from qdframe.errors import CircuitError, ConfigError
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology
from qdframe.verification import verify


def program_for(circuit: QuantumCircuit, nodes: int, allocation: Allocation) -> DistributedProgram:
    data = -(-circuit.num_qubits // nodes)
    edges = [(i, (i + 1) % nodes) for i in range(nodes)] if nodes > 2 else [(0, 1)]
    plan = plan_from_allocation(
        circuit, Topology("ring", nodes, edges, data_qubits=data), allocation
    )
    return compile_distributed(circuit, plan)


def angle_moved(circuit: QuantumCircuit) -> QuantumCircuit:
    changed = circuit.copy_empty_like()
    done = False
    for instruction in circuit.data:
        if not done and instruction.operation.name == "cp":
            op = instruction.operation.copy()
            op.params = [float(op.params[0]) + 0.7]
            instruction = CircuitInstruction(op, instruction.qubits, instruction.clbits)
            done = True
        changed.append(instruction)
    return changed


def test_qcec_proves_a_distributed_qft_and_refutes_a_mutant() -> None:
    pytest.importorskip("mqt.qcec")
    circuit = qft_no_swaps(6)
    program = program_for(circuit, 2, Allocation.static([0, 0, 0, 1, 1, 1]))
    result = verify(circuit, program, method="qcec")
    assert result.verified and result.method == "qcec"
    assert result.inputs == "all" and result.scope == "all input states"
    assert result.details["equivalence"].startswith("equivalent")
    # Every measurement, correction and reset became a gate on extra qubits.
    assert result.details["deferred_qubits"] > program.to_circuit().num_qubits
    refused = verify(angle_moved(circuit), program, method="qcec")
    assert not refused.verified and refused.details["equivalence"] == "not_equivalent"
    assert refused.distance > refused.bound


def test_qcec_checks_teleported_qubits_and_final_measurements() -> None:
    pytest.importorskip("mqt.qcec")
    circuit = qft_no_swaps(4)
    circuit.measure_all()
    sliced = Allocation.sliced([[0, 0, 1, 1], [1, 0, 0, 1]], [0, 3])
    program = program_for(circuit, 2, sliced)
    assert program.num_teleportations > 0
    assert verify(circuit, program, method="qcec").verified
    phased = qft_no_swaps(4)
    phased.z(2)
    phased.measure_all()
    # A Z before a final measurement leaves the counts alone but is another channel.
    assert not verify(phased, program, method="qcec").verified


def test_qcec_refuses_originals_that_measure_midway() -> None:
    pytest.importorskip("mqt.qcec")
    circuit = QuantumCircuit(2, 1)
    circuit.h(0)
    circuit.measure(0, 0)
    circuit.cx(0, 1)
    program = program_for(circuit, 2, Allocation.static([0, 1]))
    with pytest.raises(CircuitError, match="without mid-circuit measurements"):
        verify(circuit, program, method="qcec")


def test_qcec_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import qdframe.verification as verification

    monkeypatch.setattr(verification, "_qcec_available", lambda: False)
    circuit = qft_no_swaps(4)
    program = program_for(circuit, 2, Allocation.static([0, 0, 1, 1]))
    with pytest.raises(ConfigError, match=r"pip install 'qdframe\[verify\]'"):
        verify(circuit, program, method="qcec")
    # The other methods do not need it.
    assert verify(circuit, program).verified


def test_qcec_timeout_must_be_positive() -> None:
    circuit = qft_no_swaps(4)
    program = program_for(circuit, 2, Allocation.static([0, 0, 1, 1]))
    with pytest.raises(ConfigError, match="qcec_timeout_s"):
        verify(circuit, program, method="qcec", qcec_timeout_s=0)
