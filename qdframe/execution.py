"""The execute stage: shots split into batches, run through an executor, checkpointed.

A run of ``S`` shots is split into batches of ``[recovery] checkpoint_interval``
shots. Batch ``i`` gets its own seed derived from the run's seed and ``i``
alone, so a batch gives the same counts whether it runs first, last, on
another worker or after a resume. Each batch's counts are written to the run
directory as soon as it finishes; a resumed run skips the batches already on
disk whose checkpoints pass their checks (see :mod:`qdframe.rundir`). Nothing
is lost and nothing is counted twice: the total is the sum over batch
indices, each present once.

A run's shot count is checked by :func:`check_shots`, which is
:func:`qdframe.backend.validate_shots` with a minimum of one shot (the one
shot check, raising :class:`~qdframe.backend.ShotsError`, a
:class:`~qdframe.errors.ConfigError`); seeds by :func:`check_seed`. The
batches are made on demand (:class:`ShotBatches`), never all up front.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.backend import MAX_SHOTS, validate_shots
from qdframe.errors import ConfigError
from qdframe.rundir import RunDirectory

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.context import RunContext
    from qdframe.noise import NoiseModel
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Executor

__all__ = [
    "MAX_BATCHES",
    "MAX_SEED",
    "MAX_SHOTS",
    "BatchJob",
    "ShotBatch",
    "ShotBatches",
    "batch_seed",
    "check_seed",
    "check_shots",
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


#: Most batches (checkpoints) one run may have.
MAX_BATCHES = 100_000
#: Largest seed (seeds are non-negative 63-bit integers).
MAX_SEED = 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_shots(shots: object) -> int:
    """Return ``shots`` when it is a whole number from 1 to :data:`MAX_SHOTS`.

    :raises qdframe.backend.ShotsError: it is not an integer or is out of
        that range (a :class:`~qdframe.errors.ConfigError`).
    """
    return validate_shots(shots, minimum=1)


def check_seed(seed: object) -> int:
    """Return ``seed`` when it is a whole number from 0 to :data:`MAX_SEED`.

    :raises ConfigError: it is not an integer or is out of that range.
    """
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED:
        return seed
    raise ConfigError(f"must be an integer from 0 to {MAX_SEED}, got {seed!r}", key_path="seed")


class ShotBatches(Sequence[ShotBatch]):
    """The batches of a run, each made when it is asked for.

    :param shots: the run's shots (checked by :func:`check_shots`).
    :param batch_shots: shots per batch (the last one may have fewer).
    :param run_seed: the run's seed (checked by :func:`check_seed`).
    :raises ConfigError: an argument is out of range, or the run would have
        more than :data:`MAX_BATCHES` batches.
    """

    def __init__(self, shots: int, batch_shots: int, run_seed: int) -> None:
        self.shots = check_shots(shots)
        if not _is_int(batch_shots) or batch_shots < 1:
            raise ConfigError(
                f"batch size must be an integer >= 1, got {batch_shots!r}",
                key_path="recovery.checkpoint_interval",
            )
        self.batch_shots = batch_shots
        self.run_seed = check_seed(run_seed)
        self._count = -(-self.shots // batch_shots)
        if self._count > MAX_BATCHES:
            raise ConfigError(
                f"{self.shots} shots in batches of {batch_shots} make {self._count} "
                f"checkpoints, more than {MAX_BATCHES}; raise [recovery] "
                f"checkpoint_interval to at least {-(-self.shots // MAX_BATCHES)}",
                key_path="recovery.checkpoint_interval",
            )

    def __len__(self) -> int:
        return self._count

    def _batch(self, index: int) -> ShotBatch:
        start = index * self.batch_shots
        shots = min(self.batch_shots, self.shots - start)
        return ShotBatch(index, shots, batch_seed(self.run_seed, index))

    def __getitem__(self, item: int | slice) -> Any:
        if isinstance(item, slice):
            return [self._batch(i) for i in range(self._count)[item]]
        index = range(self._count)[item]  # negative indices and IndexError as for a list
        return self._batch(index)

    def __iter__(self) -> Iterator[ShotBatch]:
        return (self._batch(i) for i in range(self._count))

    def shots_by_index(self) -> dict[int, int]:
        """Each batch's shot count, by index."""
        last = self._count - 1
        tail = self.shots - last * self.batch_shots
        return {i: self.batch_shots if i < last else tail for i in range(self._count)}


def plan_batches(shots: int, batch_shots: int, run_seed: int) -> ShotBatches:
    """Split ``shots`` into batches of at most ``batch_shots`` (made on demand).

    :raises ConfigError: see :class:`ShotBatches`.
    """
    return ShotBatches(shots, batch_shots, run_seed)


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
    run_key: str = ""
    plugins: LoadedPlugins = field(kw_only=True)

    def __call__(self, batch: ShotBatch) -> dict[str, int]:
        from qdframe.backend import get_backend

        backend = get_backend(self.backend, plugins=self.plugins, **self.backend_options)
        result = backend.run(
            self.circuit, shots=batch.shots, seed=batch.seed, noise=self.noise
        ).single()
        counts = marginal_counts(result.counts, self.clbits)
        if self.run_dir is not None:
            RunDirectory(self.run_dir, compress=self.compress).save_batch(
                batch.index, counts, shots=batch.shots, key=self.run_key
            )
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
    concurrency: int | None = None,
) -> tuple[dict[str, int], dict[str, Any]]:
    """Run the batches not yet checkpointed; return total counts and bookkeeping.

    :param concurrency: run at most this many batches at once (in waves), so
        that the memory of that many simulations fits the budget; ``None``
        leaves it to the executor.
    :returns: the counts summed over every batch (resumed ones included) and a
        dict with ``batches``, ``resumed_batches`` and ``ran_batches``.
    """
    if run_dir is not None:
        wanted = (
            batches.shots_by_index()
            if isinstance(batches, ShotBatches)
            else {batch.index: batch.shots for batch in batches}
        )
        done = run_dir.completed_batches(key=job.run_key, shots=wanted)
    else:
        done = {}
    todo = [batch for batch in batches if batch.index not in done]
    results = _map_in_waves(job, todo, executor, max_retries, progress, concurrency)
    total: Counter[str] = Counter()
    for counts in [*done.values(), *results]:
        total.update(counts)
    info = {"batches": len(batches), "resumed_batches": len(done), "ran_batches": len(todo)}
    return dict(total), info


def _map_in_waves(
    job: BatchJob,
    todo: list[ShotBatch],
    executor: Executor,
    max_retries: int,
    progress: Callable[[int, int], None] | None,
    concurrency: int | None,
) -> list[dict[str, int]]:
    if not todo:
        return []
    step = len(todo) if concurrency is None else max(1, concurrency)
    results: list[dict[str, int]] = []
    for start in range(0, len(todo), step):
        wave = todo[start : start + step]
        report = None
        if progress is not None:

            def report(done: int, _total: int, _offset: int = start) -> None:
                progress(_offset + done, len(todo))

        results.extend(executor.map(job, wave, max_retries=max_retries, progress=report))
    return results
