"""One simulation for a distributed circuit, however many shots it runs.

A distributed circuit (one built by ``DistributedProgram.to_circuit()``,
recognised by its ``metadata["qdframe"]`` layout) measures communication
qubits and corrects the outcomes away, so the data state does not depend on
them. :func:`run_merged` simulates it once with every measurement history
merged as soon as histories become indistinguishable
(:func:`qdframe.distribute.exact.simulate_histories`): exact for any
program, not only correct ones. All shots are then drawn from the final
histories; only histories that the source circuit's own classical bits keep
apart (a mid-circuit measurement that branches) stay separate.

Protocol bits, whose values the merge forgets, read 0 in the counts; the
source circuit's bits and its final measurements are sampled exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit

from qdframe.plugin import ResourceError

__all__ = ["distributed_layout", "run_merged"]

#: Distinct histories kept before falling back to trajectories.
_MAX_HISTORIES = 64


def distributed_layout(circuit: QuantumCircuit) -> list[int] | None:
    """The source classical bits of a distributed circuit, or ``None`` for other circuits."""
    record = (circuit.metadata or {}).get("qdframe")
    if not isinstance(record, Mapping) or "source_clbits" not in record:
        return None
    return [int(b) for b in record["source_clbits"]]


def run_merged(
    circuit: QuantumCircuit,
    shots: int,
    rng: np.random.Generator,
    *,
    max_width: int,
    max_bytes: int,
) -> tuple[npt.NDArray[np.uint8], dict[str, Any]] | None:
    """Rows of classical bits (clbit ``i`` in column ``i``), one per shot, and statistics.

    ``None`` when the circuit is not distributed or its histories do not
    merge within the limits (the caller then runs trajectories).
    """
    from qdframe.plugin import simulate_histories

    record = distributed_layout(circuit)
    if record is None:
        return None
    try:
        sim = simulate_histories(
            circuit,
            record=record,
            skip_terminal=True,
            max_width=max_width,
            max_histories=_MAX_HISTORIES,
            max_bytes=max_bytes,
        )
    except ResourceError:
        return None
    histories = sim.histories
    weights = np.array([h.probability for h in histories])
    counts = rng.multinomial(shots, weights / weights.sum())
    rows = np.zeros((shots, circuit.num_clbits), dtype=np.uint8)
    mask = 0
    for b in record:
        mask |= 1 << b
    start = 0
    for history, count in zip(histories, counts.tolist(), strict=True):
        if not count:
            continue
        block = rows[start : start + count]
        bits = history.bits & mask
        for clbit in range(circuit.num_clbits):
            if (bits >> clbit) & 1:
                block[:, clbit] = 1
        if sim.terminal:
            flat = np.abs(history.tensor.reshape(-1)) ** 2
            cumulative = np.cumsum(flat)
            draws = rng.random(count) * cumulative[-1]
            picks = np.minimum(np.searchsorted(cumulative, draws, side="right"), flat.size - 1)
            width = len(history.active)
            for qubit, clbit in sim.terminal:
                if qubit in history.active:
                    axis = history.active.index(qubit)
                    block[:, clbit] = (picks >> (width - 1 - axis)) & 1
                else:
                    block[:, clbit] = (history.fixed >> qubit) & 1
        start += count
    if len(histories) > 1:
        rows = rows[rng.permutation(shots)]
    stats = {
        "histories": len(histories),
        "peak_histories": sim.peak_histories,
        "peak_width": sim.peak_width,
        "peak_bytes": sim.peak_bytes,
        "merges": sim.merges,
    }
    return rows, stats
