"""What every conformance kit shares: checks, their results, and a pytest form.

A *kit* is a class whose ``check_*`` methods each test one behaviour of a
plugin object and raise :class:`AssertionError` (with a sentence saying what
is wrong) when it misbehaves, or :class:`CheckSkipped` when the plugin does
not declare the capability the check needs. :meth:`Kit.run` runs them all
and returns a :class:`ConformanceReport`; :class:`ConformanceTests` turns a
kit into one pytest test per check.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from qdframe.errors import QdframeError

__all__ = [
    "CheckResult",
    "CheckSkipped",
    "ConformanceError",
    "ConformanceReport",
    "Kit",
]

Outcome = Literal["passed", "failed", "skipped"]


class CheckSkipped(Exception):
    """A check does not apply to this plugin (it does not declare the capability)."""


class ConformanceError(AssertionError, QdframeError):
    """A plugin failed one or more conformance checks; the message lists them."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``passed``, ``failed`` or ``skipped`` and why."""

    check: str
    outcome: Outcome
    message: str = ""

    def __str__(self) -> str:
        return f"{self.check}: {self.outcome}" + (f" ({self.message})" if self.message else "")


@dataclass(frozen=True)
class ConformanceReport:
    """Every check of one kit run against one plugin object."""

    kit: str
    subject: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No check failed (skipped checks do not count against a plugin)."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == "failed"]

    @property
    def passed(self) -> list[str]:
        return [r.check for r in self.results if r.outcome == "passed"]

    @property
    def skipped(self) -> list[str]:
        return [r.check for r in self.results if r.outcome == "skipped"]

    def raise_for_failures(self) -> ConformanceReport:
        """Return ``self`` when every check passed or was skipped.

        :raises ConformanceError: naming every failed check and why.
        """
        if self.failures:
            lines = "\n".join(f"  - {r.check}: {r.message}" for r in self.failures)
            raise ConformanceError(
                f"{self.subject} fails {len(self.failures)} of {len(self.results)} "
                f"{self.kit} checks:\n{lines}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "kit": self.kit,
            "subject": self.subject,
            "ok": self.ok,
            "results": [
                {"check": r.check, "outcome": r.outcome, "message": r.message} for r in self.results
            ],
        }


class Kit:
    """Base of the conformance kits: one plugin object, many checks.

    :param subject: what the registry holds for this category (a factory for
        allocators, optimizers, executors and mitigators; the builder for
        topologies; the object itself for error handlers and profiles).
    :param name: the name it is registered under (used in messages).
    :param plugins: the plugin set it belongs to, for checks that need other
        plugins (a kit never loads entry points itself).
    :param options: keyword options for a factory subject.
    :param capabilities: what the plugin declares it can do, as data; each kit
        documents the keys it reads (checks of undeclared capabilities are
        skipped, as the backend suite skips what a backend does not declare).
    """

    #: The registry category the kit checks.
    category: ClassVar[str] = ""
    #: Capabilities the kit reads, with the value assumed when undeclared.
    capability_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        subject: Any,
        *,
        name: str | None = None,
        plugins: Any = None,
        options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        unknown = sorted(set(capabilities or {}) - set(self.capability_defaults))
        if unknown:
            allowed = ", ".join(sorted(self.capability_defaults)) or "none"
            raise ValueError(
                f"{type(self).__name__} has no capability {', '.join(map(repr, unknown))}; "
                f"allowed: {allowed}"
            )
        self.capabilities = {**self.capability_defaults, **(capabilities or {})}
        self.subject = subject
        self.name = name or getattr(subject, "name", None) or _describe(subject)
        self.plugins = plugins
        self.options = dict(options or {})

    # ------------------------------------------------------------ running

    @classmethod
    def checks(cls) -> list[str]:
        """Names of the kit's checks, in the order they are defined."""
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if attr.startswith("check_") and callable(value) and attr not in names:
                    names.append(attr)
        return names

    def run_check(self, check: str) -> CheckResult:
        """Run one check and say how it went (never raises for the plugin's faults)."""
        if check not in self.checks():
            raise ValueError(
                f"{type(self).__name__} has no check {check!r}; checks: {', '.join(self.checks())}"
            )
        method: Callable[[], None] = getattr(self, check)
        try:
            method()
        except CheckSkipped as skip:
            return CheckResult(check, "skipped", str(skip))
        except AssertionError as failure:
            return CheckResult(check, "failed", str(failure) or _last_line(failure))
        except Exception as error:  # a plugin that raises where it must answer fails the check
            return CheckResult(check, "failed", f"raised {_last_line(error)}")
        return CheckResult(check, "passed")

    def run(self, checks: list[str] | None = None) -> ConformanceReport:
        """Run ``checks`` (all by default) and return the report."""
        try:
            results = tuple(self.run_check(c) for c in (checks or self.checks()))
        finally:
            self.close()
        return ConformanceReport(type(self).__name__, self._subject_text(), results)

    def close(self) -> None:
        """Release what the checks started (executors override this)."""

    def _subject_text(self) -> str:
        kind = "topology" if self.category == "topologies" else self.category.removesuffix("s")
        return f"{kind.replace('_', ' ')} {self.name!r}"

    # ------------------------------------------------------------ helpers

    def need(self, capability: str) -> None:
        """Skip the calling check unless ``capability`` is declared true."""
        if not self.capabilities.get(capability):
            raise CheckSkipped(f"{self.name!r} does not declare {capability}")

    def build(self, **extra: Any) -> Any:
        """Call a factory subject with the kit's options and ``extra``."""
        return self.subject(**{**self.options, **extra})


def _describe(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__name__


def _last_line(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return text.splitlines()[-1] if text else type(error).__name__
