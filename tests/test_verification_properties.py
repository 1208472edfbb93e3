"""Property tests: random circuits x topologies x allocators, correct programs and mutants.

Every program the planner and lowering produce must be accepted as equal to
its original on every input, and every single-gate mutant of the original
(a two-qubit gate deleted, an angle moved by 0.7, a single-qubit gate
replaced) must be rejected, by the exact and the randomised method alike.
Circuits are drawn from seeded generators, so a failure names its seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction
from qiskit.circuit.library import HGate, SXGate

from qdframe.allocation import Allocation
from qdframe.config import SystemConfig
from qdframe.distribute import DistributedProgram, compile_distributed
from qdframe.planning import make_plan
from qdframe.plugins import LoadedPlugins, default_plugins
from qdframe.verification import verify

NETWORKS = {"ring": (4, 2), "torus": (6, 1), "all_to_all": (4, 2)}
ALLOCATORS = ["auto", "greedy", "annealing", "temporal"]


@pytest.fixture(scope="module")
def plugins() -> LoadedPlugins:
    return default_plugins()


def random_circuit(seed: int, n: int = 5, gates: int = 14) -> QuantumCircuit:
    """Controlled phases, CX and arbitrary single-qubit gates on random qubits."""
    rng = np.random.default_rng(seed)
    circuit = QuantumCircuit(n, name=f"random{seed}")
    for _ in range(gates):
        kind = rng.choice(["cp", "cp", "cx", "u", "u"])
        a, b = (int(x) for x in rng.choice(n, size=2, replace=False))
        angle = float(rng.uniform(0.3, 2 * math.pi - 0.3))
        if kind == "cp":
            circuit.cp(angle, a, b)
        elif kind == "cx":
            circuit.cx(a, b)
        else:
            circuit.u(angle, float(rng.uniform(0, 6)), float(rng.uniform(0, 6)), a)
    return circuit


def plan_program(
    circuit: QuantumCircuit,
    topology: str,
    allocator: str,
    plugins: LoadedPlugins,
    allocation: Allocation | None = None,
) -> tuple[QuantumCircuit, DistributedProgram]:
    nodes, per_node = NETWORKS[topology]
    config = SystemConfig.model_validate(
        {
            "distributed": {
                "num_nodes": nodes,
                "qubits_per_node": per_node,
                "network_topology": topology,
                "allocator": allocator,
            }
        }
    )
    plan = make_plan(
        circuit, config, plugins=plugins, seed=1, time_budget_s=0.2, allocation=allocation
    )
    assert plan.circuit is not None
    return plan.circuit, compile_distributed(None, plan, config)


def _replaced(
    circuit: QuantumCircuit, index: int, item: CircuitInstruction | None
) -> QuantumCircuit:
    mutant = circuit.copy_empty_like()
    for i, instruction in enumerate(circuit.data):
        if i != index:
            mutant.append(instruction)
        elif item is not None:
            mutant.append(item)
    return mutant


def mutants(circuit: QuantumCircuit, seed: int) -> list[tuple[str, QuantumCircuit]]:
    """One mutant of each kind, at seeded positions."""
    rng = np.random.default_rng(seed)
    data = circuit.data
    two = [i for i, ins in enumerate(data) if ins.operation.num_qubits == 2]
    angled = [
        i
        for i, ins in enumerate(data)
        if ins.operation.params and ins.operation.name in ("cp", "u", "p", "rz", "rx", "ry")
    ]
    one = [i for i, ins in enumerate(data) if ins.operation.num_qubits == 1]
    out: list[tuple[str, QuantumCircuit]] = []
    if two:
        out.append(("deleted", _replaced(circuit, int(rng.choice(two)), None)))
    if angled:
        ins = data[int(index := rng.choice(angled))]
        op = ins.operation.copy()
        op.params = [float(op.params[0]) + 0.7, *op.params[1:]]
        out.append(("angle", _replaced(circuit, int(index), ins.replace(operation=op))))
    if one:
        ins = data[int(index := rng.choice(one))]
        other = HGate() if ins.operation.name == "sx" else SXGate()
        out.append(("one-qubit", _replaced(circuit, int(index), ins.replace(operation=other))))
    return out


def check(original: QuantumCircuit, program: DistributedProgram, seed: int, method: str) -> None:
    result = verify(original, program, method=method, seed=seed, inputs=4)
    assert result.verified, (seed, method, result)
    assert result.inputs == ("all" if method == "exact" else 4)
    kinds = mutants(original, seed)
    assert {kind for kind, _ in kinds} == {"deleted", "angle", "one-qubit"}
    for kind, mutant in kinds:
        refused = verify(mutant, program, method=method, seed=seed, inputs=4)
        assert not refused.verified, (seed, method, kind, refused)
        assert refused.distance > 100 * refused.bound, (seed, method, kind)


@pytest.mark.parametrize("allocator", ALLOCATORS)
@pytest.mark.parametrize("topology", sorted(NETWORKS))
def test_planned_programs_are_proved_and_their_mutants_refused(
    topology: str, allocator: str, plugins: LoadedPlugins
) -> None:
    seed = 11 * len(topology) + ALLOCATORS.index(allocator)
    original, program = plan_program(random_circuit(seed), topology, allocator, plugins)
    assert program.ebits > 0  # the check covers remote gates, not a local circuit
    check(original, program, seed, "exact")


@pytest.mark.parametrize("topology", sorted(NETWORKS))
def test_random_inputs_refuse_the_same_mutants(topology: str, plugins: LoadedPlugins) -> None:
    seed = 3 + len(topology)
    original, program = plan_program(random_circuit(seed), topology, "auto", plugins)
    check(original, program, seed, "random-inputs")


def test_teleported_qubits_and_routed_pairs_are_checked(plugins: LoadedPlugins) -> None:
    # A time-sliced allocation that moves qubits between the ring's far
    # nodes: teleportations, and EPR pairs routed by entanglement swaps.
    circuit = random_circuit(5, n=6, gates=18)
    first = [0, 0, 1, 1, 2, 2]
    second = [2, 1, 0, 1, 2, 0]
    sliced = Allocation.sliced([first, second], [0, 6])
    original, program = plan_program(circuit, "ring", "auto", plugins, allocation=sliced)
    assert program.num_teleportations > 0 and program.swaps > 0
    check(original, program, 5, "exact")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 32))
def test_many_more_random_circuits(seed: int, plugins: LoadedPlugins) -> None:
    topology = sorted(NETWORKS)[seed % 3]
    allocator = ALLOCATORS[seed % 4]
    circuit = random_circuit(seed, n=6, gates=24)
    original, program = plan_program(circuit, topology, allocator, plugins)
    check(original, program, seed, "exact")
    check(original, program, seed, "random-inputs")
