"""Hybrid mode: per burst, an EPR protocol or circuit cutting, whichever costs less.

A burst of ``k`` gates between nodes ``h`` hops apart costs ``h`` ebits as a
cat-entanglement. Cut instead, each of its gates is replaced by a
quasi-probability decomposition of local operations, which multiplies the
number of samples needed by ``gamma**2`` per gate. A diagonal two-qubit gate
``diag(d00, d01, d10, d11)`` is, up to single-qubit phases, ``Rzz`` of its
entangling phase ``delta = arg(d00 d11 / (d01 d10))``, and its optimal gate
cut has ``gamma = 1 + 2 |sin(delta / 2)|`` (``CP(theta)``: ``delta = theta``;
``CZ``: ``gamma = 3``).

The cost of a choice is ``ebit_weight * ebits + overhead_weight *
log2(sampling overhead)``, so one unit of ``overhead_weight`` prices a
doubling of the samples. Bursts are cut in order of the largest saving per
unit of added ``log2`` overhead while the saving is positive and the total
overhead stays within ``max_sampling_overhead``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.errors import ConfigError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.allocation import AllocationProblem
    from qdframe.config import SystemConfig
    from qdframe.cost import CostReport

__all__ = ["HybridChoice", "HybridWeights", "choose_cuts", "diagonal_gate_gamma"]

#: ``gamma`` assumed for a gate whose matrix is unknown (the worst case, CZ).
WORST_GAMMA = 3.0


@dataclass(frozen=True)
class HybridWeights:
    """Weights of the hybrid cost (see the module docstring).

    Read from ``[communication] hybrid_ebit_weight``,
    ``hybrid_overhead_weight`` and ``max_sampling_overhead`` when the
    configuration has them.
    """

    ebit_weight: float = 1.0
    overhead_weight: float = 1.0
    max_sampling_overhead: float = 1000.0

    def __post_init__(self) -> None:
        if self.ebit_weight < 0 or self.overhead_weight < 0:
            raise ConfigError(
                "hybrid weights must be >= 0, got "
                f"ebit_weight={self.ebit_weight}, overhead_weight={self.overhead_weight}"
            )
        if self.max_sampling_overhead < 1:
            raise ConfigError(
                f"max_sampling_overhead must be >= 1, got {self.max_sampling_overhead}"
            )

    @classmethod
    def from_config(cls, config: SystemConfig) -> HybridWeights:
        communication = config.communication
        return cls(
            ebit_weight=float(getattr(communication, "hybrid_ebit_weight", 1.0)),
            overhead_weight=float(getattr(communication, "hybrid_overhead_weight", 1.0)),
            max_sampling_overhead=float(communication.max_sampling_overhead),
        )


@dataclass(frozen=True)
class HybridChoice:
    """Which bursts to cut and what it costs."""

    cut_bursts: frozenset[int]
    sampling_overhead: float
    ebits_saved: int
    gates_cut: int
    details: list[dict[str, Any]] = field(default_factory=list)


def diagonal_gate_gamma(operation: Any) -> float:
    """``gamma`` of the optimal cut of a diagonal two-qubit gate.

    :data:`WORST_GAMMA` when the gate's matrix is unknown.
    """
    try:
        matrix = np.asarray(operation.to_matrix(), dtype=np.complex128)
    except Exception:
        return WORST_GAMMA
    if matrix.shape != (4, 4):
        return WORST_GAMMA
    d = np.diag(matrix)
    denominator = d[1] * d[2]
    if abs(denominator) < 1e-12:
        return WORST_GAMMA
    delta = float(np.angle(d[0] * d[3] / denominator))
    return 1.0 + 2.0 * abs(math.sin(delta / 2.0))


def choose_cuts(
    circuit: QuantumCircuit | None,
    problem: AllocationProblem,
    cost: CostReport,
    weights: HybridWeights,
) -> HybridChoice:
    """Pick the bursts to cut (see the module docstring).

    :param circuit: the normalised circuit the gate rows index, for gate
        angles; without it every gate is priced as ``CZ``.
    """
    bursts = cost.bursts
    if bursts is None or not len(bursts):
        return HybridChoice(frozenset(), 1.0, 0, 0)
    candidates: list[tuple[float, int, float, int]] = []
    # A burst that copies from another, or shares a detached gate, stays quantum.
    free = bursts.independent()
    for b in range(len(bursts)):
        if not free[b]:
            continue
        lo, hi = int(bursts.gate_ptr[b]), int(bursts.gate_ptr[b + 1])
        log_overhead = 0.0
        for position in bursts.instructions[lo:hi].tolist():
            gamma = (
                diagonal_gate_gamma(circuit.data[position].operation)
                if circuit is not None
                else WORST_GAMMA
            )
            log_overhead += 2.0 * math.log2(gamma)
        saving = weights.ebit_weight * int(bursts.hops[b]) - weights.overhead_weight * log_overhead
        if saving > 0:
            ratio = saving / max(log_overhead, 1e-12)
            candidates.append((ratio, b, log_overhead, hi - lo))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    budget = math.log2(weights.max_sampling_overhead)
    used = 0.0
    chosen: set[int] = set()
    gates = 0
    details = []
    for ratio, b, log_overhead, count in candidates:
        if used + log_overhead > budget + 1e-12:
            continue
        used += log_overhead
        chosen.add(b)
        gates += count
        details.append(
            {
                "burst": b,
                "qubit": int(bursts.qubit[b]),
                "home": int(bursts.home[b]),
                "remote": int(bursts.remote[b]),
                "ebits": int(bursts.hops[b]),
                "gates": count,
                "sampling_overhead": 2.0**log_overhead,
                "saving_per_log2_overhead": ratio,
            }
        )
    saved = int(sum(int(bursts.hops[b]) for b in chosen))
    return HybridChoice(frozenset(chosen), 2.0**used, saved, gates, details)
