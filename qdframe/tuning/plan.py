"""From a settings dict to how the workload suite is run (backend and options).

The tuner varies only settings it can actually exercise:

* ``acceleration.backend``: which registered backend runs the suite
  (``"auto"``: the one the HAL would choose);
* ``acceleration.precision``: passed as the ``precision`` option to a backend
  that takes one;
* ``backend.<name>.<option>``: passed as ``option`` to backend ``<name>``.

Any other declared setting does not change how the suite runs, so timing it
would only measure noise; it is reported as not exercised.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qdframe.errors import RegistryError

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.protocols import Backend

__all__ = ["BACKEND_KEY", "PRECISION_KEY", "ExecutionPlan", "Planner"]

BACKEND_KEY = "acceleration.backend"
PRECISION_KEY = "acceleration.precision"
_BACKEND_PREFIX = "backend."

_log = logging.getLogger("qdframe.tuning")


@dataclass(frozen=True)
class ExecutionPlan:
    """A backend name and the options to create it with."""

    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def create(self, plugins: LoadedPlugins) -> Backend:
        from qdframe.backend import get_backend

        return get_backend(self.backend, plugins=plugins, **dict(self.options))

    def describe(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"{self.backend}({opts})"


def _accepts(factory: Callable[..., Any], option: str) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == option and p.kind is not inspect.Parameter.VAR_POSITIONAL)
        for p in parameters
    )


class Planner:
    """Turns settings into an :class:`ExecutionPlan` for one plugin set.

    :param plugins: where backends are looked up.
    :param num_qubits: the suite's size (for choosing the ``auto`` backend).
    """

    def __init__(self, plugins: LoadedPlugins, num_qubits: int) -> None:
        self._plugins = plugins
        self._num_qubits = num_qubits
        self._auto: dict[str, str] = {}

    @property
    def backends(self) -> list[str]:
        return self._plugins.registries.backends.names()

    def auto_backend(self, precision: str = "complex128") -> str:
        """The backend ``"auto"`` stands for: the HAL's choice, else ``numpy``, else the first."""
        if precision not in self._auto:
            self._auto[precision] = self._choose(precision)
        return self._auto[precision]

    def _choose(self, precision: str) -> str:
        names = self.backends
        if not names:
            raise RegistryError("no backend is registered; the tuner has nothing to time")
        try:
            from qdframe_hal import BackendRequirements, select_backend

            choice = select_backend(
                BackendRequirements(num_qubits=self._num_qubits, precision=precision),
                plugins=self._plugins,
            )
            return choice.backend
        except Exception as exc:  # HAL absent or nothing fits: a plain default
            _log.debug("HAL backend selection unavailable (%s)", exc)
        return "numpy" if "numpy" in names else names[0]

    def plan(self, settings: Mapping[str, Any]) -> ExecutionPlan:
        """The plan for ``settings``.

        :raises RegistryError: the settings name a backend that is not registered.
        """
        precision = settings.get(PRECISION_KEY)
        requested = settings.get(BACKEND_KEY, "auto")
        backend = (
            self.auto_backend(precision if isinstance(precision, str) else "complex128")
            if requested in (None, "auto")
            else str(requested)
        )
        registry = self._plugins.registries.backends
        factory = registry.get(backend)
        options: dict[str, Any] = {}
        if precision is not None and _accepts(factory, "precision"):
            options["precision"] = precision
        prefix = f"{_BACKEND_PREFIX}{backend}."
        for key, value in settings.items():
            if key.startswith(prefix):
                options[key[len(prefix) :]] = value
        return ExecutionPlan(backend, options)

    def not_exercised(self, key: str, defaults: Mapping[str, Any]) -> str | None:
        """Why varying ``key`` alone would not change how the suite runs (``None``: it would)."""
        if key == BACKEND_KEY:
            return None
        default_backend = self.plan(defaults).backend
        if key == PRECISION_KEY:
            factory = self._plugins.registries.backends.get(default_backend)
            if _accepts(factory, "precision"):
                return None
            return f"backend {default_backend!r} takes no precision option"
        if key.startswith(_BACKEND_PREFIX):
            name = key[len(_BACKEND_PREFIX) :].split(".", 1)[0]
            if name == default_backend:
                return None
            return f"applies to backend {name!r}; the suite runs on {default_backend!r}"
        return "does not change how the workload suite runs"
