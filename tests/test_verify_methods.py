"""qdframe.verification: accepts correct distributed circuits and catches wrong ones."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction

from qdframe.allocation import Allocation
from qdframe.distribute import DistributedProgram, compile_distributed, plan_from_allocation
from qdframe.errors import ConfigError, DistributionError, ResourceError
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology
from qdframe.verification import false_accept_bound, verify


def ring(k: int, data: int) -> Topology:
    return Topology("ring", k, [(i, (i + 1) % k) for i in range(k)], data_qubits=data)


def small_program(final_h: bool = True) -> tuple[QuantumCircuit, DistributedProgram]:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.ry(0.7, 1)
    circuit.cx(0, 2)
    circuit.cp(0.9, 1, 2)
    if final_h:
        circuit.h(2)
    plan = plan_from_allocation(circuit, ring(3, 1), Allocation.static([0, 1, 2]))
    return circuit, compile_distributed(circuit, plan)


def without_first(circuit: QuantumCircuit, name: str) -> QuantumCircuit:
    """A copy of ``circuit`` with its first ``name`` instruction dropped."""
    broken = circuit.copy_empty_like()
    dropped = False
    for instruction in circuit.data:
        if not dropped and instruction.operation.name == name:
            dropped = True
            continue
        broken.append(instruction)
    assert dropped
    return broken


def test_qft8_on_a_ring_of_four_verifies_exactly() -> None:
    circuit = qft_no_swaps(8)
    plan = plan_from_allocation(circuit, ring(4, 2), Allocation.static([0, 0, 1, 1, 2, 2, 3, 3]))
    program = compile_distributed(circuit, plan)
    result = verify(circuit, program)
    assert result.verified and result.method == "exact-state"
    assert "every input state" in result.proved
    assert result.details["histories"] == 1
    assert result.distance <= result.bound
    # The circuit alone carries its layout.
    assert verify(circuit, program.to_circuit()).verified


def test_a_missing_correction_is_caught() -> None:
    circuit, program = small_program()
    broken = without_first(program.to_circuit(), "if_else")
    result = verify(circuit, broken)
    assert not result.verified
    assert result.distance > 0.1


def test_a_wrong_gate_angle_is_caught() -> None:
    circuit, program = small_program()
    built = program.to_circuit()
    broken = built.copy_empty_like()
    for instruction in built.data:
        if instruction.operation.name == "cp":
            op = instruction.operation.copy()
            op.params = [op.params[0] + 0.3]
            instruction = CircuitInstruction(op, instruction.qubits, instruction.clbits)
        broken.append(instruction)
    assert not verify(circuit, broken).verified


def test_mid_circuit_measurements_compare_joint_distributions() -> None:
    circuit = QuantumCircuit(3, 2)
    circuit.h(0)
    circuit.cp(1.1, 0, 2)
    circuit.h(2)
    circuit.measure(2, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.ry(0.4, 2)
    circuit.cp(0.4, 2, 1)
    circuit.h(1)
    circuit.measure(1, 1)
    plan = plan_from_allocation(circuit, ring(3, 1), Allocation.static([0, 1, 2]), normalize=False)
    program = compile_distributed(circuit, plan)
    result = verify(circuit, program)
    assert result.verified and result.method == "exact-distribution"
    # Measuring the wrong data qubit is caught.
    wrong = QuantumCircuit(3, 2)
    wrong.h(0)
    wrong.cp(1.1, 0, 2)
    wrong.h(2)
    wrong.measure(0, 0)
    assert not verify(wrong, program).verified


def test_sampled_verification_with_the_numpy_backend() -> None:
    # Without the final Hadamard, qubits 0 and 2 are correlated in the Z basis.
    circuit, program = small_program(final_h=False)
    result = verify(circuit, program, method="sampled", shots=3000, seed=11)
    assert result.verified and result.method == "sampled"
    assert result.details["backend"] == "numpy" and result.details["shots"] == 3000
    assert 0 < result.bound < 0.5
    # Dropping the remote CP(pi) of the CX changes the distribution a lot.
    broken = without_first(program.to_circuit(), "cp")
    refused = verify(circuit, broken, method="sampled", shots=3000, seed=11)
    assert not refused.verified and refused.distance > refused.bound


def test_same_seed_same_sampled_distance() -> None:
    circuit, program = small_program()
    first = verify(circuit, program, method="sampled", shots=500, seed=3)
    second = verify(circuit, program, method="sampled", shots=500, seed=3)
    assert first.distance == second.distance


def test_bad_requests_are_refused_clearly() -> None:
    circuit, program = small_program()
    with pytest.raises(ConfigError, match="allowed: auto"):
        verify(circuit, program, method="approximate")
    with pytest.raises(DistributionError, match="carries no layout"):
        verify(circuit, QuantumCircuit(3))
    with pytest.raises(DistributionError, match="has 4 qubits"):
        verify(QuantumCircuit(4), program)
    with pytest.raises(DistributionError, match="cannot verify"):
        verify(circuit, "not a program")  # type: ignore[arg-type]


def test_a_qft_with_a_wrong_angle_is_caught_although_zero_hides_it() -> None:
    # QFT applied to |0...0> is indifferent to every CP angle: only a check on
    # every input can tell these apart.
    circuit = qft_no_swaps(6)
    plan = plan_from_allocation(circuit, ring(3, 2), Allocation.static([0, 0, 1, 1, 2, 2]))
    program = compile_distributed(circuit, plan)
    changed = circuit.copy_empty_like()
    done = False
    for instruction in circuit.data:
        if not done and instruction.operation.name == "cp":
            op = instruction.operation.copy()
            op.params = [float(op.params[0]) + 0.7]
            instruction = CircuitInstruction(op, instruction.qubits, instruction.clbits)
            done = True
        changed.append(instruction)
    for method in ("exact", "random-inputs"):
        result = verify(changed, program, method=method)
        assert not result.verified, method
        assert result.distance > 0.05
        assert verify(circuit, program, method=method).verified


def test_random_inputs_state_their_guarantee() -> None:
    circuit, program = small_program()
    result = verify(circuit, program, method="random-inputs", inputs=5, seed=9)
    assert result.verified and result.method == "random-inputs"
    assert result.details["inputs"] == 5 and "5 Haar-random" in result.proved
    bound = result.details["false_accept_bound"]
    assert bound == false_accept_bound(5, 0.01, result.bound, 8)
    assert 0 < bound < 1
    broken = without_first(program.to_circuit(), "if_else")
    assert not verify(circuit, broken, method="random-inputs", inputs=2).verified


def test_false_accept_bound_shrinks_with_inputs_and_dimension() -> None:
    one = false_accept_bound(1, 0.1, 1e-6)
    assert 0 < one < 1
    assert false_accept_bound(4, 0.1, 1e-6) == pytest.approx(one**4)
    # The Chebyshev bound over a large input space is far smaller.
    assert false_accept_bound(1, 0.1, 1e-6, 1 << 12) < one / 10
    with pytest.raises(ConfigError, match="tau < epsilon / 2"):
        false_accept_bound(1, 0.1, 0.1)


def test_limits_are_refused_or_fall_back() -> None:
    circuit, program = small_program()
    with pytest.raises(ResourceError, match="limit 5"):
        verify(circuit, program, method="exact", max_exact_qubits=5)
    # auto moves on to the randomised method and says why.
    result = verify(circuit, program, max_exact_qubits=7)
    assert result.method == "random-inputs" and result.verified
    result = verify(circuit, program, max_exact_qubits=2, shots=500)
    assert result.method == "sampled" and "skipped" in result.details


def test_final_measurements_are_compared_as_the_state_before_them() -> None:
    circuit, _ = small_program()
    measured = circuit.copy()
    measured.measure_all()
    plan = plan_from_allocation(measured, ring(3, 1), Allocation.static([0, 1, 2]))
    distributed = compile_distributed(measured, plan)
    result = verify(measured, distributed)
    assert result.verified and result.method == "exact-state"
    assert result.details["final_measurements"] == "compared as the state before them"
    # A phase before the measurement is a different channel before it: rejected.
    phased = circuit.copy()
    phased.z(0)
    phased.measure_all()
    assert not verify(phased, distributed).verified
