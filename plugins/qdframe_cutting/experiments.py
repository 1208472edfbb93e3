"""Running cutting sub-experiments through an executor and reading their results.

Each sub-experiment is one job: the circuit, its shot count and seed, and
which classical bits hold the observable and the QPD measurements. A job
runs on a registered backend (the numpy backend by default, inside the
worker), packs the two bit registers of every shot and returns them
zstd-compressed, as a worker on another machine would send them back. The
results become the ``PrimitiveResult`` objects qiskit-addon-cutting's
reconstruction reads, optionally split into batches of shots so that the
spread of the batch estimates gives a standard error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import LoadedPlugins, SystemConfig

__all__ = ["ExperimentJob", "JobOutput", "primitive_results", "run_jobs"]

_REGISTERS = ("observable_measurements", "qpd_measurements")


@dataclass(frozen=True)
class ExperimentJob:
    """One sub-experiment to run (picklable, for process pools and Dask)."""

    circuit: QuantumCircuit
    shots: int
    seed: int
    backend: str
    observable_bits: tuple[int, ...]
    qpd_bits: tuple[int, ...]


@dataclass(frozen=True)
class JobOutput:
    """The packed bits of every shot of one sub-experiment, zstd-compressed."""

    shots: int
    observable_width: int
    qpd_width: int
    payload: bytes
    raw_bytes: int

    def arrays(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
        """Per-shot bits of the two registers, ``(shots, width)`` each, clbit 0 first."""
        import zstandard

        raw = zstandard.ZstdDecompressor().decompress(self.payload, max_output_size=self.raw_bytes)
        width = self.observable_width + self.qpd_width
        columns = max(width, 1)
        packed = np.frombuffer(raw, dtype=np.uint8).reshape(self.shots, -1)
        bits = np.unpackbits(packed, axis=1, count=columns)[:, :width]
        return bits[:, : self.observable_width], bits[:, self.observable_width :]


def register_bits(circuit: QuantumCircuit) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Clbit positions of the observable and QPD measurement registers."""
    found = {reg.name: tuple(circuit.find_bit(b).index for b in reg) for reg in circuit.cregs}
    return found.get(_REGISTERS[0], ()), found.get(_REGISTERS[1], ())


@dataclass(frozen=True)
class _Runner:
    """Runs jobs with the run's plugin set (picklable: the set travels by recipe)."""

    plugins: LoadedPlugins

    def __call__(self, job: ExperimentJob) -> JobOutput:
        return run_job(job, self.plugins)


def run_job(job: ExperimentJob, plugins: LoadedPlugins) -> JobOutput:
    """Run one sub-experiment (in a worker) on a backend from ``plugins``; pack its shots."""
    import zstandard

    from qdframe.plugin import get_backend

    backend = get_backend(job.backend, plugins=plugins)
    result = backend.run(job.circuit, shots=job.shots, seed=job.seed, memory=True).single()
    memory = result.memory or []
    width = job.circuit.num_clbits
    rows = np.zeros((len(memory), len(job.observable_bits) + len(job.qpd_bits)), dtype=np.uint8)
    picks = list(job.observable_bits) + list(job.qpd_bits)
    for s, key in enumerate(memory):
        bits = key.replace(" ", "")
        rows[s] = [bits[width - 1 - p] == "1" for p in picks]
    packed = np.packbits(rows, axis=1) if rows.shape[1] else np.zeros((len(memory), 1), np.uint8)
    raw = packed.tobytes()
    return JobOutput(
        shots=len(memory),
        observable_width=len(job.observable_bits),
        qpd_width=len(job.qpd_bits),
        payload=zstandard.ZstdCompressor(level=3).compress(raw),
        raw_bytes=len(raw),
    )


def _executor(config: SystemConfig, plugins: LoadedPlugins) -> Any:
    """The configured executor, or ``None`` when the registry has none."""
    name = config.resources.executor
    if name not in plugins.registries.executors:
        return None
    # Every executor factory takes config= (the registry checks it on add).
    return plugins.registries.executors.get(name)(config=config)


def run_jobs(
    jobs: Sequence[ExperimentJob],
    config: SystemConfig,
    *,
    plugins: LoadedPlugins,
    executor: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[JobOutput]:
    """Run every job through ``executor`` (the configured one when omitted;
    one after another when no executor is registered), with backends from
    ``plugins``."""
    retries = config.recovery.max_retries
    runner = _Runner(plugins)
    if executor is not None:
        return list(executor.map(runner, list(jobs), max_retries=retries, progress=progress))
    owned = _executor(config, plugins)
    if owned is None:
        outputs = []
        for done, job in enumerate(jobs, start=1):
            outputs.append(runner(job))
            if progress is not None:
                progress(done, len(jobs))
        return outputs
    with owned:
        return list(owned.map(runner, list(jobs), max_retries=retries, progress=progress))


def primitive_results(
    outputs: Sequence[JobOutput], batch: int | None = None, batches: int = 1
) -> Any:
    """The outputs as a ``PrimitiveResult``; only shots of ``batch`` (shot ``s``
    is in batch ``s % batches``) when a batch is given."""
    from qiskit.primitives import BitArray, DataBin, PrimitiveResult, SamplerPubResult

    pubs = []
    for output in outputs:
        observable, qpd = output.arrays()
        if batch is not None:
            observable, qpd = observable[batch::batches], qpd[batch::batches]
        data = DataBin(
            observable_measurements=_bit_array(BitArray, observable),
            qpd_measurements=_bit_array(BitArray, qpd),
        )
        pubs.append(SamplerPubResult(data))
    return PrimitiveResult(pubs)


def _bit_array(cls: Any, bits: npt.NDArray[np.uint8]) -> Any:
    """Bits ``(shots, width)`` (clbit 0 first) as a BitArray: big-endian bytes,
    highest clbit first, left-padded to whole bytes."""
    shots, width = bits.shape
    if width == 0:
        return cls(np.zeros((shots, 0), dtype=np.uint8), 0)
    pad = np.zeros((shots, (-width) % 8), dtype=np.uint8)
    return cls(np.packbits(np.concatenate([pad, bits[:, ::-1]], axis=1), axis=1), width)
