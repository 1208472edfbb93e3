"""The numpy statevector backend: qdframe's default simulator."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit

from qdframe.plugin import (
    BackendCapabilities,
    BackendResult,
    BackendResults,
    InvalidCircuitError,
    MemoryBudget,
    NoiseModel,
    ResourceError,
    check_memory,
    format_bytes,
    memory_budget,
    statevector_bytes,
    validate_shots,
)
from qdframe_numpy.compiler import SUPPORTED_OPERATIONS, CompileOptions, compile_circuit
from qdframe_numpy.engine import Engine
from qdframe_numpy.histories import run_merged
from qdframe_numpy.kernels import diagonal_table_entries, workspace_elements
from qdframe_numpy.options import BACKEND_NAME, NumpyOptions
from qdframe_numpy.parallel import Runner, available_cores, single_threaded_blas
from qdframe_numpy.program import DenseBlock, DiagonalBlock, Program
from qdframe_numpy.spill import SpillArea, check_disk, spill_root

__all__ = ["NumpyBackend"]

#: Below this width a state fits in cache and one thread is fastest.
_PARALLEL_MIN_QUBITS = 14

_ADVICE = (
    "Use precision='complex64' (half the memory), another backend (e.g. 'aer' with "
    "method='matrix_product_state'), or cut the circuit (communication mode 'classical')"
)


def _fixed_bytes(
    num_qubits: int, itemsize: int, chunk_qubits: int, threads: int, program: Program | None
) -> int:
    """Memory besides the statevectors: kernel buffers, sampling, the program."""
    widest = program.widest_block if program is not None else 0
    elements = workspace_elements(num_qubits, widest, chunk_qubits)
    # Two kernel buffers per thread plus float64 probabilities and cumulative
    # sums when sampling.
    fixed = 2 * elements * itemsize * threads + 4 * elements * 8
    if program is not None:
        # Each block's matrix or phase table, in the program and cast for the engine.
        for block in program.blocks:
            if isinstance(block, DenseBlock):
                fixed += block.matrix.nbytes + block.matrix.size * itemsize
            else:
                entries = diagonal_table_entries(num_qubits, block.qubits)
                fixed += block.phases.nbytes + entries * (16 + itemsize)
    return fixed


def _bitstrings(table: npt.NDArray[np.uint8]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """Distinct rows as Qiskit bitstrings (column 0 rightmost) and each row's key."""
    width = table.shape[1]
    if width == 0:
        return [""], np.zeros(len(table), dtype=np.intp)
    if width <= 63:
        weights = np.left_shift(np.uint64(1), np.arange(width, dtype=np.uint64))
        values = table.astype(np.uint64) @ weights
        distinct, inverse = np.unique(values, return_inverse=True)
        return [format(int(v), f"0{width}b") for v in distinct], inverse.reshape(-1)
    rows, inverse = np.unique(table, axis=0, return_inverse=True)
    keys = ["".join("1" if bit else "0" for bit in row[::-1]) for row in rows]
    return keys, inverse.reshape(-1)


class NumpyBackend:
    """Statevector simulator on numpy with gate fusion, trajectories and noise.

    Create it through ``qdframe.get_backend("numpy", **options)``; the options
    are those of :class:`~qdframe_numpy.options.NumpyOptions`.

    :raises ConfigError: an unknown option or an invalid value.
    """

    name = BACKEND_NAME

    def __init__(self, **options: Any) -> None:
        self.options = NumpyOptions.from_kwargs(options)
        self._dtype = np.dtype(self.options.precision)
        self._threads = self.options.threads or available_cores()

    def __repr__(self) -> str:
        return f"NumpyBackend({self.options})"

    # -- capabilities -------------------------------------------------------

    def _budget(self) -> MemoryBudget:
        return memory_budget(self.options.max_memory_bytes)

    def _largest(self, precision: str, budget: int, disk: int | None = None) -> int:
        """Widest state that fits ``budget``; with ``disk``, the state may go to disk instead."""
        itemsize = np.dtype(precision).itemsize
        qubits = 0
        while True:
            state = statevector_bytes(qubits + 1, precision)
            fixed = _fixed_bytes(
                qubits + 1, itemsize, self.options.chunk_qubits, self._threads, None
            )
            fits = state + fixed <= budget or (
                disk is not None and fixed <= budget and state <= disk
            )
            if not fits:
                return qubits
            qubits += 1

    def _free_disk(self) -> int | None:
        """Free bytes where spilled states go, when spilling is on and the folder exists."""
        if not self.options.spill_to_disk:
            return None
        try:
            return shutil.disk_usage(spill_root(self.options.spill_dir)).free
        except (OSError, ResourceError):
            return None

    @property
    def capabilities(self) -> BackendCapabilities:
        """Capabilities for the memory available now (``max_qubits`` per precision)."""
        budget = self._budget().bytes
        disk = self._free_disk()
        return BackendCapabilities(
            name=self.name,
            max_qubits={p: self._largest(p, budget, disk) for p in ("complex128", "complex64")},
            supported_operations=SUPPORTED_OPERATIONS,
            noise=True,
            mid_circuit_measurement=True,
            classical_conditions=True,
            statevector=True,
            devices=("cpu",),
            methods=("statevector", "trajectories"),
        )

    # -- running ------------------------------------------------------------

    def run(
        self,
        circuits: QuantumCircuit | Sequence[QuantumCircuit],
        shots: int = 1024,
        seed: int | None = None,
        noise: NoiseModel | None = None,
        *,
        memory: bool = False,
    ) -> BackendResults:
        """Run one circuit or a sequence; one result per circuit, in order.

        :param circuits: the circuit(s); parameters must be bound.
        :param shots: samples per circuit; ``0`` returns the exact statevector
            of a circuit without measurements.
        :param seed: makes results reproducible; circuit ``i`` of a batch uses
            the stream ``SeedSequence(seed, spawn_key=(i,))``, so a circuit run
            alone and first in a batch gives the same result.
        :param noise: a :class:`qdframe.noise.NoiseModel`; requires ``shots > 0``.
        :param memory: also return each shot's bitstring, in shot order.
        :raises InvalidCircuitError: the circuit cannot run here (the message
            says why).
        :raises ResourceError: the state would not fit in memory; raised
            before anything large is allocated.
        """
        validate_shots(shots)
        if noise is not None and not isinstance(noise, NoiseModel):
            raise InvalidCircuitError(
                f"noise must be a qdframe.noise.NoiseModel, got {type(noise).__name__}"
            )
        batch = [circuits] if isinstance(circuits, QuantumCircuit) else list(circuits)
        return BackendResults(
            self._run_one(circuit, shots, self._seed(seed, i), noise, memory)
            for i, circuit in enumerate(batch)
        )

    @staticmethod
    def _seed(seed: int | None, index: int) -> np.random.SeedSequence:
        if seed is None:
            return np.random.SeedSequence()
        return np.random.SeedSequence(seed, spawn_key=(index,))

    def _compile(self, circuit: QuantumCircuit, noise: NoiseModel | None) -> Program:
        options = CompileOptions(
            backend=self.name,
            max_dense_qubits=self.options.fusion_max_qubits,
            itemsize=self.options.itemsize,
        )
        return compile_circuit(circuit, noise, options)

    def preflight(self, circuit: QuantumCircuit, noise: NoiseModel | None = None) -> None:
        """Refuse, as :meth:`run` would, a circuit whose state does not fit the memory now.

        With ``spill_to_disk`` a state larger than the budget fits when the
        kernel buffers fit the budget and the state fits the free disk space.
        The HAL asks this before choosing the backend for a run.

        :raises ResourceError: the statevector and the compiled program need
            more than the budget (and, spilling, the state more than the disk has).
        :raises InvalidCircuitError: the circuit cannot be compiled.
        """
        self._fit(circuit, noise, self._budget())

    def _fit(
        self, circuit: QuantumCircuit, noise: NoiseModel | None, budget: MemoryBudget
    ) -> tuple[Program, int, bool]:
        """The compiled program, its fixed bytes and whether the state spills to disk,
        once the checks against ``budget`` (and the disk) pass."""
        precision = self.options.precision
        num_qubits = circuit.num_qubits
        chunk_qubits = self.options.chunk_qubits
        itemsize = self.options.itemsize
        state_bytes = statevector_bytes(num_qubits, precision)
        what = f"a {num_qubits}-qubit {precision} statevector ({format_bytes(state_bytes)})"
        # Before compiling (which allocates the block tables), then with them.
        bare = _fixed_bytes(num_qubits, itemsize, chunk_qubits, self._threads, None)
        spill = self.options.spill_to_disk and state_bytes + bare > budget.bytes
        if spill:
            buffers = f"running {what} from disk (its kernel buffers)"
            check_memory(bare, budget, what=buffers, backend=self.name, advice=_ADVICE)
            check_disk(state_bytes, self.options.spill_dir, what=what)
        else:
            check_memory(state_bytes + bare, budget, what=what, backend=self.name, advice=_ADVICE)
        program = self._compile(circuit, noise)
        fixed = _fixed_bytes(num_qubits, itemsize, chunk_qubits, self._threads, program)
        if spill:
            check_memory(fixed, budget, what=buffers, backend=self.name, advice=_ADVICE)
        else:
            check_memory(state_bytes + fixed, budget, what=what, backend=self.name, advice=_ADVICE)
        return program, fixed, spill

    def _check_request(self, program: Program, shots: int, circuit: QuantumCircuit) -> None:
        if shots == 0 and program.has_measurements:
            raise InvalidCircuitError(
                f"shots=0 asks for the exact statevector, which circuit {circuit.name!r} does "
                "not have because it measures; remove the measurements "
                "(circuit.remove_final_measurements()) or run with shots > 0"
            )
        if shots == 0 and program.has_noise:
            raise InvalidCircuitError(
                "shots=0 asks for the exact statevector, but a noisy circuit ends in a "
                "mixed state; run with shots > 0"
            )

    @staticmethod
    def _execute(engine: Engine, shots: int, memory: bool) -> BackendResult:
        result = BackendResult()
        if shots == 0:
            result.statevector = engine.statevector()
            return result
        table = engine.sample(shots)
        keys, inverse = _bitstrings(table)
        tallies = np.bincount(inverse, minlength=len(keys))
        result.counts = {key: int(n) for key, n in zip(keys, tallies, strict=True) if n}
        if memory:
            result.memory = [keys[i] for i in inverse]
        return result

    def _merged_result(
        self,
        merged: tuple[npt.NDArray[np.uint8], dict[str, Any]],
        circuit: QuantumCircuit,
        shots: int,
        memory: bool,
        started: float,
    ) -> BackendResult:
        table, stats = merged
        result = BackendResult()
        keys, inverse = _bitstrings(table)
        tallies = np.bincount(inverse, minlength=len(keys))
        result.counts = {key: int(n) for key, n in zip(keys, tallies, strict=True) if n}
        if memory:
            result.memory = [keys[i] for i in inverse]
        result.metadata = {
            "backend": self.name,
            "time_s": time.perf_counter() - started,
            "peak_bytes": int(stats["peak_bytes"]),
            "method": "merged-histories",
            "precision": "complex128",
            "num_qubits": circuit.num_qubits,
            "shots": shots,
            "threads": 1,
            "histories": stats,
        }
        return result

    def _run_one(
        self,
        circuit: QuantumCircuit,
        shots: int,
        seed: np.random.SeedSequence,
        noise: NoiseModel | None,
        memory: bool,
    ) -> BackendResult:
        started = time.perf_counter()
        if not isinstance(circuit, QuantumCircuit):
            raise InvalidCircuitError(
                f"backend {self.name!r} runs qiskit.QuantumCircuit objects, "
                f"got {type(circuit).__name__}"
            )
        num_qubits = circuit.num_qubits
        chunk_qubits = self.options.chunk_qubits
        threads = self._threads
        budget = self._budget()
        if shots > 0 and (noise is None or noise.is_ideal):
            # A distributed circuit's protocol outcomes are corrected away:
            # one merged simulation serves every shot.
            merged = run_merged(
                circuit,
                shots,
                np.random.default_rng(seed),
                max_width=self._largest("complex128", budget.bytes),
                max_bytes=budget.bytes // 2,
            )
            if merged is not None:
                return self._merged_result(merged, circuit, shots, memory, started)
        program, fixed, spill = self._fit(circuit, noise, budget)
        self._check_request(program, shots, circuit)
        if spill and shots == 0:
            raise ResourceError(
                f"backend {self.name!r}: shots=0 asks for the exact statevector, but a "
                f"{num_qubits}-qubit state larger than the memory budget ({budget.source}) "
                "is kept on disk and cannot be returned in memory; run with shots > 0 or "
                "raise [memory] max_memory_bytes"
            )
        state_bytes = statevector_bytes(num_qubits, self.options.precision)
        # A spilled state is the only one: branches replay instead of copying,
        # which draws the same random numbers, so the counts are the same.
        max_states = 1 if spill else max(1, (budget.bytes - fixed) // state_bytes)
        if num_qubits >= _PARALLEL_MIN_QUBITS:
            # At least four chunks, so that every thread has work.
            chunk_qubits = min(chunk_qubits, num_qubits - 2)
        else:
            threads = 1
        elements = workspace_elements(num_qubits, program.widest_block, chunk_qubits)
        with ExitStack() as stack:
            # Kernel matrix products are small; a threaded BLAS would spin its
            # threads around each one. The runner parallelises over chunks instead.
            if not stack.enter_context(single_threaded_blas()):
                threads = 1
            runner = stack.enter_context(Runner(self._dtype, elements, threads))
            area = None
            if spill:
                area = stack.enter_context(
                    SpillArea(check_disk(state_bytes, self.options.spill_dir, what="the state"))
                )
            engine = Engine(
                program,
                self._dtype,
                max_states=max_states,
                seed=seed,
                runner=runner,
                allocate=area.allocate if area is not None else None,
            )
            result = self._execute(engine, shots, memory)
        stats = engine.stats
        dense = sum(isinstance(b, DenseBlock) for b in program.blocks)
        diagonal = sum(isinstance(b, DiagonalBlock) for b in program.blocks)
        result.metadata = {
            "backend": self.name,
            "time_s": time.perf_counter() - started,
            "peak_bytes": fixed if spill else max(1, stats.peak_states) * state_bytes + fixed,
            "method": "trajectories" if stats.branch_points else "statevector",
            "precision": self.options.precision,
            "num_qubits": num_qubits,
            "shots": shots,
            "threads": threads,
            "fusion": {
                "gates": program.gate_count,
                "dense_blocks": dense,
                "diagonal_blocks": diagonal,
                "widest_block": program.widest_block,
                "max_qubits": self.options.fusion_max_qubits,
            },
            "trajectories": {
                "groups": stats.trajectories,
                "branch_points": stats.branch_points,
                "splits": stats.splits,
                "copies": stats.copies,
                "replays": stats.replays,
                "peak_states": stats.peak_states,
            },
        }
        if area is not None:
            # The folder is gone by now; its name says where the state was.
            result.metadata["spill"] = {
                "dir": str(area.path),
                "files": area.files,
                "bytes": area.bytes,
            }
        return result
