"""What lowering needs from a plan, and a minimal plan for direct use.

Lowering reads three things from a plan: the :class:`AllocationProblem`
(gates and topology), the :class:`Allocation` and, when present, the
:class:`CostReport` with burst records. Any object with ``problem`` and
``allocation`` attributes (and optionally ``cost``) will do - the planner's
``Plan`` or :class:`LoweringPlan` built here with :func:`plan_from_allocation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from qdframe.allocation import Allocation, AllocationProblem, GateArray, normalize_circuit
from qdframe.cost import CostReport, evaluate
from qdframe.errors import CircuitError, DistributionError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.topology import Topology

__all__ = ["LoweringPlan", "PlanLike", "matching_circuit", "plan_cost", "plan_from_allocation"]


@runtime_checkable
class PlanLike(Protocol):
    """The part of a plan that lowering reads."""

    @property
    def problem(self) -> AllocationProblem: ...

    @property
    def allocation(self) -> Allocation: ...


@dataclass(frozen=True)
class LoweringPlan:
    """A normalised circuit with its allocation problem, allocation and cost."""

    circuit: QuantumCircuit
    problem: AllocationProblem
    allocation: Allocation
    cost: CostReport


def plan_from_allocation(
    circuit: QuantumCircuit,
    topology: Topology,
    allocation: Allocation,
    *,
    normalize: bool = True,
) -> LoweringPlan:
    """A plan for a given allocation (normalising ``circuit`` to ``['u', 'cp']`` first).

    :raises ResourceError: the allocation does not fit the topology.
    """
    basic = normalize_circuit(circuit) if normalize else circuit
    problem = AllocationProblem(GateArray.from_circuit(basic), topology, label=circuit.name)
    return LoweringPlan(basic, problem, allocation, evaluate(problem, allocation))


def plan_cost(plan: PlanLike) -> CostReport:
    """The plan's cost report with burst records (computed if the plan lacks one)."""
    cost = getattr(plan, "cost", None)
    if isinstance(cost, CostReport) and cost.bursts is not None:
        return cost
    return evaluate(plan.problem, plan.allocation)


def _same_gates(a: GateArray, b: GateArray) -> bool:
    return (
        a.num_qubits == b.num_qubits
        and np.array_equal(a.qubits, b.qubits)
        and np.array_equal(a.source_index, b.source_index)
    )


def matching_circuit(circuit: QuantumCircuit, plan: PlanLike) -> QuantumCircuit:
    """The form of ``circuit`` whose instructions the plan's gate rows index.

    ``circuit`` as given if its gate rows match, else ``circuit`` normalised
    (as the planner does).

    :raises DistributionError: neither matches (the plan was made for a
        different circuit).
    """
    gates = plan.problem.gates
    try:
        if _same_gates(GateArray.from_circuit(circuit), gates):
            return circuit
    except CircuitError:
        pass
    normalised = normalize_circuit(circuit)
    if _same_gates(GateArray.from_circuit(normalised), gates):
        return normalised
    raise DistributionError(
        f"the plan's {gates.num_gates} gate rows do not match circuit {circuit.name!r} "
        f"({len(circuit.data)} instructions, also after normalising); plan this circuit first"
    )
