"""Make a plan: which qubit lives on which node, and what that costs.

:func:`make_plan` takes a circuit and a :class:`~qdframe.config.SystemConfig`,
builds the topology, normalises the circuit to the ``['u', 'cp']`` basis,
runs the configured allocator (``auto`` lets the allocator plugin choose by
size and say why) and prices the result with :mod:`qdframe.cost`. The
:class:`Plan` keeps everything later stages need: the normalised circuit (in
the gate order the burst records refer to), the problem, the allocation, the
cost report with per-burst records, and timings.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.allocation import Allocation, AllocationProblem, GateArray, normalize_circuit
from qdframe.circuits import load_circuit
from qdframe.config import AllocationStrategy, LoadBalancing
from qdframe.cost import CostReport, evaluate
from qdframe.errors import ConfigError, ResourceError
from qdframe.resources import check_node_limit, limit_nodes, whole
from qdframe.sizing import check_capacity
from qdframe.topology import Topology, build_topology

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.plugins import LoadedPlugins

__all__ = ["DEFAULT_TIME_BUDGET_S", "Plan", "make_plan"]

#: Seconds an allocator may search when the caller does not say.
DEFAULT_TIME_BUDGET_S = 10.0


@dataclass(frozen=True)
class Plan:
    """A circuit placed on a network, with its cost.

    ``circuit`` is the normalised circuit (``None`` when planning from a
    :class:`GateArray`); burst records index its instructions.
    """

    circuit: QuantumCircuit | None
    problem: AllocationProblem
    allocation: Allocation
    cost: CostReport
    allocator: str
    reason: str
    timings: Mapping[str, float] = field(default_factory=dict)
    split_ebits: int = 0
    comm_splits: int = 0
    #: Why the quantum-mode lowering cannot run this plan ("" when it can).
    lowering_problem: str = ""
    #: Most data qubits per node the allocator was offered under ``[resources]
    #: load_balancing = "spread"`` (``None``: the nodes' own capacities).
    spread_cap: int | None = None

    def load(self) -> dict[str, Any]:
        """How much of the circuit the busiest node carries.

        ``max_qubits_per_node``: most qubits one node holds in any slice;
        ``max_gates_per_node``: most two-qubit gates with a qubit on one node
        (a gate between two nodes counts for both, a local one once);
        ``qubit_cap_per_node``: :attr:`spread_cap`.
        """
        return {
            **_node_load(self.problem, self.allocation),
            "qubit_cap_per_node": self.spread_cap,
        }

    @property
    def topology(self) -> Topology:
        return self.problem.topology

    @property
    def planned_ebits(self) -> int:
        """The cost model's count: one pair per burst hop and teleportation hop."""
        return self.cost.ebits

    @property
    def ebits(self) -> int:
        """The EPR pairs the lowered program consumes (quantum mode, the plan's
        communication qubits per node): :attr:`planned_ebits` plus
        :attr:`split_ebits`, spent re-opening bursts that ran out of them."""
        return self.cost.ebits + self.split_ebits

    def ebits_text(self) -> str:
        """``"60"``, or ``"57 planned + 3 from communication-qubit limits = 60 consumed"``."""
        if not self.split_ebits:
            return str(self.ebits)
        return (
            f"{self.planned_ebits} planned + {self.split_ebits} from communication-qubit "
            f"limits = {self.ebits} consumed"
        )

    def __repr__(self) -> str:
        # The dataclass repr would print every array of the problem and allocation.
        gates = self.problem.gates
        topo = self.topology
        return (
            f"Plan({self.problem.label or 'circuit'!r}: {gates.num_qubits} qubits on "
            f"{topo.num_nodes} nodes ({topo.name}), allocator={self.allocator!r}, "
            f"ebits={self.ebits_text()}, swaps={self.cost.swaps})"
        )

    __str__ = __repr__

    def _repr_html_(self) -> str:
        from html import escape

        cost = self.cost
        rows = {
            "circuit": f"{self.problem.label}: {self.problem.gates.num_qubits} qubits",
            "network": f"{self.topology.name}, {self.topology.num_nodes} nodes",
            "allocator": self.allocator,
            "ebits": self.ebits_text(),
            "swaps": str(cost.swaps),
        }
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows.items()
        )
        return f"<table>{body}</table>"

    def summary(self, *, include_allocation: bool = True) -> dict[str, Any]:
        """JSON-ready description of the plan."""
        gates = self.problem.gates
        data: dict[str, Any] = {
            "circuit": {
                "name": self.problem.label,
                "qubits": gates.num_qubits,
                "two_qubit_gates": gates.num_two_qubit,
                "burst_breaking_gates": gates.num_gates - gates.num_two_qubit,
            },
            "topology": self.topology.describe(),
            "allocator": self.allocator,
            "reason": self.reason,
            "cost": self.cost.summary(),
            "ebits": {
                "planned": self.planned_ebits,
                "split": self.split_ebits,
                "comm_splits": self.comm_splits,
                "consumed": self.ebits,
            },
            "load": self.load(),
            "lowering_problem": self.lowering_problem,
            "timings_s": dict(self.timings),
        }
        if include_allocation:
            data["allocation"] = self.allocation.to_dict()
        return data


def _as_circuit(source: Any) -> QuantumCircuit | GateArray:
    return source if isinstance(source, GateArray) else load_circuit(source)


def make_plan(
    circuit: QuantumCircuit | GateArray | str | os.PathLike[str],
    config: SystemConfig,
    *,
    plugins: LoadedPlugins,
    seed: int | None = None,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    allow_migration: bool | None = None,
    allocator_options: Mapping[str, Any] | None = None,
    executor: Any = None,
    topology: Topology | None = None,
    allocation: Allocation | None = None,
    allow_parameters: bool = False,
    count_splits: bool = True,
) -> Plan:
    """Plan ``circuit`` on the network ``config`` describes.

    With ``[resources] load_balancing = "spread"`` the allocator sees the
    same network with each node's data qubits capped at an even share (see
    :func:`_spread_view`); the plan keeps the real network, and the
    allocation is checked against it.

    :param circuit: a Qiskit circuit, an OpenQASM 2/3 file, or a
        :class:`GateArray` (skips normalisation; for very large circuits).
    :param plugins: the plugin set to take topologies and allocators from.
    :param seed: seed for randomised allocators (plans are reproducible).
    :param time_budget_s: how long the allocator may search.
    :param allow_migration: let allocators teleport qubits between slices;
        ``None`` follows ``[resources] allocation_strategy`` (``dynamic``
        allows it, ``static`` does not).
    :param allocator_options: keyword options for the allocator's factory.
    :param executor: an object with ``map(fn, jobs)`` for allocators that run
        independent work (the ensemble).
    :param topology: plan on this network instead of the one ``config``
        describes (e.g. the network left after a node failed).
    :param allocation: use this allocation instead of running an allocator
        (a resumed run keeps the plan it started with); it is checked against
        the network's capacities and priced as usual.
    :param allow_parameters: plan a circuit with unbound parameters (see
        :func:`~qdframe.allocation.normalize_circuit`); bind them in the
        lowered program's circuit before running it.
    :param count_splits: lower the plan once to count the ebits that
        re-opening bursts for lack of communication qubits adds
        (:attr:`Plan.split_ebits`); a run passes ``False`` and takes the
        figures from the program it lowers anyway.
    :raises CapacityError: the network, or the ``[resources] max_nodes`` of
        it a plan may use, holds fewer data qubits than the circuit.
    :raises RegistryError: unknown topology or allocator name.
    :raises CircuitError: the circuit cannot be read or normalised.
    """
    loaded = plugins
    started = time.perf_counter()
    timings: dict[str, float] = {}

    source = _as_circuit(circuit)
    mark = time.perf_counter()
    if topology is None:
        # A circuit that cannot fit is the first problem to name, before any
        # complaint about the topology's shape.
        block = config.distributed
        check_capacity(source.num_qubits, block.num_nodes, block.qubits_per_node)
        topology = build_topology(config, plugins=loaded)
    max_nodes = config.resources.max_nodes
    if max_nodes is not None:
        topology = limit_nodes(whole(topology), max_nodes).topology
        check_node_limit(source.num_qubits, topology, max_nodes)
    timings["topology"] = time.perf_counter() - mark
    if allow_migration is None:
        allow_migration = config.resources.allocation_strategy is AllocationStrategy.DYNAMIC

    mark = time.perf_counter()
    normalised: QuantumCircuit | None
    if isinstance(source, GateArray):
        normalised, gates, label = None, source, "gate-array"
    else:
        normalised = normalize_circuit(source, allow_parameters=allow_parameters)
        gates, label = GateArray.from_circuit(normalised), source.name
    problem = AllocationProblem(
        gates,
        topology,
        time_budget_s=time_budget_s,
        allow_migration=allow_migration,
        label=label,
    )
    timings["normalize"] = time.perf_counter() - mark
    spread_cap: int | None = None
    offered = problem
    if config.resources.load_balancing is LoadBalancing.SPREAD and allocation is None:
        spread_cap, view = _spread_view(topology, gates.num_qubits)
        offered = replace(problem, topology=view)

    if allocation is not None:
        allocation.check(problem)
        report = evaluate(problem, allocation)
        split, splits, problem_text = (
            _splits(problem, allocation, report, timings) if count_splits else (0, 0, "")
        )
        timings["total"] = time.perf_counter() - started
        return Plan(
            circuit=normalised,
            problem=problem,
            allocation=allocation,
            cost=report,
            allocator=allocation.allocator or "given",
            reason=str(allocation.notes.get("reason") or "allocation given by the caller"),
            timings={k: round(v, 4) for k, v in timings.items()},
            split_ebits=split,
            comm_splits=splits,
            lowering_problem=problem_text,
        )

    registry = loaded.registries.allocators
    requested = config.distributed.allocator
    name, reason = requested, ""
    if requested == "auto" and "auto" not in registry:
        names = registry.names()
        if not names:
            raise ConfigError("no allocator is registered; install or enable an allocator plugin")
        name = "sequential" if "sequential" in names else names[0]
        reason = f"{name}: no 'auto' policy is registered"
    factory = registry.get(name)
    options = _run_options(factory, config, loaded, executor)
    options.update(allocator_options or {})
    allocator = factory(**options)

    mark = time.perf_counter()
    allocation = allocator.allocate(offered, seed=seed)
    timings["allocate"] = time.perf_counter() - mark
    if not isinstance(allocation, Allocation):
        raise ResourceError(
            f"allocator {name!r} returned {type(allocation).__name__}, expected an Allocation"
        )
    if offered is not problem:
        # The view only lowers capacities, so this also holds on the real network;
        # an allocator that ignored the cap is refused rather than reported as spread.
        allocation.check(offered)

    mark = time.perf_counter()
    report = evaluate(problem, allocation)
    timings["cost"] = time.perf_counter() - mark
    split, splits, problem_text = (
        _splits(problem, allocation, report, timings) if count_splits else (0, 0, "")
    )
    timings["total"] = time.perf_counter() - started

    used = allocation.allocator or name
    if not reason:
        reason = str(allocation.notes.get("reason") or f"{used}: set in the configuration")
    return Plan(
        circuit=normalised,
        problem=problem,
        allocation=allocation,
        cost=report,
        allocator=used,
        reason=reason,
        timings={k: round(v, 4) for k, v in timings.items()},
        split_ebits=split,
        comm_splits=splits,
        lowering_problem=problem_text,
        spread_cap=spread_cap,
    )


def _spread_view(topology: Topology, num_qubits: int) -> tuple[int, Topology]:
    """The cap and a view of ``topology`` whose nodes offer at most that many data qubits.

    The cap is the smallest ``c`` with ``sum(min(capacity, c)) >= num_qubits``:
    ``ceil(num_qubits / num_nodes)`` when every node holds that many, more
    when smaller nodes leave a shortfall. Links, communication qubits and
    node ids are the real network's, so an allocation of the view is one of
    ``topology``.
    """
    capacities = np.asarray(topology.data_qubits, dtype=np.int64)
    low = max(1, math.ceil(num_qubits / topology.num_nodes))
    high = max(low, int(capacities.max()))
    while low < high:
        middle = (low + high) // 2
        if int(np.minimum(capacities, middle).sum()) >= num_qubits:
            high = middle
        else:
            low = middle + 1
    capped = np.minimum(capacities, low)
    capped.flags.writeable = False
    view = copy.copy(topology)
    view.data_qubits = capped
    return low, view


def _node_load(problem: AllocationProblem, allocation: Allocation) -> dict[str, int]:
    """Most qubits and most two-qubit gates on one node (see :meth:`Plan.load`)."""
    nodes = problem.num_nodes
    qubits = int(allocation.loads(nodes).max()) if allocation.num_qubits else 0
    rows = problem.gates.qubits
    two = np.flatnonzero(rows[:, 1] >= 0)
    if not len(two):
        return {"max_qubits_per_node": qubits, "max_gates_per_node": 0}
    slices = allocation.slice_of_gate(two)
    first = allocation.assignment[slices, rows[two, 0]].astype(np.int64)
    second = allocation.assignment[slices, rows[two, 1]].astype(np.int64)
    gates = np.bincount(first, minlength=nodes)
    gates += np.bincount(second[second != first], minlength=nodes)
    return {"max_qubits_per_node": qubits, "max_gates_per_node": int(gates.max())}


def _splits(
    problem: AllocationProblem,
    allocation: Allocation,
    report: CostReport,
    timings: dict[str, float],
) -> tuple[int, int, str]:
    """Ebits and bursts that re-opening bursts for lack of communication qubits adds,
    and why lowering cannot run the plan ("" when it can).

    Lowering decides where a burst must close because every communication
    qubit of a node is busy; the cost model does not, so the plan asks
    lowering (a pass over the gate rows, without building the circuit).
    A plan that cannot be lowered (no route with enough communication
    qubits) keeps the cost model's figure and the reason, which ``qdframe
    plan`` shows as a warning.
    """
    from qdframe.distribute.lower import ebit_account
    from qdframe.errors import DistributionError

    mark = time.perf_counter()
    try:
        account = ebit_account(problem, allocation, cost=report)
    except (ResourceError, DistributionError) as exc:
        return 0, 0, str(exc)
    finally:
        timings["ebit_account"] = time.perf_counter() - mark
    return account.ebits - report.ebits, account.comm_splits, ""


def _run_options(
    factory: Any, config: SystemConfig, plugins: LoadedPlugins, executor: Any
) -> dict[str, Any]:
    """What the run gives an allocator factory that asks for it, whatever its name.

    A factory whose ``OPTIONS`` name ``plugins`` or ``executor`` gets the
    run's plugin set (members it names may come from any plugin of the run)
    and executor; one that also names ``config`` and declares a
    ``CONFIG_SECTION`` gets that block of the configuration (the ensemble
    allocator: ``[ensemble]``).
    """
    declared = getattr(factory, "OPTIONS", None) or {}
    options: dict[str, Any] = {}
    section = getattr(factory, "CONFIG_SECTION", None)
    if "config" in declared and isinstance(section, str):
        options["config"] = getattr(config, section)
    if "plugins" in declared:
        options["plugins"] = plugins
    if "executor" in declared and executor is not None:
        options["executor"] = executor
    return options
