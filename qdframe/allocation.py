"""What an allocator is given and what it returns.

* :class:`GateArray` is the compact form of a circuit that distribution cares
  about: one row per two-qubit diagonal gate (``CP``) and one row per
  single-qubit gate that is *not* diagonal (it ends every cat-entanglement
  burst of its qubit). Diagonal single-qubit gates commute with every burst
  and are left out. Rows stay in circuit order; ``source_index`` points back
  to the instruction in the (normalised) circuit, so a plan can be lowered.
  At scale, build it straight from numpy arrays (:meth:`GateArray.from_pairs`).
* :class:`AllocationProblem` joins a gate array with a :class:`Topology`.
* :class:`Allocation` maps every qubit to a node, either once (static) or per
  *time slice*: slice ``t`` covers gate rows ``slice_starts[t]`` up to the next
  start, and a qubit whose node changes between slices is teleported.

:func:`normalize_circuit` brings any Qiskit circuit to the ``['u', 'cp']``
basis used for planning (and by the benchmark), in as-soon-as-possible layer
order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import CapacityError, CircuitError, ConfigError, ResourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.topology import Topology

__all__ = [
    "PLAN_BASIS",
    "Allocation",
    "AllocationProblem",
    "GateArray",
    "Migrations",
    "normalize_circuit",
]

IntArray = npt.NDArray[np.int64]

#: The gate basis planning works in: every two-qubit gate is a controlled phase.
PLAN_BASIS: tuple[str, ...] = ("u", "cp")

_DIAGONAL_1Q = frozenset({"p", "rz", "z", "s", "sdg", "t", "tdg", "id", "u1", "i"})
_DIAGONAL_2Q = frozenset({"cp", "cz", "cu1", "crz", "rzz", "cphase"})
_IGNORED = frozenset({"barrier", "delay", "global_phase"})
_ATOL = 1e-9


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array


def _is_diagonal_1q(operation: Any) -> bool:
    name = operation.name
    if name in _DIAGONAL_1Q:
        return True
    if name in ("u", "u3", "r", "rx", "ry"):
        try:
            theta = float(operation.params[0])
        except (TypeError, ValueError):
            return False  # symbolic angle: assume it mixes the basis
        return abs(math.remainder(theta, 2 * math.pi)) < _ATOL
    if name in ("measure", "reset", "initialize") or not hasattr(operation, "to_matrix"):
        return False
    try:
        matrix = np.asarray(operation.to_matrix())
    except Exception:  # parameterised or opaque: treat as non-diagonal
        return False
    return bool(np.allclose(matrix - np.diag(np.diag(matrix)), 0.0, atol=_ATOL))


def _is_diagonal_2q(operation: Any) -> bool:
    if operation.name in _DIAGONAL_2Q:
        return True
    try:
        matrix = np.asarray(operation.to_matrix())
    except Exception:
        return False
    return bool(np.allclose(matrix - np.diag(np.diag(matrix)), 0.0, atol=_ATOL))


@dataclass(frozen=True, eq=False)
class GateArray:
    """The gates that matter for distribution, as integer arrays.

    :param num_qubits: number of circuit qubits.
    :param qubits: ``(m, 2)`` array; row ``g`` is a two-qubit diagonal gate on
        ``qubits[g]``, or, when ``qubits[g, 1] == -1``, a non-diagonal
        single-qubit gate on ``qubits[g, 0]``.
    :param source_index: ``(m,)`` instruction index of each row in the source
        circuit (``arange(m)`` when built from arrays).
    """

    num_qubits: int
    qubits: npt.NDArray[np.int32]
    source_index: IntArray

    def __post_init__(self) -> None:
        qubits = np.ascontiguousarray(self.qubits, dtype=np.int32).reshape(-1, 2)
        source = np.ascontiguousarray(self.source_index, dtype=np.int64).reshape(-1)
        if len(source) != len(qubits):
            raise CircuitError("source_index must have one entry per gate row")
        if qubits.size:
            first, second = qubits[:, 0], qubits[:, 1]
            if first.min() < 0 or qubits.max() >= self.num_qubits or second.min() < -1:
                raise CircuitError(
                    f"gate qubits must lie in 0 .. {self.num_qubits - 1} (second column -1 "
                    "for single-qubit gates)"
                )
            if (first == second).any():
                row = int(np.flatnonzero(first == second)[0])
                raise CircuitError(f"gate row {row} acts twice on qubit {int(first[row])}")
        object.__setattr__(self, "qubits", _readonly(qubits))
        object.__setattr__(self, "source_index", _readonly(source))

    # ------------------------------------------------------------ constructors

    @classmethod
    def from_pairs(
        cls,
        num_qubits: int,
        pairs: npt.ArrayLike,
        *,
        breaks: npt.ArrayLike | None = None,
    ) -> GateArray:
        """Rows from arrays: ``pairs`` is ``(m, 2)``; ``breaks`` (optional) is
        ``(m,)`` of booleans marking rows that are single-qubit non-diagonal
        gates on ``pairs[g, 0]`` (their second entry is ignored)."""
        rows = np.array(pairs, dtype=np.int32).reshape(-1, 2)
        if breaks is not None:
            mask = np.asarray(breaks, dtype=bool).reshape(-1)
            if mask.shape[0] != rows.shape[0]:
                raise CircuitError("breaks must have one entry per row of pairs")
            rows[mask, 1] = -1
        return cls(num_qubits, rows, np.arange(len(rows), dtype=np.int64))

    @classmethod
    def from_circuit(cls, circuit: QuantumCircuit) -> GateArray:
        """Rows for a circuit whose multi-qubit gates are all diagonal.

        :raises CircuitError: a gate on three or more qubits, or a two-qubit
            gate that is not diagonal (normalise with :func:`normalize_circuit`).
        """
        index = {bit: i for i, bit in enumerate(circuit.qubits)}
        rows: list[tuple[int, int]] = []
        source: list[int] = []
        for position, instruction in enumerate(circuit.data):
            operation = instruction.operation
            if operation.name in _IGNORED:
                continue
            qubits = [index[q] for q in instruction.qubits]
            if len(qubits) == 1:
                if not _is_diagonal_1q(operation):
                    rows.append((qubits[0], -1))
                    source.append(position)
            elif len(qubits) == 2 and _is_diagonal_2q(operation):
                rows.append((qubits[0], qubits[1]))
                source.append(position)
            elif len(qubits) == 0:
                continue
            else:
                raise CircuitError(
                    f"instruction {position} ({operation.name} on {len(qubits)} qubits) is not "
                    "a diagonal two-qubit gate; normalise the circuit to the "
                    f"{list(PLAN_BASIS)} basis first (qdframe.allocation.normalize_circuit)"
                )
        qubit_rows = np.asarray(rows, dtype=np.int32).reshape(-1, 2)
        return cls(circuit.num_qubits, qubit_rows, np.asarray(source, dtype=np.int64))

    # -------------------------------------------------------------- properties

    @property
    def num_gates(self) -> int:
        return int(self.qubits.shape[0])

    @cached_property
    def is_pair(self) -> npt.NDArray[np.bool_]:
        """Rows that are two-qubit gates."""
        return _readonly(self.qubits[:, 1] >= 0)

    @property
    def num_two_qubit(self) -> int:
        return int(self.is_pair.sum())

    @cached_property
    def pair_rows(self) -> IntArray:
        """Row indices of the two-qubit gates, ascending."""
        return _readonly(np.flatnonzero(self.is_pair).astype(np.int64))

    def interaction_graph(self) -> tuple[IntArray, IntArray]:
        """Distinct interacting qubit pairs ``(p, 2)`` (``a < b``) and their gate counts."""
        pairs = np.sort(self.qubits[self.is_pair].astype(np.int64), axis=1)
        if not len(pairs):
            return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys = pairs[:, 0] * self.num_qubits + pairs[:, 1]
        unique, counts = np.unique(keys, return_counts=True)
        edges = np.stack([unique // self.num_qubits, unique % self.num_qubits], axis=1)
        return edges, counts.astype(np.int64)

    def layers(self) -> IntArray:
        """As-soon-as-possible layer of every row (rows sharing a qubit are ordered)."""
        level = [0] * self.num_qubits
        out = np.empty(self.num_gates, dtype=np.int64)
        for g, (a, b) in enumerate(self.qubits.tolist()):
            if b < 0:
                lvl = level[a]
                level[a] = lvl + 1
            else:
                lvl = max(level[a], level[b])
                level[a] = level[b] = lvl + 1
            out[g] = lvl
        return out


def normalize_circuit(circuit: QuantumCircuit, *, allow_parameters: bool = False) -> QuantumCircuit:
    """Return ``circuit`` in the ``['u', 'cp']`` basis, in layer order.

    Translates as ``transpile`` does at optimisation level 0 (no gate is
    merged or cancelled, so the count matches the benchmark's) but through a
    direct pass manager (:mod:`qdframe.basis`), drops barriers, keeps measurements, and
    orders instructions by as-soon-as-possible layer (a reordering of
    commuting instructions only), so time slices are contiguous.

    :param allow_parameters: keep unbound parameters (a symbolic angle
        counts as a basis-mixing gate, so the plan holds for every binding);
        the Qiskit primitives plan a parameterised circuit once this way.
    :raises CircuitError: the circuit has unbound parameters (and
        ``allow_parameters`` is false) or cannot be expressed in the basis.
    """
    from qdframe.basis import translate_to_basis

    if circuit.parameters and not allow_parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters)[:5])
        raise CircuitError(f"circuit has unbound parameters ({names}); bind them first")
    try:
        basic = translate_to_basis(circuit, PLAN_BASIS)
    except Exception as exc:
        raise CircuitError(f"cannot rewrite the circuit in {list(PLAN_BASIS)}: {exc}") from None
    qubit_index = {bit: i for i, bit in enumerate(basic.qubits)}
    clbit_index = {bit: basic.num_qubits + i for i, bit in enumerate(basic.clbits)}
    level = [0] * (basic.num_qubits + basic.num_clbits)
    keyed: list[tuple[int, int]] = []
    kept = []
    for position, instruction in enumerate(basic.data):
        if instruction.operation.name == "barrier":
            continue
        wires = [qubit_index[q] for q in instruction.qubits]
        wires += [clbit_index[c] for c in instruction.clbits]
        lvl = max((level[w] for w in wires), default=0)
        for w in wires:
            level[w] = lvl + 1
        keyed.append((lvl, position))
        kept.append(instruction)
    order = sorted(range(len(kept)), key=lambda i: keyed[i])
    out = basic.copy_empty_like(name=circuit.name)
    for i in order:
        out.append(kept[i].operation, kept[i].qubits, kept[i].clbits, copy=False)
    return out


@dataclass(frozen=True, eq=False)
class AllocationProblem:
    """A circuit (as a :class:`GateArray`) to place on a :class:`Topology`.

    :param gates: the circuit's gates.
    :param topology: the network; node capacities are its ``data_qubits``.
    :param time_budget_s: how long an allocator may search.
    :param allow_migration: whether allocators may return time-sliced
        allocations (qubits teleported between slices).
    :raises CapacityError: the network holds fewer data qubits than the circuit
        has (the message gives both numbers).
    """

    gates: GateArray
    topology: Topology
    time_budget_s: float = 10.0
    allow_migration: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        need, have = self.gates.num_qubits, self.topology.total_data_qubits
        if need > have:
            raise CapacityError(
                f"the circuit needs {need} qubits but the network holds only {have} data qubits "
                f"({self.topology.num_nodes} nodes of {self._capacity_text()}); add nodes or "
                "qubits per node"
            )
        if not self.time_budget_s > 0:
            raise ConfigError(f"time_budget_s must be > 0, got {self.time_budget_s}")

    def _capacity_text(self) -> str:
        caps = self.topology.data_qubits
        if (caps == caps[0]).all():
            return f"{int(caps[0])} data qubits"
        return f"{int(caps.min())}..{int(caps.max())} data qubits"

    @classmethod
    def from_circuit(
        cls,
        circuit: QuantumCircuit,
        topology: Topology,
        *,
        normalize: bool = True,
        time_budget_s: float = 10.0,
        allow_migration: bool = True,
    ) -> AllocationProblem:
        """Build the problem from a Qiskit circuit (normalised first by default)."""
        basic = normalize_circuit(circuit) if normalize else circuit
        return cls(
            GateArray.from_circuit(basic),
            topology,
            time_budget_s=time_budget_s,
            allow_migration=allow_migration,
            label=circuit.name,
        )

    @property
    def num_qubits(self) -> int:
        return self.gates.num_qubits

    @property
    def num_nodes(self) -> int:
        return self.topology.num_nodes

    @property
    def capacities(self) -> IntArray:
        """Data qubits per node."""
        return self.topology.data_qubits

    @property
    def spare_capacity(self) -> int:
        """Data qubit slots left free when every qubit is placed."""
        return self.topology.total_data_qubits - self.num_qubits


@dataclass(frozen=True)
class Migrations:
    """Qubits teleported between time slices (one entry per move).

    ``before_gate[i]`` is the gate row before which qubit ``qubit[i]`` moves
    from ``source[i]`` to ``target[i]`` (entering slice ``slice[i]``).
    """

    slice: IntArray
    qubit: IntArray
    source: IntArray
    target: IntArray
    before_gate: IntArray

    def __len__(self) -> int:
        return len(self.qubit)


@dataclass(frozen=True, eq=False)
class Allocation:
    """Qubit → node, for the whole circuit or per time slice.

    :param assignment: ``(num_slices, num_qubits)`` node of each qubit in each
        slice (a 1-D array is one static slice).
    :param slice_starts: first gate row of each slice; starts at 0, strictly
        increasing. Defaults to ``[0]``.
    :param allocator: name of the allocator that produced it.
    :param notes: free-form details from the allocator (reason, statistics).
    """

    assignment: npt.NDArray[Any]
    slice_starts: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    allocator: str = ""
    notes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table = np.array(self.assignment, dtype=np.int32)
        if table.ndim == 1:
            table = table[None, :]
        if table.ndim != 2 or table.shape[0] < 1:
            raise ResourceError("assignment must be (num_slices, num_qubits)")
        starts = np.array(self.slice_starts, dtype=np.int64).reshape(-1)
        if len(starts) != table.shape[0]:
            raise ResourceError(f"{table.shape[0]} assignment rows but {len(starts)} slice starts")
        if starts[0] != 0 or (np.diff(starts) <= 0).any():
            raise ResourceError("slice_starts must begin at 0 and increase strictly")
        object.__setattr__(self, "assignment", _readonly(table))
        object.__setattr__(self, "slice_starts", _readonly(starts))
        object.__setattr__(self, "notes", dict(self.notes))

    @classmethod
    def static(
        cls,
        nodes: Sequence[int] | npt.ArrayLike,
        *,
        allocator: str = "",
        notes: Mapping[str, Any] | None = None,
    ) -> Allocation:
        """One node per qubit for the whole circuit."""
        return cls(
            np.asarray(nodes, dtype=np.int32)[None, :], allocator=allocator, notes=notes or {}
        )

    @classmethod
    def sliced(
        cls,
        assignment: npt.ArrayLike,
        slice_starts: npt.ArrayLike,
        *,
        allocator: str = "",
        notes: Mapping[str, Any] | None = None,
    ) -> Allocation:
        """A time-sliced allocation; consecutive identical slices are merged."""
        table = np.asarray(assignment, dtype=np.int32)
        starts = np.asarray(slice_starts, dtype=np.int64)
        keep = np.ones(len(table), dtype=bool)
        if len(table) > 1:
            keep[1:] = (table[1:] != table[:-1]).any(axis=1)
        return cls(table[keep], starts[keep], allocator=allocator, notes=notes or {})

    # -------------------------------------------------------------- properties

    @property
    def num_slices(self) -> int:
        return int(self.assignment.shape[0])

    @property
    def num_qubits(self) -> int:
        return int(self.assignment.shape[1])

    @property
    def is_static(self) -> bool:
        return self.num_slices == 1

    def nodes(self, slice_index: int = 0) -> IntArray:
        """Node of every qubit during one slice."""
        return np.asarray(self.assignment[slice_index], dtype=np.int64)

    def node_of(self, qubit: int, slice_index: int = 0) -> int:
        return int(self.assignment[slice_index, qubit])

    def slice_of_gate(self, rows: int | npt.ArrayLike) -> IntArray:
        """The slice each gate row belongs to (vectorised)."""
        return np.searchsorted(self.slice_starts, np.asarray(rows), side="right") - 1

    def with_notes(self, **notes: Any) -> Allocation:
        """A copy with extra notes."""
        return Allocation(
            self.assignment, self.slice_starts, self.allocator, {**self.notes, **notes}
        )

    def renamed(self, allocator: str) -> Allocation:
        return Allocation(self.assignment, self.slice_starts, allocator, self.notes)

    def migrations(self) -> Migrations:
        """Every teleportation between consecutive slices."""
        if self.is_static:
            empty = np.zeros(0, dtype=np.int64)
            return Migrations(empty, empty, empty, empty, empty)
        before, after = self.assignment[:-1], self.assignment[1:]
        t, q = np.nonzero(before != after)
        return Migrations(
            slice=(t + 1).astype(np.int64),
            qubit=q.astype(np.int64),
            source=before[t, q].astype(np.int64),
            target=after[t, q].astype(np.int64),
            before_gate=self.slice_starts[t + 1].astype(np.int64),
        )

    def loads(self, num_nodes: int) -> IntArray:
        """``(num_slices, num_nodes)`` qubits held by each node in each slice."""
        offsets = np.arange(self.num_slices, dtype=np.int64)[:, None] * num_nodes
        flat = (self.assignment.astype(np.int64) + offsets).ravel()
        return np.bincount(flat, minlength=self.num_slices * num_nodes).reshape(
            self.num_slices, num_nodes
        )

    def check(self, problem: AllocationProblem) -> None:
        """Raise unless this allocation fits ``problem``.

        :raises ResourceError: wrong qubit count, unknown node, a slice start
            past the last gate, or a node over capacity in some slice (the
            message names node, slice, load and capacity).
        """
        if self.num_qubits != problem.num_qubits:
            raise ResourceError(
                f"allocation places {self.num_qubits} qubits, the circuit has {problem.num_qubits}"
            )
        low, high = int(self.assignment.min()), int(self.assignment.max())
        if low < 0 or high >= problem.num_nodes:
            raise ResourceError(
                f"allocation uses node {low if low < 0 else high}; "
                f"nodes are 0 .. {problem.num_nodes - 1}"
            )
        if self.num_slices > 1 and int(self.slice_starts[-1]) >= max(problem.gates.num_gates, 1):
            raise ResourceError("a slice starts after the last gate")
        over = self.loads(problem.num_nodes) - problem.capacities[None, :]
        if (over > 0).any():
            t, node = (int(x) for x in np.argwhere(over > 0)[0])
            load = int(over[t, node] + problem.capacities[node])
            raise ResourceError(
                f"node {node} holds {load} qubits in slice {t} but its capacity is "
                f"{int(problem.capacities[node])}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: static allocations give one node list."""
        data: dict[str, Any] = {"allocator": self.allocator, "num_slices": self.num_slices}
        if self.is_static:
            data["nodes"] = self.assignment[0].tolist()
        else:
            data["initial_nodes"] = self.assignment[0].tolist()
            moves = self.migrations()
            data["migrations"] = [
                {"qubit": int(q), "from": int(s), "to": int(d), "before_gate": int(g)}
                for q, s, d, g in zip(
                    moves.qubit, moves.source, moves.target, moves.before_gate, strict=True
                )
            ]
        return data
