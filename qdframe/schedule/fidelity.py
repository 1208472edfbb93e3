"""The fidelity estimate of a scheduled program.

The estimate is a product of independent factors (an "estimated success
probability"):

* **gates**: ``(1 - e)`` for every operation with error probability ``e``
  (single- and two-qubit gates, measurements, conditioned corrections);
* **EPR pairs**: the fidelity of every end-to-end pair a protocol consumes,
  the Werner composition (:func:`qdframe.topology.werner_fidelity`) of its
  links' (purified) pair fidelities (the gates of its swaps count as gates);
* **idle decoherence**: for every period a qubit holds a state (from its
  first operation to the reset that frees it, or to the end of the program
  for data qubits), the average fidelity of the thermal-relaxation channel
  over the time it waits, ``(3 + exp(-t/T1) + 2 exp(-t/T2)) / 6``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram, OpKind
from qdframe.schedule._deliveries import DeliveryGeometry, DeliveryTimes

__all__ = ["FidelityEstimate", "idle_log_fidelity", "pair_log_fidelity"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FidelityEstimate:
    """The estimate and its factors (each in ``(0, 1]``)."""

    total: float
    gates: float
    epr: float
    idle: float

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "gates": self.gates, "epr": self.epr, "idle": self.idle}


def pair_log_fidelity(
    program: DistributedProgram, link_fidelity: FloatArray, geometry: DeliveryGeometry
) -> float:
    """Sum of ``log F`` over the end-to-end pairs the program's protocols consume."""
    if not geometry.count:
        return 0.0
    werner = (4.0 * link_fidelity - 1.0) / 3.0
    log_w = np.log(np.maximum(werner, 1e-300))[geometry.hop_link]
    protocol = program.protocol[geometry.rows].astype(np.int64)[geometry.hop_delivery]
    size = len(program.protocol_kind)
    per_protocol = np.bincount(protocol, weights=log_w, minlength=size)
    used = np.bincount(protocol, minlength=size) > 0
    fidelity = (3.0 * np.exp(per_protocol[used]) + 1.0) / 4.0
    return float(np.log(fidelity).sum())


def idle_log_fidelity(
    program: DistributedProgram,
    start: FloatArray,
    end: FloatArray,
    makespan: float,
    t1_node: FloatArray,
    t2_node: FloatArray,
    geometry: DeliveryGeometry,
    times: DeliveryTimes,
) -> tuple[float, FloatArray]:
    """Sum of ``log F`` of idle decoherence, and busy qubit-time per physical qubit.

    A delivery keeps its near end busy while the first raw pair is made and
    its far end while the last one is made and corrected; the swap qubits of
    intermediate nodes are counted by :class:`DeliveryGeometry`.
    """
    n = program.num_operations
    pair = np.stack([program.q0, program.q1], axis=1).astype(np.int64).reshape(-1)
    valid = np.flatnonzero(pair >= 0)
    num_qubits = program.layout.num_qubits
    if not len(valid):
        return 0.0, np.zeros(num_qubits)
    qubit = pair[valid]
    row = valid // 2
    side = valid % 2
    e_start = start[row]
    e_end = end[row].copy()
    e_busy = e_end - e_start
    delivery_of_row = np.full(n, -1, dtype=np.int64)
    delivery_of_row[geometry.rows] = np.arange(geometry.count, dtype=np.int64)
    d = delivery_of_row[row]
    near = np.flatnonzero((d >= 0) & (side == 0))
    e_end[near] = e_start[near] + times.near[d[near]]
    e_busy[near] = times.near[d[near]]
    far = np.flatnonzero((d >= 0) & (side == 1))
    e_busy[far] = times.far_busy[d[far]]
    order = np.lexsort((row, qubit))
    qubit, row = qubit[order], row[order]
    e_start, e_end, e_busy = e_start[order], e_end[order], e_busy[order]
    is_reset = program.kind[row] == OpKind.RESET
    # A reset closes the period it belongs to; the next operation opens a new one.
    first = np.ones(len(qubit), dtype=bool)
    first[1:] = (qubit[1:] != qubit[:-1]) | is_reset[:-1]
    period = np.cumsum(first) - 1
    count = int(period[-1]) + 1
    p_start = np.full(count, np.inf)
    np.minimum.at(p_start, period, e_start)
    p_end = np.zeros(count)
    np.maximum.at(p_end, period, e_end)
    busy = np.bincount(period, weights=e_busy, minlength=count)
    p_qubit = np.zeros(count, dtype=np.int64)
    p_qubit[period] = qubit
    p_reset = np.zeros(count, dtype=bool)
    p_reset[period[is_reset]] = True
    # Data qubits that still hold a logical qubit wait until the program ends.
    holding = np.zeros(num_qubits, dtype=bool)
    holding[program.layout.final] = True
    last_of_qubit = np.ones(count, dtype=bool)
    last_of_qubit[:-1] = p_qubit[1:] != p_qubit[:-1]
    extend = last_of_qubit & ~p_reset & holding[p_qubit]
    p_end = np.where(extend, makespan, p_end)
    idle = np.maximum(p_end - p_start - busy, 0.0)
    node = program.layout.qubit_node[p_qubit]
    t1, t2 = t1_node[node], t2_node[node]
    factor = (3.0 + np.exp(-idle / t1) + 2.0 * np.exp(-idle / t2)) / 6.0
    per_qubit_busy = np.asarray(
        np.bincount(p_qubit, weights=busy, minlength=num_qubits), dtype=np.float64
    )
    return float(np.log(factor).sum()) + times.interior_log_idle, per_qubit_busy
