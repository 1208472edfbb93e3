"""Hybrid mode: the cost-based choice of cuts, the lowered program and its execution."""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import CPhaseGate, CZGate, RZZGate
from qiskit.quantum_info import SparsePauliOp, Statevector

from qdframe.allocation import Allocation
from qdframe.config import SystemConfig
from qdframe.distribute import (
    HybridWeights,
    choose_cuts,
    compile_distributed,
    count_epr_pairs,
    plan_from_allocation,
)
from qdframe.distribute.hybrid import diagonal_gate_gamma
from qdframe.errors import ConfigError
from qdframe.plugins import load_plugins
from qdframe.topology import Topology
from qdframe.verification import verify

TWO_NODES = Topology("line", 2, [(0, 1)], data_qubits=2)


def hybrid_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.ry(0.3 * (q + 1), q)
    circuit.cp(0.2, 0, 2)  # a small phase: cheap to cut
    circuit.cp(1.9, 1, 3)  # a large phase: cheaper as an EPR pair
    circuit.ry(0.4, 2)
    circuit.cp(0.15, 1, 2)
    return circuit


@pytest.mark.parametrize("theta", [0.1, 0.7, math.pi / 2, 2.5, -1.2])
def test_gamma_of_a_controlled_phase(theta: float) -> None:
    assert diagonal_gate_gamma(CPhaseGate(theta)) == pytest.approx(1 + 2 * abs(math.sin(theta / 2)))


def test_gamma_of_other_diagonal_gates() -> None:
    assert diagonal_gate_gamma(CZGate()) == pytest.approx(3.0)
    # RZZ(phi) has entangling phase 2 phi: gamma = 1 + 2 |sin(phi)|.
    assert diagonal_gate_gamma(RZZGate(0.4)) == pytest.approx(1 + 2 * math.sin(0.4))


def test_the_weighted_cost_picks_the_cheap_bursts() -> None:
    circuit = hybrid_circuit()
    plan = plan_from_allocation(circuit, TWO_NODES, Allocation.static([0, 0, 1, 1]))
    choice = choose_cuts(plan.circuit, plan.problem, plan.cost, HybridWeights())
    cut_gates = {
        int(plan.cost.bursts.instructions[j])
        for b in choice.cut_bursts
        for j in range(int(plan.cost.bursts.gate_ptr[b]), int(plan.cost.bursts.gate_ptr[b + 1]))
    }
    angles = {float(plan.circuit.data[i].operation.params[0]) for i in cut_gates}
    assert angles and max(angles) < 1.0
    gammas = [1 + 2 * abs(math.sin(a / 2)) for a in angles]
    assert choice.sampling_overhead == pytest.approx(math.prod(g * g for g in gammas))
    # Pricing samples high cuts nothing; pricing ebits high cuts everything cuttable.
    assert not choose_cuts(plan.circuit, plan.problem, plan.cost, HybridWeights(1, 100)).cut_bursts
    everything = choose_cuts(plan.circuit, plan.problem, plan.cost, HybridWeights(100, 1, 1e9))
    assert everything.ebits_saved == plan.cost.ebits


def test_the_overhead_budget_caps_the_cuts() -> None:
    circuit = hybrid_circuit()
    plan = plan_from_allocation(circuit, TWO_NODES, Allocation.static([0, 0, 1, 1]))
    capped = choose_cuts(plan.circuit, plan.problem, plan.cost, HybridWeights(100, 1, 1.5))
    assert capped.sampling_overhead <= 1.5


def test_hybrid_program_counts_and_still_verifies() -> None:
    circuit = hybrid_circuit()
    plan = plan_from_allocation(circuit, TWO_NODES, Allocation.static([0, 0, 1, 1]))
    config = SystemConfig.model_validate({"distributed": {"communication_mode": "hybrid"}})
    program = compile_distributed(circuit, plan, config)
    assert program.num_cuts >= 1 and program.sampling_overhead > 1
    assert program.ebits == program.plan_ebits < plan.cost.ebits
    assert count_epr_pairs(program.to_circuit()) == program.ebits
    # Cut gates stay in the circuit as the original gates: the circuit is still exact.
    assert verify(circuit, program).verified


def test_classical_mode_has_no_epr_program() -> None:
    circuit = hybrid_circuit()
    plan = plan_from_allocation(circuit, TWO_NODES, Allocation.static([0, 0, 1, 1]))
    config = SystemConfig.model_validate({"distributed": {"communication_mode": "classical"}})
    with pytest.raises(Exception, match="run_mode"):
        compile_distributed(circuit, plan, config)


def test_hybrid_run_is_within_three_standard_errors() -> None:
    cutting = pytest.importorskip("qdframe_cutting")
    circuit = hybrid_circuit()
    plan = plan_from_allocation(circuit, TWO_NODES, Allocation.static([0, 0, 1, 1]))
    observables = [SparsePauliOp("ZZZZ"), SparsePauliOp("XIXI")]
    result = cutting.run_hybrid(
        circuit, plan, observables, shots=1000, seed=2, plugins=load_plugins()
    )
    exact = [Statevector(circuit).expectation_value(o).real for o in observables]
    for value, error, truth in zip(
        result.expectation_values, result.standard_errors, exact, strict=True
    ):
        assert abs(value - truth) <= 3 * error
    assert result.details["ebits_saved_by_cuts"] >= 1
    assert result.details["ebits_per_subexperiment"]["max"] < plan.cost.ebits


def test_hybrid_run_needs_a_static_allocation() -> None:
    cutting = pytest.importorskip("qdframe_cutting")
    circuit = hybrid_circuit()
    plan = plan_from_allocation(
        circuit, TWO_NODES, Allocation.sliced([[0, 0, 1, 1], [0, 1, 0, 1]], [0, 6])
    )
    with pytest.raises(ConfigError, match="static allocation"):
        cutting.run_hybrid(circuit, plan, "ZZZZ", shots=10, plugins=load_plugins())


def test_modes_are_looked_up_by_name() -> None:
    from qdframe.distribute.modes import CommunicationMode, run_mode
    from qdframe.errors import RegistryError

    with pytest.raises(RegistryError, match="telepathy"):
        run_mode(
            "telepathy", hybrid_circuit(), None, "ZZZZ", SystemConfig(), plugins=load_plugins()
        )
    plugin = pytest.importorskip("qdframe_cutting.plugin")
    assert isinstance(plugin.ClassicalMode(), CommunicationMode)
    assert isinstance(plugin.HybridMode(), CommunicationMode)
