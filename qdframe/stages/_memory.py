"""How much of the memory budget each concurrent job of the execute stage gets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig

__all__ = ["JOB_RESERVE_BYTES", "host_available_memory", "host_memory", "memory_share"]

#: Memory one batch holds besides what its simulator checks against its share.
JOB_RESERVE_BYTES = 16 * 1024**2
#: Share of the budget kept back when several batches run at once.
_BUDGET_HEADROOM = 0.1


def memory_share(
    circuit: QuantumCircuit, config: SystemConfig, workers: int, batch_shots: int
) -> tuple[int, int | None]:
    """Each concurrent job's share of the memory budget, and how many may run at once.

    The budget (``[memory] max_memory_bytes``, at most what the host has
    available) is for the whole process, so it is divided among the jobs
    that run together, less a reserve per job and a headroom for what the
    simulators do not count. When one job's state needs more than an equal
    share, fewer jobs run at once (down to one, which gets the whole budget).
    """
    from qdframe.backend import AVAILABLE_MEMORY_FRACTION, statevector_bytes

    budget = config.memory.max_memory_bytes
    available = host_available_memory()
    if available is not None:
        budget = min(budget, int(available * AVAILABLE_MEMORY_FRACTION))
    precision = config.acceleration.precision
    # A state and as much again for the simulator's buffers (its own check
    # is exact; this only chooses how many run at once), plus the sampled
    # table and its integer keys.
    need = 2 * statevector_bytes(circuit.num_qubits, precision) + batch_shots * (
        circuit.num_clbits + 24
    )
    # Each job also holds memory outside the simulator's own check (its copy
    # of the circuit, the compiled program, Python objects, the result).
    usable = int(budget * (1 - _BUDGET_HEADROOM))
    parallel = max(1, min(workers, usable // (need + JOB_RESERVE_BYTES)))
    concurrency = None if parallel >= workers else parallel
    if parallel == 1:
        return budget, concurrency
    return max(1, usable // parallel - JOB_RESERVE_BYTES), concurrency


def host_available_memory() -> int | None:
    """Memory the host has available now, or ``None`` when it cannot be read."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # memory is a budget hint, not a requirement
        return None


def host_memory() -> int | None:
    """The host's total memory, or ``None`` when it cannot be read."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # memory is a budget hint, not a requirement
        return None
