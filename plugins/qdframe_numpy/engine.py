"""Execute a :class:`Program`: one state for all shots until they must part.

All shots start in one group that shares a single statevector. At a branch
point (a mid-circuit measurement, a reset, a noise channel, a readout error)
the engine computes the outcome probabilities and splits the group's shots
among the outcomes with one multinomial draw; each outcome that received
shots continues as its own group, so shots with the same history share all
their work. When a group reaches the end, its shots are sampled from its state.

Groups wait on a stack (depth first, so few states are alive at once). A
waiting group keeps a copy of the state from before the branch point while
the memory budget allows another state; otherwise it keeps only the list of
outcomes that led to it and is *replayed* from the start when its turn comes.
Replays draw no random numbers, so results do not depend on the budget.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from qdframe.plugin import InvalidCircuitError
from qdframe_numpy.kernels import (
    DensePlan,
    DiagonalPlan,
    apply_diagonal,
    apply_matrix,
    prepare_dense,
    prepare_diagonal,
    project,
    qubit_probabilities,
    reduced_density,
    reset_from_one,
)
from qdframe_numpy.parallel import Runner
from qdframe_numpy.program import (
    Complex,
    ConditionalJump,
    DenseBlock,
    DiagonalBlock,
    Jump,
    KrausChannel,
    Measure,
    Program,
    ReadoutFlip,
    Reset,
    UnitaryMixture,
)
from qdframe_numpy.sampling import sample_indices

__all__ = ["Engine", "EngineStats"]

#: A branch outcome with probability above ``1 - _CERTAIN`` is taken as certain
#: when an exact statevector is asked for.
_CERTAIN = 1e-9


@dataclass
class EngineStats:
    """What one execution did."""

    trajectories: int = 0
    branch_points: int = 0
    splits: int = 0
    copies: int = 0
    replays: int = 0
    peak_states: int = 0


@dataclass
class _Path:
    parent: _Path | None
    outcome: int

    def outcomes(self) -> list[int]:
        found: list[int] = []
        node: _Path | None = self
        while node is not None:
            found.append(node.outcome)
            node = node.parent
        found.reverse()
        return found


@dataclass
class _Group:
    state: Complex | None
    pc: int
    shots: int
    bits: int
    path: _Path | None
    forced: tuple[int, float] | None = None
    replay: deque[int] = field(default_factory=deque)


@dataclass(frozen=True)
class _Dense:
    plan: DensePlan
    matrix: Complex


@dataclass(frozen=True)
class _Diagonal:
    plan: DiagonalPlan


class Engine:
    """Runs one compiled program.

    :param program: the compiled circuit.
    :param dtype: ``complex128`` or ``complex64``.
    :param max_states: how many statevectors may be alive at once (at least 1).
    :param seed: seed of the random generator.
    :param runner: runs kernel chunks (owns the chunk buffers and threads).
    :param allocate: returns a zeroed statevector of the given length (for
        example one in a memory-mapped file); ``numpy.zeros`` when omitted.
    """

    def __init__(
        self,
        program: Program,
        dtype: npt.DTypeLike,
        *,
        max_states: int,
        seed: int | np.random.SeedSequence | None,
        runner: Runner,
        allocate: Callable[[int, np.dtype[Any]], Complex] | None = None,
    ) -> None:
        self.program = program
        self._allocate = allocate
        self.dtype = np.dtype(dtype)
        self.max_states = max(1, max_states)
        self.rng = np.random.default_rng(seed)
        self.runner = runner
        self.work = runner.work
        self.stats = EngineStats()
        self._stack: list[_Group] = []
        self._plans: dict[tuple[int, ...], DensePlan] = {}
        # Noise unitaries in the state's dtype, by identity of the original.
        self._cast: dict[int, Complex] = {}
        self._steps = [self._prepare(ins) for ins in program.instructions]
        self._alive = 0

    # -- preparation --------------------------------------------------------

    def _dense_plan(self, qubits: tuple[int, ...]) -> DensePlan:
        plan = self._plans.get(qubits)
        if plan is None:
            plan = prepare_dense(self.program.num_qubits, qubits, self.runner.elements)
            self._plans[qubits] = plan
        return plan

    def _prepare(self, ins: object) -> object:
        if isinstance(ins, DenseBlock):
            matrix = np.ascontiguousarray(ins.matrix, dtype=self.dtype)
            return _Dense(self._dense_plan(ins.qubits), matrix)
        if isinstance(ins, DiagonalBlock):
            plan = prepare_diagonal(self.program.num_qubits, ins.qubits, ins.phases)
            table = plan.table.astype(self.dtype, copy=False)
            return _Diagonal(DiagonalPlan(plan.qubits, plan.shape, table))
        if isinstance(ins, UnitaryMixture):
            self._dense_plan(ins.qubits)
            for unitary in ins.unitaries:
                if unitary is not None:
                    self._cast[id(unitary)] = np.ascontiguousarray(unitary, dtype=self.dtype)
        elif isinstance(ins, KrausChannel):
            self._dense_plan((ins.qubit,))
        return ins

    # -- state handling -----------------------------------------------------

    def _fresh(self) -> Complex:
        size = 1 << self.program.num_qubits
        if self._allocate is None:
            state = np.zeros(size, dtype=self.dtype)
        else:
            state = self._allocate(size, self.dtype)
        state[0] = 1.0
        self._alive += 1
        self.stats.peak_states = max(self.stats.peak_states, self._alive)
        return state

    def _copy(self, state: Complex) -> Complex:
        self._alive += 1
        self.stats.peak_states = max(self.stats.peak_states, self._alive)
        self.stats.copies += 1
        return state.copy()

    # -- branch points ------------------------------------------------------

    def _probabilities(self, ins: object, state: Complex, bits: int) -> list[float]:
        if isinstance(ins, Measure | Reset):
            p0, p1 = qubit_probabilities(state, ins.qubit, self.work)
            return [p0, p1]
        if isinstance(ins, UnitaryMixture):
            return list(ins.probabilities)
        if isinstance(ins, KrausChannel):
            rho = reduced_density(state, ins.qubit, self.work)
            return [max(0.0, float(np.real(np.trace(k @ rho @ k.conj().T)))) for k in ins.operators]
        assert isinstance(ins, ReadoutFlip)
        bit = (bits >> ins.clbit) & 1
        flip = ins.prob_meas0_prep1 if bit else ins.prob_meas1_prep0
        return [1.0 - flip, flip]

    def _apply_outcome(
        self, ins: object, state: Complex, bits: int, outcome: int, weight: float
    ) -> int:
        """Apply ``outcome`` (of unnormalised probability ``weight``); return new bits."""
        if isinstance(ins, Measure):
            project(state, ins.qubit, outcome, 1.0 / math.sqrt(weight))
            return (bits & ~(1 << ins.clbit)) | (outcome << ins.clbit)
        if isinstance(ins, Reset):
            if outcome == 0:
                project(state, ins.qubit, 0, 1.0 / math.sqrt(weight))
            else:
                reset_from_one(state, ins.qubit, 1.0 / math.sqrt(weight))
            return bits
        if isinstance(ins, UnitaryMixture):
            unitary = ins.unitaries[outcome]
            if unitary is not None:
                matrix = self._cast[id(unitary)]
                apply_matrix(state, matrix, self._dense_plan(ins.qubits), self.runner)
            return bits
        if isinstance(ins, KrausChannel):
            operator = ins.operators[outcome] / math.sqrt(weight)
            matrix = np.ascontiguousarray(operator, dtype=self.dtype)
            apply_matrix(state, matrix, self._dense_plan((ins.qubit,)), self.runner)
            return bits
        assert isinstance(ins, ReadoutFlip)
        return bits ^ (outcome << ins.clbit)

    def _branch(self, group: _Group, ins: object, exact: bool) -> None:
        state = group.state
        assert state is not None
        self.stats.branch_points += 1
        if group.forced is not None:
            # A waiting copy: the state is the one the weights were computed on.
            outcome, weight = group.forced
            group.forced = None
        else:
            weights = self._probabilities(ins, state, group.bits)
            total = sum(weights)
            if group.replay:
                outcome = group.replay.popleft()
            elif exact:
                outcome = int(np.argmax(weights))
                if weights[outcome] < (1.0 - _CERTAIN) * total:
                    raise InvalidCircuitError(
                        f"{type(ins).__name__.lower()} on this circuit gives a random outcome "
                        f"(probabilities {[round(w / total, 6) for w in weights]}), so the "
                        "final state is not a single statevector; run with shots > 0"
                    )
            else:
                counts = self.rng.multinomial(group.shots, np.asarray(weights) / total)
                chosen = [int(o) for o in np.flatnonzero(counts)]
                outcome = chosen[0]
                if len(chosen) > 1:
                    self.stats.splits += 1
                # Later outcomes wait; pushed in reverse so they run in outcome order.
                for other in reversed(chosen[1:]):
                    self._defer(group, int(counts[other]), other, weights[other])
                group.shots = int(counts[outcome])
            weight = weights[outcome]
        group.bits = self._apply_outcome(ins, state, group.bits, outcome, weight)
        group.path = _Path(group.path, outcome)

    def _defer(self, group: _Group, shots: int, outcome: int, weight: float) -> None:
        assert group.state is not None
        if self._alive < self.max_states:
            waiting = _Group(self._copy(group.state), group.pc, shots, group.bits, group.path)
            waiting.forced = (outcome, weight)
        else:
            waiting = _Group(None, 0, shots, 0, None)
            waiting.replay = deque([*(group.path.outcomes() if group.path else []), outcome])
        self._stack.append(waiting)

    # -- running ------------------------------------------------------------

    def _advance(self, group: _Group, exact: bool) -> None:
        state = group.state
        assert state is not None
        steps = self._steps
        while group.pc < len(steps):
            step = steps[group.pc]
            if isinstance(step, _Dense):
                apply_matrix(state, step.matrix, step.plan, self.runner)
            elif isinstance(step, _Diagonal):
                apply_diagonal(state, step.plan, self.runner)
            elif isinstance(step, ConditionalJump):
                if not step.condition(group.bits):
                    group.pc = step.target
                    continue
            elif isinstance(step, Jump):
                group.pc = step.target
                continue
            else:
                self._branch(group, step, exact)
            group.pc += 1

    def statevector(self) -> Complex:
        """Run for the exact final state (branch points must be certain)."""
        self._stack = []
        group = _Group(self._fresh(), 0, 0, 0, None)
        self._advance(group, exact=True)
        assert group.state is not None
        self.stats.trajectories = 1
        phase = self.program.global_phase
        if phase:
            group.state *= np.exp(1j * phase).astype(self.dtype)
        return group.state

    def sample(self, shots: int) -> npt.NDArray[np.uint8]:
        """Run ``shots`` shots; one row of classical bits (clbit ``i`` in column ``i``) each."""
        program = self.program
        self._stack = [_Group(self._fresh(), 0, shots, 0, None)]
        rows: list[npt.NDArray[np.uint8]] = []
        spare: Complex | None = None
        while self._stack:
            group = self._stack.pop()
            if group.state is None:
                if spare is not None:
                    spare.fill(0)
                    spare[0] = 1.0
                    group.state, spare = spare, None
                    self._alive += 1
                else:
                    group.state = self._fresh()
                self.stats.replays += 1
            self._advance(group, exact=False)
            rows.append(self._leaf(group))
            self.stats.trajectories += 1
            spare = group.state
            self._alive -= 1
        table = np.concatenate(rows) if rows else np.zeros((0, program.num_clbits), np.uint8)
        if len(rows) > 1:
            # Groups come out in order; shots are exchangeable, so shuffle them
            # to give per-shot memory no artificial structure.
            table = table[self.rng.permutation(len(table))]
        return table

    def _leaf(self, group: _Group) -> npt.NDArray[np.uint8]:
        program = self.program
        state = group.state
        assert state is not None
        rows = np.zeros((group.shots, program.num_clbits), dtype=np.uint8)
        for clbit in range(program.num_clbits):
            if (group.bits >> clbit) & 1:
                rows[:, clbit] = 1
        if not program.terminal or group.shots == 0:
            return rows
        indices = sample_indices(state, group.shots, self.rng, self.work.elements)
        for measure in program.terminal:
            values = ((indices >> measure.qubit) & 1).astype(np.uint8)
            if measure.prob_meas1_prep0 or measure.prob_meas0_prep1:
                chance = np.where(values == 1, measure.prob_meas0_prep1, measure.prob_meas1_prep0)
                values ^= (self.rng.random(group.shots) < chance).astype(np.uint8)
            rows[:, measure.clbit] = values
        return rows
