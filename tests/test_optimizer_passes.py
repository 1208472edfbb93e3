"""Built-in optimizers: equivalent output, real savings, honest reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from qdframe.allocation import Allocation, AllocationProblem, GateArray
from qdframe.config import SystemConfig
from qdframe.context import RunContext
from qdframe.cost import evaluate
from qdframe.distribute import RouteTable, compile_distributed, lower, plan_from_allocation
from qdframe.errors import ConfigError
from qdframe.plugins import default_plugins
from qdframe.topology import LinkSpec, Topology
from qdframe.verification import verify

optimizers = pytest.importorskip("qdframe_optimizers")


@st.composite
def random_circuits(draw: st.DrawFn) -> QuantumCircuit:
    n = draw(st.integers(2, 4))
    circuit = QuantumCircuit(n)
    angle = st.floats(-math.pi, math.pi, allow_nan=False)
    for _ in range(draw(st.integers(1, 20))):
        kind = draw(st.sampled_from(["cp", "cx", "x", "u", "rz", "h", "swap"]))
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(0, n - 1).filter(lambda x, a=a: x != a))
        if kind == "cp":
            circuit.cp(draw(angle), a, b)
        elif kind == "cx":
            circuit.cx(a, b)
        elif kind == "swap":
            circuit.swap(a, b)
        elif kind == "u":
            circuit.u(draw(angle), draw(angle), draw(angle), a)
        else:
            getattr(circuit, kind)(*([draw(angle)] if kind == "rz" else []), a)
    return circuit


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(random_circuits(), st.sampled_from(["transpile", "burst_merge"]))
def test_circuit_passes_keep_the_unitary(circuit: QuantumCircuit, name: str) -> None:
    optimizer = default_plugins().registries.optimizers.get(name)()
    out, report = optimizer.optimize(circuit, RunContext("t", SystemConfig()))
    # Levels 2 and 3 drop rotations within ~1e-6 of the identity (Qiskit's
    # identity-equivalent removal), hence the tolerance.
    assert Operator(out).equiv(Operator(circuit), atol=1e-5)
    assert report.name == name
    figures = optimizers.circuit_figures(out)
    assert report.after == figures
    assert all(report.saved[k] == report.before[k] - report.after[k] for k in report.saved)
    assert report.saved["two_qubit_gates"] >= 0 or name == "burst_merge"


def test_burst_merge_removes_an_x_that_split_a_burst() -> None:
    # Qubit 0 talks to node 1 twice, with an X in between: two bursts, two ebits.
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cp(0.4, 0, 1)
    circuit.x(0)
    circuit.cp(0.9, 0, 2)
    circuit.h(0)
    topology = Topology("line", 2, [(0, 1)], data_qubits=2)
    allocation = Allocation.static([0, 1, 1])
    before = plan_from_allocation(circuit, topology, allocation)
    merged, report = optimizers.BurstMergeOptimizer().optimize(circuit)
    after = plan_from_allocation(merged, topology, allocation)
    assert before.cost.ebits == 2 and after.cost.ebits == 1
    assert report.saved["segment_breaks"] == 1
    # The lowered merged circuit still computes the original.
    assert verify(circuit, compile_distributed(merged, after)).verified


def test_transpile_levels_and_errors() -> None:
    circuit = QuantumCircuit(3, 1)
    circuit.h(0)
    circuit.h(0)  # cancels at level >= 1
    circuit.swap(0, 1)
    circuit.cx(1, 2)
    circuit.measure(2, 0)
    out, report = optimizers.TranspileOptimizer(3).optimize(circuit)
    assert report.details["level"] == 3 and report.saved["gates"] > 0
    assert [reg.name for reg in out.cregs] == ["c"]
    _, report0 = optimizers.TranspileOptimizer("none").optimize(circuit)
    assert report0.details["level"] == 0 and report0.saved["two_qubit_gates"] == 0
    context = RunContext(
        "t", SystemConfig.model_validate({"acceleration": {"optimization_level": "basic"}})
    )
    assert optimizers.TranspileOptimizer().optimize(circuit, context)[1].details["level"] == 1
    with pytest.raises(ConfigError, match="allowed"):
        optimizers.TranspileOptimizer("extreme")
    with pytest.raises(ConfigError, match="0, 1, 2, 3"):
        optimizers.TranspileOptimizer(7)


def _ring(bad: tuple[int, int]) -> Topology:
    links = {bad: LinkSpec(epr_fidelity=0.8)}
    return Topology(
        "ring", 4, [(0, 1), (1, 2), (2, 3), (3, 0)], data_qubits=1, link_overrides=links
    )


def test_route_choice_avoids_a_poor_link() -> None:
    topology = _ring((1, 2))
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cp(0.7, 0, 1)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 2]))
    table = RouteTable.for_plan(plan)
    assert table.demands == {(0, 2): 1}
    assert table.path(0, 2) == (0, 1, 2)  # fewest hops, first found
    better, report = optimizers.RouteChoiceOptimizer().optimize(table)
    assert better.path(0, 2) == (0, 3, 2)
    assert report.details["routes_changed"] == 1
    assert report.saved["mean_pair_infidelity"] > 0.05
    assert report.saved["ebits"] == 0
    program = compile_distributed(circuit, plan, routes=better)
    assert program.ebits == plan.cost.ebits and program.route(0) == (0, 3, 2)
    assert verify(circuit, program).verified
    assert table.path(0, 2) == (0, 1, 2)  # the input table is left alone


def test_route_choice_on_identical_links_changes_nothing() -> None:
    topology = Topology("ring", 4, [(0, 1), (1, 2), (2, 3), (3, 0)], data_qubits=1)
    _, report = optimizers.RouteChoiceOptimizer().optimize(RouteTable(topology))
    assert report.details["routes_changed"] == 0
    assert report.saved == {"mean_pair_infidelity": 0, "mean_pair_latency_us": 0, "ebits": 0}


def test_longer_routes_are_allowed_only_when_asked_and_cost_ebits() -> None:
    # Line 0-1 is poor; the detour 0-2-3-1 is three good links.
    links = {(0, 1): LinkSpec(epr_fidelity=0.5)}
    topology = Topology(
        "custom", 4, [(0, 1), (0, 2), (2, 3), (3, 1)], data_qubits=1, link_overrides=links
    )
    table = RouteTable(topology)
    table.demands = {(0, 1): 3}
    same, _ = optimizers.RouteChoiceOptimizer().optimize(table)
    assert same.path(0, 1) == (0, 1)
    longer, report = optimizers.RouteChoiceOptimizer(max_extra_hops=2).optimize(table)
    assert longer.path(0, 1) == (0, 2, 3, 1)
    assert report.saved["ebits"] == -6  # three pairs, two extra hops each
    circuit = QuantumCircuit(2)
    circuit.cp(0.3, 0, 1)
    problem = AllocationProblem(GateArray.from_circuit(circuit), topology)
    program = lower(problem, Allocation.static([0, 1]), circuit=circuit, routes=longer)
    assert program.route_extra_ebits == 2
    assert verify(circuit, program).verified
    with pytest.raises(ConfigError, match="RouteTable"):
        optimizers.RouteChoiceOptimizer().optimize(topology)  # type: ignore[arg-type]


def test_registered_optimizers_follow_the_protocol() -> None:
    from qdframe.protocols import Optimizer

    registry = default_plugins().registries.optimizers
    for name in optimizers.DEFAULT_ORDER:
        optimizer = registry.get(name)()
        assert isinstance(optimizer, Optimizer)
        assert optimizer.name == name
    assert registry.get("route_choice")().stage == "lower"
    assert np.all([registry.get(n)().stage == "intake" for n in ("transpile", "burst_merge")])


def test_evaluate_agrees_with_plan_after_merging() -> None:
    circuit = QuantumCircuit(4)
    for q in range(4):
        circuit.h(q)
    for a, b in [(0, 2), (1, 3), (0, 3)]:
        circuit.cp(0.5, a, b)
        circuit.x(a)
    merged, _ = optimizers.BurstMergeOptimizer().optimize(circuit)
    topology = Topology("line", 2, [(0, 1)], data_qubits=2)
    problem = AllocationProblem(GateArray.from_circuit(merged), topology)
    cost = evaluate(problem, Allocation.static([0, 0, 1, 1]))
    plan = plan_from_allocation(merged, topology, Allocation.static([0, 0, 1, 1]), normalize=False)
    assert cost.ebits == plan.cost.ebits
