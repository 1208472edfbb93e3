"""The execute stage: shots split into batches, run through an executor, checkpointed.

A run of ``S`` shots is split into batches of ``[recovery] checkpoint_interval``
shots. Batch ``i`` gets its own seed derived from the run's seed and ``i``
alone, so a batch gives the same counts whether it runs first, last, on
another worker or after a resume. Each batch's counts are written to the run
directory as soon as it finishes; a resumed run skips the batches already on
disk. Nothing is lost and nothing is counted twice: the total is the sum over
batch indices, each present once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.rundir import RunDirectory

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.context import RunContext
    from qdframe.noise import NoiseModel
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Executor

__all__ = [
    "BatchJob",
    "ShotBatch",
    "batch_seed",
    "fire_job_hooks",
    "marginal_counts",
    "plan_batches",
    "run_batches",
]


@dataclass(frozen=True)
class ShotBatch:
    """``shots`` shots of the circuit, as batch ``index`` with its own ``seed``."""

    index: int
    shots: int
    seed: int


def batch_seed(run_seed: int, index: int) -> int:
    """The seed of batch ``index``: independent of every other batch."""
    state = np.random.SeedSequence(run_seed, spawn_key=(index,)).generate_state(1, np.uint32)
    return int(state[0])


def plan_batches(shots: int, batch_shots: int, run_seed: int) -> list[ShotBatch]:
    """Split ``shots`` into batches of at most ``batch_shots``."""
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    if batch_shots < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_shots}")
    count = -(-shots // batch_shots)
    return [
        ShotBatch(i, min(batch_shots, shots - i * batch_shots), batch_seed(run_seed, i))
        for i in range(count)
    ]


def marginal_counts(counts: dict[str, int], clbits: Sequence[int] | None) -> dict[str, int]:
    """Counts over the classical bits ``clbits`` only (Qiskit order: first is rightmost).

    ``None`` keeps every bit.
    """
    if clbits is None:
        return dict(counts)
    marginal: Counter[str] = Counter()
    for key, value in counts.items():
        width = len(key)
        marginal["".join(key[width - 1 - b] for b in reversed(clbits))] += value
    return dict(marginal)


@dataclass(frozen=True)
class BatchJob:
    """Runs one batch on a backend built in the worker, and checkpoints it.

    Picklable, so process pools and Dask workers can run it; ``plugins`` is
    the run's plugin set, which the worker builds the backend from.
    """

    circuit: QuantumCircuit
    backend: str
    backend_options: dict[str, Any]
    clbits: tuple[int, ...] | None
    run_dir: str | None
    compress: bool
    noise: NoiseModel | None = None
    plugins: LoadedPlugins = field(kw_only=True)

    def __call__(self, batch: ShotBatch) -> dict[str, int]:
        from qdframe.backend import get_backend

        backend = get_backend(self.backend, plugins=self.plugins, **self.backend_options)
        result = backend.run(self.circuit, shots=batch.shots, seed=batch.seed, noise=self.noise)
        assert not isinstance(result, list)
        counts = marginal_counts(result.counts, self.clbits)
        if self.run_dir is not None:
            RunDirectory(self.run_dir, compress=self.compress).save_batch(batch.index, counts)
        return counts


def fire_job_hooks(
    plugins: LoadedPlugins,
    context: RunContext,
    indices: Sequence[int],
    *,
    max_retries: int,
    backoff_base_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Fire ``qdframe_before_job`` for each job, retrying a job whose hook raised.

    A job whose hook still raises after ``max_retries`` retries fails the
    execute stage with that error, which then goes to ``qdframe_handle_error``.
    """
    for index in indices:
        for attempt in range(max_retries + 1):
            try:
                plugins.hook.qdframe_before_job(context=context, job_index=index)
                break
            except Exception:
                if attempt == max_retries:
                    raise
                context.metrics["job_retries"] = context.metrics.get("job_retries", 0) + 1
                sleep(backoff_base_s * 2**attempt)


def run_batches(
    job: BatchJob,
    batches: Sequence[ShotBatch],
    executor: Executor,
    *,
    run_dir: RunDirectory | None,
    max_retries: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, int], dict[str, Any]]:
    """Run the batches not yet checkpointed; return total counts and bookkeeping.

    :returns: the counts summed over every batch (resumed ones included) and a
        dict with ``batches``, ``resumed_batches`` and ``ran_batches``.
    """
    done = run_dir.completed_batches() if run_dir is not None else {}
    wanted = {batch.index for batch in batches}
    done = {i: c for i, c in done.items() if i in wanted}
    todo = [batch for batch in batches if batch.index not in done]
    results = executor.map(job, todo, max_retries=max_retries, progress=progress) if todo else []
    total: Counter[str] = Counter()
    for counts in [*done.values(), *results]:
        total.update(counts)
    info = {"batches": len(batches), "resumed_batches": len(done), "ran_batches": len(todo)}
    return dict(total), info
