"""The tuning workload suite: a few small circuit families, sized to the host.

Each workload class is one family (``qft``, ``ghz``, ``random``), built
deterministically so that every installation times the same circuits for a
given size. Gates are limited to a common set (h, x, p, rx, ry, rz, cx, cp,
swap) that any statevector backend runs without transpilation.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qdframe.network.schemas import WORKLOAD_CLASSES

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

__all__ = ["COMMON_GATES", "SUITES", "Workload", "build_suite"]

#: Gates the suite uses.
COMMON_GATES: frozenset[str] = frozenset({"h", "x", "p", "rx", "ry", "rz", "cx", "cp", "swap"})

#: Suite name → circuits per class (GHZ circuits are cheap, so a batch).
SUITES: dict[str, dict[str, int]] = {
    "standard": {"qft": 1, "ghz": 8, "random": 2},
    "quick": {"qft": 1, "ghz": 4, "random": 1},
}


@dataclass(frozen=True)
class Workload:
    """One workload class at one size: the circuits timed together."""

    workload_class: str
    num_qubits: int
    circuits: tuple[QuantumCircuit, ...]

    @property
    def name(self) -> str:
        return f"{self.workload_class}_{self.num_qubits}"


def _qft(n: int) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, name=f"qft_{n}")
    # A non-uniform input state, so the transform has something to do.
    for q in range(n):
        qc.h(q)
        qc.p(0.37 * (q + 1), q)
    for target in reversed(range(n)):
        qc.h(target)
        for control in reversed(range(target)):
            qc.cp(math.pi / 2 ** (target - control), control, target)
    for q in range(n // 2):
        qc.swap(q, n - 1 - q)
    return qc


def _ghz(n: int, index: int) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, name=f"ghz_{n}_{index}")
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    for q in range(n):
        qc.rz(0.11 * (index + 1) * (q + 1), q)
    return qc


def _random(n: int, seed: int, depth: int) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    rng = random.Random(seed)
    qc = QuantumCircuit(n, name=f"random_{n}_{seed}")
    for _ in range(depth):
        for q in range(n):
            gate = rng.choice(("rx", "ry", "rz", "h"))
            if gate == "h":
                qc.h(q)
            else:
                getattr(qc, gate)(rng.uniform(0, 2 * math.pi), q)
        order = list(range(n))
        rng.shuffle(order)
        for a, b in zip(order[::2], order[1::2], strict=False):
            if rng.random() < 0.5:
                qc.cx(a, b)
            else:
                qc.cp(rng.uniform(0, 2 * math.pi), a, b)
    return qc


def build_suite(num_qubits: int, suite: str = "standard") -> list[Workload]:
    """The workloads of ``suite`` (``"standard"`` or ``"quick"``) at ``num_qubits``.

    :raises ValueError: unknown suite, or fewer than 2 qubits.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; available: {', '.join(SUITES)}")
    if num_qubits < 2:
        raise ValueError(f"the suite needs at least 2 qubits, got {num_qubits}")
    counts = SUITES[suite]
    workloads = []
    for workload_class in WORKLOAD_CLASSES:
        n = counts[workload_class]
        if workload_class == "qft":
            circuits = tuple(_qft(num_qubits) for _ in range(n))
        elif workload_class == "ghz":
            circuits = tuple(_ghz(num_qubits, i) for i in range(n))
        else:
            circuits = tuple(_random(num_qubits, 7 + i, depth=8) for i in range(n))
        workloads.append(Workload(workload_class, num_qubits, circuits))
    return workloads
