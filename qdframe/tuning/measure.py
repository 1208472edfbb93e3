"""Timing execution plans on the suite, and checking their results agree.

A :class:`PreparedPlan` builds its backend once and runs every workload once
untimed (the final states are what is compared with the defaults'). Timed
rounds of several plans are then interleaved (:func:`interleave`), so a burst
of other work on the machine hits all of them alike, and a workload's time is
the fastest of its rounds: other work can only add time, so the minimum is the
least disturbed estimate. A candidate whose states differ from the defaults'
is never kept, however fast.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qdframe.tuning.energy import EnergyMeter
from qdframe.tuning.workloads import Workload

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Backend
    from qdframe.tuning.plan import ExecutionPlan

__all__ = [
    "DEFAULT_TOLERANCE",
    "Measurement",
    "PreparedPlan",
    "TooSlow",
    "infidelity",
    "interleave",
    "max_infidelity",
]

#: Largest accepted 1 - fidelity between a candidate's state and the default's.
DEFAULT_TOLERANCE = 1e-6

State = Any  # numpy complex array
States = Mapping[str, Sequence[State]]


class TooSlow(Exception):
    """The untimed round alone took longer than the candidate's time limit."""


@dataclass(frozen=True)
class Measurement:
    """Fastest time per workload (and energy per round) of one plan."""

    times_s: dict[str, float]
    energy_j: float | None = None

    @property
    def total_s(self) -> float:
        return sum(self.times_s.values())


def infidelity(a: State, b: State) -> float:
    """``1 - |<a|b>|^2 / (<a|a><b|b>)``; 1.0 when the shapes differ or a state is empty."""
    va = np.asarray(a, dtype=np.complex128).ravel()
    vb = np.asarray(b, dtype=np.complex128).ravel()
    if va.shape != vb.shape:
        return 1.0
    norm = float(np.vdot(va, va).real * np.vdot(vb, vb).real)
    if norm <= 0.0 or not np.isfinite(norm):
        return 1.0
    overlap = abs(complex(np.vdot(va, vb))) ** 2 / norm
    return max(0.0, 1.0 - float(overlap))


def _prepared(backend: Backend, circuits: Sequence[QuantumCircuit]) -> list[QuantumCircuit]:
    supported = backend.capabilities.supported_operations
    used = {inst.operation.name for c in circuits for inst in c.data}
    if not supported or used <= supported:
        return list(circuits)
    from qiskit import transpile

    basis = sorted(supported - {"measure", "barrier", "delay", "reset"})
    return list(transpile(list(circuits), basis_gates=basis, optimization_level=0))


def _run(backend: Backend, circuits: Sequence[QuantumCircuit]) -> list[State]:
    return [r.statevector for r in backend.run(list(circuits), shots=0)]


class PreparedPlan:
    """One plan's backend with the suite ready to run, and its timed rounds.

    :raises Exception: whatever creating the backend raises.
    """

    def __init__(
        self, plan: ExecutionPlan, plugins: LoadedPlugins, workloads: Sequence[Workload]
    ) -> None:
        self.plan = plan
        self.backend = plan.create(plugins)
        self.circuits = {w.name: _prepared(self.backend, w.circuits) for w in workloads}
        self.rounds: dict[str, list[float]] = {name: [] for name in self.circuits}
        self.energy: list[float] = []
        self.first_round_s = 0.0

    def first_round(self, time_limit_s: float | None = None) -> dict[str, list[State]]:
        """Run every workload once, untimed; returns the final states.

        :param time_limit_s: give up (:class:`TooSlow`) past this; a candidate
            that slow cannot win, and timing it would only make tuning long.
        :raises Exception: whatever the backend raises (the caller records it).
        """
        states: dict[str, list[State]] = {}
        started = time.perf_counter()
        for name, batch in self.circuits.items():
            states[name] = _run(self.backend, batch)
            elapsed = time.perf_counter() - started
            if time_limit_s is not None and elapsed > time_limit_s:
                raise TooSlow(f"stopped after {elapsed:.1f} s, the limit was {time_limit_s:.1f} s")
        self.first_round_s = time.perf_counter() - started
        return states

    def time_round(self, meter: EnergyMeter | None = None) -> None:
        """Time every workload once (and the energy of the whole round)."""
        before = meter.read() if meter is not None else None
        for name, batch in self.circuits.items():
            start = time.perf_counter()
            _run(self.backend, batch)
            self.rounds[name].append(time.perf_counter() - start)
        if meter is not None and before is not None:
            self.energy.append(meter.joules_between(before, meter.read()))

    def measurement(self) -> Measurement:
        """Fastest round per workload so far."""
        return Measurement(
            times_s={name: min(values) for name, values in self.rounds.items() if values},
            energy_j=min(self.energy) if self.energy else None,
        )

    def spread(self) -> float:
        """How far the median round is above the fastest, relative: this plan's noise."""
        totals = [sum(r) for r in zip(*self.rounds.values(), strict=True)]
        if len(totals) < 2:
            return 0.0
        fastest = min(totals)
        return float((statistics.median(totals) - fastest) / max(fastest, 1e-12))


def interleave(
    plans: Sequence[PreparedPlan], rounds: int, meter: EnergyMeter | None = None
) -> None:
    """Time ``rounds`` rounds of every plan, alternating plans (rotating who goes first)."""
    count = len(plans)
    for index in range(rounds):
        shift = index % count if count else 0
        for plan in [*plans[shift:], *plans[:shift]]:
            plan.time_round(meter)


def max_infidelity(reference: States, candidate: States) -> float:
    """The worst infidelity over every circuit of the suite."""
    worst = 0.0
    for name, ref_states in reference.items():
        cand_states = candidate.get(name, [])
        if len(cand_states) != len(ref_states):
            return 1.0
        for a, b in zip(ref_states, cand_states, strict=True):
            if a is None or b is None:
                return 1.0
            worst = max(worst, infidelity(a, b))
    return worst
