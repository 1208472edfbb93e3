"""Conformance kit for optimizers: a circuit pass keeps the unitary, a route
pass keeps routes valid, both report what they saved.

An optimizer's ``stage`` says what it rewrites: ``"intake"`` optimizers get
and return a ``QuantumCircuit``, which must implement the same operator (up
to global phase, which no distributed run can observe); ``"lower"``
optimizers get and return a :class:`qdframe.distribute.routing.RouteTable`,
whose every route must still join its nodes over links.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Operator

from qdframe.config import SystemConfig
from qdframe.context import RunContext
from qdframe.protocols import Optimizer
from qdframe.testing._kit import CheckSkipped, Kit
from qdframe.topology import Topology

__all__ = ["STAGES", "OptimizerKit"]

#: The stages an optimizer may declare.
STAGES = ("intake", "lower")


def _circuits() -> dict[str, QuantumCircuit]:
    ghz = QuantumCircuit(4, name="ghz")
    ghz.h(0)
    ghz.barrier()
    for q in range(3):
        ghz.cx(q, q + 1)
    ghz.h(0)
    ghz.h(0)  # cancels: something for an optimizer to find
    redundant = QuantumCircuit(3, name="redundant")
    redundant.rz(0.3, 0)
    redundant.rz(-0.3, 0)
    redundant.cx(0, 1)
    redundant.cx(0, 1)
    redundant.cp(0.7, 1, 2)
    redundant.swap(0, 2)
    qft = QuantumCircuit(4, name="qft4")
    for target in range(4):
        qft.h(target)
        for control in range(target + 1, 4):
            qft.cp(math.pi / 2 ** (control - target), control, target)
    circuits = {"ghz": ghz, "redundant": redundant, "qft4": qft}
    for seed in (1, 2):
        circuit = random_circuit(4, depth=5, max_operands=2, seed=seed)
        circuit.name = f"random{seed}"
        circuits[circuit.name] = circuit
    return circuits


def _context() -> RunContext:
    return RunContext(run_id="conformance", config=SystemConfig(), stage="optimize")


def _ladder() -> Topology:
    # A ring with one chord: some node pairs have two shortest paths.
    edges = [(i, (i + 1) % 6) for i in range(6)] + [(0, 3)]
    return Topology("ring", 6, edges, data_qubits=2, comm_qubits=2)


class OptimizerKit(Kit):
    """Checks an optimizer factory (``registry.add("name", Factory)``)."""

    category: ClassVar[str] = "optimizers"

    def _optimizer(self) -> Any:
        return self.build()

    def _stage(self, wanted: str) -> Any:
        optimizer = self._optimizer()
        if optimizer.stage != wanted:
            raise CheckSkipped(f"{self.name!r} runs at stage {optimizer.stage!r}")
        return optimizer

    def _check_report(self, report: Any, what: str) -> None:
        assert isinstance(getattr(report, "name", None), str) and report.name, (
            f"{what}: the report needs a name"
        )
        saved = getattr(report, "saved", None)
        assert isinstance(saved, dict), f"{what}: report.saved must be a dict, got {saved!r}"
        for key, value in saved.items():
            assert isinstance(key, str), f"{what}: saved key {key!r} is not a str"
            assert isinstance(value, int | float) and math.isfinite(float(value)), (
                f"{what}: saved[{key!r}] = {value!r} is not a finite number"
            )

    def _routes(self) -> Any:
        from qdframe.distribute.routing import RouteTable

        table = RouteTable(_ladder())
        table.demands = {(a, b): 1 + (a + b) % 3 for a, b in itertools.combinations(range(6), 2)}
        return table

    # ------------------------------------------------------------------ checks

    def check_declares_name_and_stage(self) -> None:
        """The factory builds an Optimizer whose stage is one the pipeline runs."""
        optimizer = self._optimizer()
        assert isinstance(optimizer, Optimizer), (
            f"{type(optimizer).__name__} lacks name/stage/optimize() of qdframe.protocols.Optimizer"
        )
        assert isinstance(optimizer.name, str) and optimizer.name, "name must be a non-empty str"
        assert optimizer.stage in STAGES, (
            f"stage {optimizer.stage!r} is not one of {', '.join(STAGES)}"
        )

    def check_circuit_keeps_its_unitary(self) -> None:
        """An intake optimizer's circuit implements the same operator (Operator.equiv)."""
        optimizer = self._stage("intake")
        for name, circuit in _circuits().items():
            out, report = optimizer.optimize(circuit.copy(), _context())
            assert isinstance(out, QuantumCircuit), (
                f"{name}: optimize() returned {type(out).__name__}, expected a QuantumCircuit"
            )
            assert out.num_qubits == circuit.num_qubits, (
                f"{name}: {out.num_qubits} qubits after, {circuit.num_qubits} before"
            )
            assert Operator(out).equiv(Operator(circuit)), (
                f"{name}: the optimized circuit implements a different operator"
            )
            self._check_report(report, name)

    def check_circuit_keeps_its_measurements(self) -> None:
        """Measured qubits still write the same classical bits."""
        optimizer = self._stage("intake")
        circuit = QuantumCircuit(3, 3, name="measured")
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.x(2)
        circuit.measure([0, 1, 2], [2, 0, 1])
        out, _ = optimizer.optimize(circuit.copy(), _context())
        assert out.num_clbits == circuit.num_clbits, "classical bits were added or dropped"

        def pairs(c: QuantumCircuit) -> list[tuple[int, int]]:
            return sorted(
                (c.find_bit(i.qubits[0]).index, c.find_bit(i.clbits[0]).index)
                for i in c.data
                if i.operation.name == "measure"
            )

        assert pairs(out) == pairs(circuit), (
            f"measurements (qubit, clbit) {pairs(out)}, expected {pairs(circuit)}"
        )

    def check_input_circuit_is_not_modified(self) -> None:
        """optimize() returns a new circuit and leaves its input as it was."""
        optimizer = self._stage("intake")
        circuit = _circuits()["redundant"]
        before = circuit.copy()
        optimizer.optimize(circuit, _context())
        assert circuit == before, "optimize() changed the circuit it was given"

    def check_routes_stay_valid(self) -> None:
        """A lower optimizer returns a RouteTable whose routes join their nodes over links."""
        from qdframe.distribute.routing import RouteTable

        optimizer = self._stage("lower")
        table = self._routes()
        out, report = optimizer.optimize(table, _context())
        assert isinstance(out, RouteTable), (
            f"optimize() returned {type(out).__name__}, expected a RouteTable"
        )
        topology = out.topology
        linked = {(int(u), int(v)) for u, v in topology.edges.tolist()}
        for a, b in itertools.permutations(range(topology.num_nodes), 2):
            path = out.path(a, b)
            assert path[0] == a and path[-1] == b, f"route {path} does not join {a} and {b}"
            assert len(set(path)) == len(path), f"route {path} visits a node twice"
            for u, v in itertools.pairwise(path):
                assert (min(u, v), max(u, v)) in linked, f"route {path} uses {u}-{v}, no link"
        self._check_report(report, "routes")

    def check_same_input_same_output(self) -> None:
        """Two runs on the same input give the same result."""
        optimizer = self._optimizer()
        if optimizer.stage == "intake":
            circuit = _circuits()["random1"]
            first, _ = optimizer.optimize(circuit.copy(), _context())
            second, _ = self._optimizer().optimize(circuit.copy(), _context())
            assert first == second, "the same circuit was optimized two different ways"
        else:
            first, _ = optimizer.optimize(self._routes(), _context())
            second, _ = self._optimizer().optimize(self._routes(), _context())
            n = first.topology.num_nodes
            pairs = list(itertools.combinations(range(n), 2))
            assert [first.path(a, b) for a, b in pairs] == [second.path(a, b) for a, b in pairs]
