"""The memory budget is for the process: shared among the batches that run at once."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit

import qdframe.stages._memory as memory
from qdframe.config import SystemConfig
from qdframe.execution import BatchJob, plan_batches, run_batches
from qdframe.plugins import load_plugins

MIB = 1024**2


@pytest.fixture(autouse=True)
def _plenty_of_host_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "host_available_memory", lambda: None)


def _config(budget: int) -> SystemConfig:
    return SystemConfig.model_validate({"memory": {"max_memory_bytes": budget}})


def _share(qubits: int, budget: int, workers: int) -> tuple[int, int | None]:
    return memory.memory_share(QuantumCircuit(qubits, qubits), _config(budget), workers, 100)


def test_small_states_share_the_budget_among_all_workers() -> None:
    budget = 200_000_000
    share, concurrency = _share(19, budget, 4)
    assert concurrency is None  # all four run at once
    assert 4 * (share + memory.JOB_RESERVE_BYTES) <= budget
    assert share > 2 * 16 * 2**19  # still room for the state and its buffers


def test_large_states_run_fewer_at_once_each_with_a_larger_share() -> None:
    budget = 1_000_000_000
    # A 24-qubit complex128 state is 256 MiB; with its buffers one runs at a time.
    share, concurrency = _share(24, budget, 4)
    assert concurrency == 1
    assert share == budget
    share, concurrency = _share(23, budget, 4)
    assert concurrency == 3
    assert 3 * (share + memory.JOB_RESERVE_BYTES) <= budget


def test_one_worker_gets_the_whole_budget() -> None:
    share, concurrency = _share(5, 10**9, 1)
    assert (share, concurrency) == (10**9, None)


def test_the_host_bounds_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "host_available_memory", lambda: 100 * MIB)
    share, _ = _share(5, 10**12, 1)
    assert share == int(100 * MIB * 0.8)


class SerialExecutor:
    name = "serial"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def map(self, fn, jobs, *, max_retries=0, progress=None):  # type: ignore[no-untyped-def]
        self.calls.append(len(jobs))
        out = []
        for i, job in enumerate(jobs):
            out.append(fn(job))
            if progress is not None:
                progress(i + 1, len(jobs))
        return out


def test_batches_in_waves_give_the_same_counts_and_progress() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    job = BatchJob(circuit, "numpy", {}, None, None, False, plugins=load_plugins())
    batches = plan_batches(700, 100, run_seed=3)
    whole = SerialExecutor()
    expected, _ = run_batches(job, batches, whole, run_dir=None, max_retries=0)
    waves = SerialExecutor()
    seen: list[tuple[int, int]] = []
    counts, info = run_batches(
        job,
        batches,
        waves,
        run_dir=None,
        max_retries=0,
        progress=lambda done, total: seen.append((done, total)),
        concurrency=3,
    )
    assert counts == expected and sum(counts.values()) == 700
    assert whole.calls == [7] and waves.calls == [3, 3, 1]
    assert seen == [(i, 7) for i in range(1, 8)]
    assert info["ran_batches"] == 7
