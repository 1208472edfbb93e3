"""The tuner: time the suite with the defaults and with each candidate setting.

Candidates come from the settings plugins declare
(``qdframe_register_tunable_settings``): every declared choice of every
setting the suite can exercise is tried on its own, then the best choices are
tried together. A candidate is kept only if its results agree with the
defaults'. The defaults are timed before and after the candidates and their
faster time is used, so drift on a busy machine does not make a candidate look
better than it is; gains under ``min_gain`` count as noise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe._version import __version__
from qdframe.network.host import detect_system
from qdframe.network.whitelist import Whitelist, same_value
from qdframe.tuning.energy import EnergyMeter
from qdframe.tuning.measure import (
    DEFAULT_TOLERANCE,
    PreparedPlan,
    States,
    TooSlow,
    interleave,
    max_infidelity,
)
from qdframe.tuning.plan import Planner
from qdframe.tuning.result import CandidateResult, TuneResult, WorkloadTiming
from qdframe.tuning.workloads import Workload, build_suite

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins

__all__ = ["TuneOptions", "Tuner"]

_log = logging.getLogger("qdframe.tuning")


@dataclass(frozen=True)
class TuneOptions:
    """How thoroughly to tune.

    :param suite: ``"standard"`` or ``"quick"`` (fewer circuits, smaller size).
    :param repeats: timed rounds per candidate (default 5, quick 3).
    :param num_qubits: suite size; chosen from this host's speed when omitted.
    :param tolerance: largest accepted infidelity against the defaults' states.
    :param min_gain: relative gain below which a candidate counts as no faster.
    :param max_candidates: most single-setting candidates tried.
    :param slowdown_limit: a candidate whose untimed round takes longer than
        this many times the defaults' timed round is stopped (at least 1 s).
    :param max_noise_margin: the defaults are timed first and last; their
        drift raises ``min_gain`` up to this much on a busy machine.
    """

    suite: str = "standard"
    repeats: int | None = None
    num_qubits: int | None = None
    tolerance: float = DEFAULT_TOLERANCE
    min_gain: float = 0.03
    max_candidates: int = 24
    slowdown_limit: float = 10.0
    max_noise_margin: float = 0.2

    @property
    def effective_repeats(self) -> int:
        if self.repeats is not None:
            return max(1, self.repeats)
        return 3 if self.suite == "quick" else 5

    @property
    def size_limits(self) -> tuple[int, int, float]:
        """(smallest, largest qubits, target seconds for one QFT run)."""
        return (8, 12, 0.004) if self.suite == "quick" else (10, 16, 0.015)


@dataclass
class _Evaluated:
    settings: dict[str, Any]
    changed: dict[str, Any]
    result: CandidateResult
    prepared: PreparedPlan | None = None

    def finish(self) -> None:
        """Copy the timed rounds into the result."""
        if self.prepared is None:
            return
        measured = self.prepared.measurement()
        self.result = self.result.model_copy(
            update={
                "total_s": measured.total_s,
                "times_s": measured.times_s,
                "energy_j": measured.energy_j,
            }
        )


def _time_of(workload: str) -> Callable[[_Evaluated], float | None]:
    def time_of(evaluated: _Evaluated) -> float | None:
        return evaluated.result.times_s.get(workload)

    return time_of


def _gain(base: float, other: float) -> float:
    return 0.0 if base <= 0 else (base - other) / base


class Tuner:
    """Runs the tuning procedure for one plugin set on this host.

    :param plugins: backends and tunable settings to use; the process default
        when omitted.
    :param options: see :class:`TuneOptions`.
    :param system_type: HAL system type to record; detected when omitted.
    :param meter: energy meter; RAPL when readable, ``None`` to measure time only.
    :param progress: called with one line per step, for display.
    """

    def __init__(
        self,
        plugins: LoadedPlugins,
        options: TuneOptions | None = None,
        *,
        system_type: str | None = None,
        meter: EnergyMeter | Callable[[], EnergyMeter | None] | None = EnergyMeter.detect,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.plugins = plugins
        self.options = options or TuneOptions()
        self._system_type = system_type
        self._meter = meter() if callable(meter) else meter
        self._progress = progress or (lambda line: _log.info("%s", line))

    # ---------------------------------------------------------------- sizing
    def _size(self, planner: Planner, defaults: Mapping[str, Any]) -> int:
        if self.options.num_qubits is not None:
            return self.options.num_qubits
        low, high, target = self.options.size_limits
        plan = planner.plan(defaults)
        backend = plan.create(self.plugins)
        size = low
        while size < high:
            qft = build_suite(size, "quick")[0].circuits[0]
            start = time.perf_counter()
            backend.run(qft, shots=0)
            if time.perf_counter() - start >= target:
                break
            size += 1
        return size

    # ---------------------------------------------------------------- evaluation
    def _prepare(
        self,
        planner: Planner,
        workloads: list[Workload],
        settings: dict[str, Any],
        changed: dict[str, Any],
        reference: States,
        time_limit_s: float,
    ) -> _Evaluated:
        """Build the candidate and run it once; keep it for timing only if results agree."""
        try:
            plan = planner.plan(settings)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            return _Evaluated(
                settings, changed, CandidateResult(changed=changed, plan="?", error=error)
            )
        try:
            prepared = PreparedPlan(plan, self.plugins, workloads)
            states = prepared.first_round(time_limit_s)
        except TooSlow as exc:
            error = f"much slower than the defaults: {exc}"
            return _Evaluated(
                settings,
                changed,
                CandidateResult(changed=changed, plan=plan.describe(), error=error),
            )
        except Exception as exc:  # a candidate that crashes is recorded, not fatal
            error = f"{type(exc).__name__}: {exc}"
            return _Evaluated(
                settings,
                changed,
                CandidateResult(changed=changed, plan=plan.describe(), error=error),
            )
        worst = max_infidelity(reference, states)
        agrees = worst <= self.options.tolerance
        result = CandidateResult(
            changed=changed, plan=plan.describe(), max_infidelity=worst, agrees=agrees
        )
        return _Evaluated(settings, changed, result, prepared if agrees else None)

    def _report(self, evaluated: _Evaluated, baseline_s: float) -> None:
        label = ", ".join(f"{k}={v!r}" for k, v in evaluated.changed.items()) or "defaults"
        r = evaluated.result
        if r.error:
            self._progress(f"  {label}: failed ({r.error})")
        elif not r.agrees:
            self._progress(
                f"  {label}: rejected, results differ from the defaults "
                f"(infidelity {r.max_infidelity:.2e})"
            )
        elif r.total_s is not None:
            self._progress(
                f"  {label}: {r.total_s * 1000:.1f} ms ({_gain(baseline_s, r.total_s):+.1%})"
            )

    def _candidates(
        self, whitelist: Whitelist, defaults: dict[str, Any], planner: Planner
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        not_exercised: dict[str, str] = {}
        singles: list[dict[str, Any]] = []
        for key in sorted(whitelist.choices):
            reason = planner.not_exercised(key, defaults)
            if reason is not None:
                not_exercised[key] = reason
                continue
            for choice in whitelist.choices[key]:
                if not same_value(choice, defaults.get(key)):
                    singles.append({key: choice})
        if len(singles) > self.options.max_candidates:
            self._progress(
                f"{len(singles)} candidates declared; "
                f"timing the first {self.options.max_candidates}"
            )
            singles = singles[: self.options.max_candidates]
        return singles, not_exercised

    # ---------------------------------------------------------------- main
    def run(self) -> TuneResult:
        """Tune and return the result (not stored; see :meth:`TuneResult.save`)."""
        started = time.time()
        registry = self.plugins.registries.tunable_settings
        whitelist = Whitelist.from_settings(registry.get(n) for n in registry.names())
        defaults = dict(whitelist.defaults)
        planner = Planner(self.plugins, self.options.num_qubits or 12)
        num_qubits = self._size(planner, defaults)
        planner = Planner(self.plugins, num_qubits)
        workloads = build_suite(num_qubits, self.options.suite)
        singles, not_exercised = self._candidates(whitelist, defaults, planner)
        exercised = sorted({k for c in singles for k in c} | (set(defaults) - set(not_exercised)))
        rounds = self.options.effective_repeats
        self._progress(
            f"Timing the {self.options.suite} suite at {num_qubits} qubits "
            f"({', '.join(w.workload_class for w in workloads)}), "
            f"{len(singles)} candidate(s), {rounds} interleaved round(s)"
        )

        try:
            base_plan = PreparedPlan(planner.plan(defaults), self.plugins, workloads)
            reference = base_plan.first_round()
        except Exception as exc:
            raise RuntimeError(f"the default settings failed: {type(exc).__name__}: {exc}") from exc
        baseline = _Evaluated(
            defaults,
            {},
            CandidateResult(
                changed={}, plan=base_plan.plan.describe(), max_infidelity=0.0, agrees=True
            ),
            base_plan,
        )
        # Generous: a candidate whose untimed round takes this long cannot win.
        limit = max(1.0, self.options.slowdown_limit * base_plan.first_round_s)
        evaluated = [
            self._prepare(planner, workloads, {**defaults, **c}, c, reference, limit)
            for c in singles
        ]
        timed = [e for e in evaluated if e.prepared is not None]
        interleave([base_plan, *(e.prepared for e in timed if e.prepared)], rounds, self._meter)
        for item in [baseline, *evaluated]:
            item.finish()
        base_total = base_plan.measurement().total_s
        self._progress(f"  defaults ({baseline.result.plan}): {base_total * 1000:.1f} ms")
        for item in evaluated:
            self._report(item, base_total)

        # The best choice of each key together, when more than one key helped.
        combined: dict[str, Any] = {}
        for key in sorted({k for c in singles for k in c}):
            options = [e for e in timed if key in e.changed and e.result.total_s is not None]
            best = min(options, key=lambda e: e.result.total_s or 0.0, default=None)
            if best is not None and _gain(base_total, best.result.total_s or 0.0) >= (
                self.options.min_gain
            ):
                combined[key] = best.changed[key]
        if len(combined) > 1:
            item = self._prepare(
                planner, workloads, {**defaults, **combined}, combined, reference, limit
            )
            if item.prepared is not None:
                # The defaults run alongside again: their time can only drop,
                # which keeps every comparison conservative.
                interleave([base_plan, item.prepared], rounds, self._meter)
                baseline.finish()
                item.finish()
            self._report(item, base_plan.measurement().total_s)
            evaluated.append(item)

        base = base_plan.measurement()
        return self._result(
            started=started,
            num_qubits=num_qubits,
            workloads=workloads,
            defaults=defaults,
            exercised=exercised,
            baseline=baseline,
            base_times=dict(base.times_s),
            base_energy=base.energy_j,
            evaluated=evaluated,
            not_exercised=not_exercised,
            noise=base_plan.spread(),
        )

    def _result(
        self,
        *,
        started: float,
        num_qubits: int,
        workloads: list[Workload],
        defaults: dict[str, Any],
        exercised: list[str],
        baseline: _Evaluated,
        base_times: dict[str, float],
        base_energy: float | None,
        evaluated: list[_Evaluated],
        not_exercised: dict[str, str],
        noise: float,
    ) -> TuneResult:
        def shown(settings: Mapping[str, Any]) -> dict[str, Any]:
            return {k: settings[k] for k in exercised if k in settings}

        kept = [e for e in evaluated if e.result.agrees and e.result.total_s is not None]
        base_total = sum(base_times.values())
        margin = max(self.options.min_gain, min(noise, self.options.max_noise_margin))

        def choose(time_of: Callable[[_Evaluated], float | None], base: float) -> _Evaluated:
            # The fastest candidate wins only by more than the noise margin,
            # and among candidates within that margin of it the one changing
            # fewest settings is kept: a change that does not matter is noise.
            timed = [(t, e) for e in kept if (t := time_of(e)) is not None]
            if not timed:
                return baseline
            fastest = min(t for t, _ in timed)
            if _gain(base, fastest) < margin:
                return baseline
            close = [(len(e.changed), t, e) for t, e in timed if t <= fastest * (1 + margin)]
            return min(close, key=lambda item: (item[0], item[1]))[2]

        best = choose(lambda e: e.result.total_s, base_total)
        best_total = base_total if best is baseline else (best.result.total_s or base_total)

        timings = []
        for workload in workloads:
            name = workload.name
            default_s = base_times[name]
            winner = choose(_time_of(name), default_s)
            winner_s = default_s if winner is baseline else winner.result.times_s[name]
            timings.append(
                WorkloadTiming(
                    workload_class=workload.workload_class,
                    num_qubits=workload.num_qubits,
                    circuits=len(workload.circuits),
                    default_s=default_s,
                    best_s=winner_s,
                    savings=round(100.0 * _gain(default_s, winner_s), 3),
                    best_settings=shown(winner.settings),
                )
            )

        energy_savings = None
        if best is baseline:
            energy_savings = 0.0 if base_energy is not None else None
        elif base_energy and best.result.energy_j is not None:
            energy_savings = round(100.0 * _gain(base_energy, best.result.energy_j), 3)
        savings = round(100.0 * _gain(base_total, best_total), 3)
        if self._system_type is not None:
            system_type, level = self._system_type, "given"
        else:
            host = detect_system()
            system_type, level = host.system_type, host.match_level
        return TuneResult(
            qdframe_version=__version__,
            system_type=system_type,
            match_level=level,
            created_at=started,
            suite=self.options.suite,
            num_qubits=num_qubits,
            repeats=self.options.effective_repeats,
            tolerance=self.options.tolerance,
            defaults=shown(defaults),
            best_settings=shown(best.settings),
            changed_settings=dict(best.changed),
            savings=savings,
            energy_savings=energy_savings,
            savings_basis="energy" if energy_savings is not None else "time",
            quantum_advantage=best is not baseline,
            workloads=timings,
            candidates=[baseline.result] + [e.result for e in evaluated],
            not_exercised=not_exercised,
            duration_s=round(time.time() - started, 3),
        )
