"""The execute stage's batching: independent seeds, checkpoints, exact totals."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.config import SystemConfig
from qdframe.context import RunContext
from qdframe.errors import ConfigError, ResourceError
from qdframe.execution import (
    BatchJob,
    ShotBatch,
    batch_seed,
    fire_job_hooks,
    marginal_counts,
    plan_batches,
    run_batches,
)
from qdframe.plugins import load_plugins
from qdframe.rundir import RunDirectory


class SerialExecutor:
    """The smallest real executor: runs jobs in order in this thread."""

    name = "serial"

    def map(self, fn, jobs, *, max_retries=0, progress=None):
        return [fn(job) for job in jobs]


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(3, 3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.x(2)
    circuit.measure([0, 1, 2], [0, 1, 2])
    return circuit


def test_batches_cover_the_shots_with_distinct_stable_seeds():
    batches = plan_batches(1050, 100, run_seed=7)
    assert [b.shots for b in batches] == [100] * 10 + [50]
    assert [b.index for b in batches] == list(range(11))
    assert len({b.seed for b in batches}) == 11
    assert batches[3].seed == batch_seed(7, 3) == plan_batches(400, 100, 7)[3].seed
    assert batch_seed(8, 3) != batch_seed(7, 3)
    with pytest.raises(ConfigError, match="shots: must be an integer from 1"):
        plan_batches(0, 10, 1)


def test_batches_are_made_on_demand_and_bounded():
    # A billion shots in batches of one: nothing is built until asked for.
    batches = plan_batches(10**9, 10**4, run_seed=5)
    assert len(batches) == 10**5
    assert batches[-1] == ShotBatch(10**5 - 1, 10**4, batch_seed(5, 10**5 - 1))
    assert [b.index for b in batches[2:4]] == [2, 3]
    assert sum(batches.shots_by_index().values()) == 10**9
    with pytest.raises(ConfigError, match="checkpoint_interval to at least 10000"):
        plan_batches(10**9, 100, run_seed=5)
    with pytest.raises(ConfigError, match="shots: must be an integer"):
        plan_batches(10**12, 10**6, run_seed=5)
    with pytest.raises(ConfigError, match="seed: must be an integer"):
        plan_batches(10, 1, run_seed=-1)
    with pytest.raises(ConfigError, match="shots: must be an integer"):
        plan_batches(True, 1, run_seed=1)  # type: ignore[arg-type]


def test_marginal_counts_follow_qiskit_bit_order():
    counts = {"101": 2, "001": 3, "100": 5}  # clbit 0 is the rightmost character
    assert marginal_counts(counts, [0]) == {"1": 5, "0": 5}
    # clbits [2, 0]: clbit 2 becomes the new bit 0 (rightmost), clbit 0 the new bit 1
    assert marginal_counts(counts, [2, 0]) == {"11": 2, "10": 3, "01": 5}
    assert marginal_counts(counts, None) == counts


def test_resumed_batches_are_not_rerun_and_totals_match(tmp_path):
    circuit = _bell()
    batches = plan_batches(600, 100, run_seed=11)
    full_dir = RunDirectory(tmp_path / "full")
    job = BatchJob(circuit, "numpy", {}, (0, 1), str(full_dir.path), False, plugins=load_plugins())
    full, info = run_batches(job, batches, SerialExecutor(), run_dir=full_dir, max_retries=0)
    assert sum(full.values()) == 600 and set(full) <= {"00", "11"}
    assert info == {"batches": 6, "resumed_batches": 0, "ran_batches": 6}

    # A second run directory that already holds batches 0, 2 and 5 (as after a crash).
    partial_dir = RunDirectory(tmp_path / "partial")
    completed = full_dir.completed_batches()
    for index in (0, 2, 5):
        partial_dir.save_batch(index, completed[index])
    job2 = BatchJob(
        circuit, "numpy", {}, (0, 1), str(partial_dir.path), False, plugins=load_plugins()
    )
    resumed, info2 = run_batches(
        job2, batches, SerialExecutor(), run_dir=partial_dir, max_retries=0
    )
    assert info2 == {"batches": 6, "resumed_batches": 3, "ran_batches": 3}
    assert resumed == full
    assert set(partial_dir.completed_batches()) == set(range(6))


class FlakyJobs:
    def __init__(self, failures):
        self.failures = dict(failures)
        self.calls = []

    @qdframe.hookimpl
    def qdframe_before_job(self, context, job_index):
        self.calls.append(job_index)
        if self.failures.get(job_index, 0) > 0:
            self.failures[job_index] -= 1
            raise ResourceError("node 2 down", node=2)


def test_job_hook_failures_are_retried_then_raised():
    plugin = FlakyJobs({1: 2})
    loaded = qdframe.load_plugins(autoload=False, plugins=[("flaky", plugin)])
    context = RunContext("r", SystemConfig())
    delays = []
    fire_job_hooks(
        loaded, context, [0, 1, 2], max_retries=2, backoff_base_s=0.1, sleep=delays.append
    )
    assert plugin.calls == [0, 1, 1, 1, 2]
    assert delays == [0.1, 0.2]
    assert context.metrics["job_retries"] == 2

    plugin = FlakyJobs({0: 5})
    loaded = qdframe.load_plugins(autoload=False, plugins=[("flaky", plugin)])
    with pytest.raises(ResourceError, match="node 2 down"):
        fire_job_hooks(loaded, context, [0], max_retries=1, backoff_base_s=0, sleep=delays.append)
