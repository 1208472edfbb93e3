"""Checking shared settings on this host before they are applied.

:func:`check_results` is the tuner's correctness check for settings that came
from the network: the quick suite runs with the current settings and with the
shared ones, and a shared setting passes only when the final states agree
(infidelity at most the tuner's tolerance). A setting the suite cannot run
here passes only if it cannot change numerical results; a precision or an
approximate method that cannot be checked is refused. The client runs it
before every apply (``qdframe network apply`` and ``start()``).

:func:`verify_settings` (``qdframe network apply --verify``) also A/B times
both sets on the quick suite, alternately (A, B, A, B) so that drift hits
both; the shared ones are kept only when they are faster by more than the
noise margin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qdframe.tuning.measure import DEFAULT_TOLERANCE, PreparedPlan, interleave, max_infidelity
from qdframe.tuning.plan import BACKEND_KEY, Planner
from qdframe.tuning.workloads import Workload, build_suite

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins

__all__ = ["ResultCheck", "Verification", "check_results", "verify_settings"]

_BACKEND_PREFIX = "backend."


@dataclass(frozen=True)
class ResultCheck:
    """Which shared settings this host checked, and why others were refused.

    :param passed: key → worst infidelity of the check that ran it.
    :param unaffected: key → why the suite did not run it (it cannot change
        numerical results, so it passes unchecked).
    :param failed: key → why it must not be applied.
    """

    passed: dict[str, float] = field(default_factory=dict)
    unaffected: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    num_qubits: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "unaffected": self.unaffected,
            "failed": self.failed,
            "tolerance": self.tolerance,
            "num_qubits": self.num_qubits,
        }


def _states(
    planner: Planner,
    plugins: LoadedPlugins,
    workloads: list[Workload],
    settings: Mapping[str, Any],
) -> Any:
    return PreparedPlan(planner.plan(dict(settings)), plugins, workloads).first_round()


def _check_group(
    planner: Planner,
    plugins: LoadedPlugins,
    workloads: list[Workload],
    reference: Mapping[str, Any],
    settings: Mapping[str, Any],
    result: ResultCheck,
) -> None:
    """Each setting alone against ``reference``, then those that agreed together."""
    try:
        expected = _states(planner, plugins, workloads, reference)
    except Exception as exc:
        for key in settings:
            result.failed[key] = f"could not be checked, the current settings fail here: {exc}"
        return

    def worst(candidate: Mapping[str, Any]) -> tuple[float | None, str]:
        try:
            found = _states(planner, plugins, workloads, {**reference, **candidate})
        except Exception as exc:  # a setting that breaks the suite must not be applied
            return None, f"fails on this host: {type(exc).__name__}: {exc}"
        return max_infidelity(expected, found), ""

    def judge(keys: list[str], value: float | None, error: str, together: bool) -> None:
        for key in keys:
            if value is None:
                result.failed[key] = error
            elif value > result.tolerance:
                what = "together with the other shared settings " if together else ""
                result.failed[key] = (
                    f"changes results on this host {what}"
                    f"(infidelity {value:.1e} > {result.tolerance:.0e})"
                )
            else:
                result.passed[key] = value

    for key, value in settings.items():
        judge([key], *worst({key: value}), together=False)
    agreed = [key for key in settings if key in result.passed]
    if len(agreed) > 1:
        for key in agreed:
            del result.passed[key]
        judge(agreed, *worst({key: settings[key] for key in agreed}), together=True)


def check_results(
    current: Mapping[str, Any],
    shared: Mapping[str, Any],
    *,
    plugins: LoadedPlugins,
    changes_results: Callable[[str], bool],
    num_qubits: int = 8,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ResultCheck:
    """Run the quick suite with ``current`` and with ``current`` updated by ``shared``.

    Settings of the backend that would run are checked one at a time, then
    those that agreed all together; options of another installed backend are
    checked the same way on that backend; anything else is not run, and is
    refused when ``changes_results(key)`` says it could change numerical
    results.
    """
    planner = Planner(plugins, num_qubits)
    workloads = build_suite(num_qubits, "quick")
    result = ResultCheck(tolerance=tolerance, num_qubits=num_qubits)
    merged = {**current, **shared}
    groups: dict[str, dict[str, Any]] = {}
    for key, value in shared.items():
        try:
            reason = planner.not_exercised(key, merged)
        except Exception as exc:  # e.g. the shared backend is not installed
            result.failed[key] = f"could not be checked on this host: {exc}"
            continue
        if reason is None:
            groups.setdefault("", {})[key] = value
            continue
        backend = key[len(_BACKEND_PREFIX) :].split(".", 1)[0]
        if key.startswith(_BACKEND_PREFIX) and backend in planner.backends:
            groups.setdefault(backend, {})[key] = value
        elif changes_results(key):
            result.failed[key] = (
                f"may change numerical results and could not be checked on this host ({reason})"
            )
        else:
            result.unaffected[key] = reason
    for backend, settings in sorted(groups.items()):
        pinned = {BACKEND_KEY: backend} if backend else {}
        reference = {**current, **pinned}
        _check_group(planner, plugins, workloads, reference, settings, result)
    return result


@dataclass(frozen=True)
class Verification:
    """Outcome of an A/B comparison."""

    current_s: float
    shared_s: float
    max_infidelity: float
    agrees: bool
    faster: bool
    num_qubits: int

    @property
    def gain(self) -> float:
        """Relative time reduction of the shared settings (negative: slower)."""
        return 0.0 if self.current_s <= 0 else (self.current_s - self.shared_s) / self.current_s

    def to_json(self) -> dict[str, Any]:
        return {
            "current_s": self.current_s,
            "shared_s": self.shared_s,
            "gain": self.gain,
            "max_infidelity": self.max_infidelity,
            "agrees": self.agrees,
            "faster": self.faster,
            "num_qubits": self.num_qubits,
        }


def verify_settings(
    current: Mapping[str, Any],
    shared: Mapping[str, Any],
    *,
    plugins: LoadedPlugins,
    num_qubits: int = 10,
    rounds: int = 6,
    min_gain: float = 0.03,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verification:
    """Time ``current`` against ``current`` updated with ``shared``, ``rounds`` times each."""
    planner = Planner(plugins, num_qubits)
    workloads = build_suite(num_qubits, "quick")
    current_plan = PreparedPlan(planner.plan(dict(current)), plugins, workloads)
    shared_plan = PreparedPlan(planner.plan({**current, **shared}), plugins, workloads)
    worst = max_infidelity(current_plan.first_round(), shared_plan.first_round())
    agrees = worst <= tolerance
    interleave([current_plan, shared_plan], rounds)
    current_s = current_plan.measurement().total_s
    shared_s = shared_plan.measurement().total_s
    gain = 0.0 if current_s <= 0 else (current_s - shared_s) / current_s
    return Verification(
        current_s=current_s,
        shared_s=shared_s,
        max_infidelity=worst,
        agrees=agrees,
        faster=agrees and gain >= min_gain,
        num_qubits=num_qubits,
    )
