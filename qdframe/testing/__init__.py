"""Testing tools shipped with qdframe: conformance suites for plugin authors.

* Backends: :class:`BackendConformance`, run with pytest (see
  :mod:`qdframe.testing.conformance` and ``docs/backends.md``).
* Every other category (allocators, topologies, executors, error handlers,
  optimizers, mitigators, hardware profiles): a kit in
  :mod:`qdframe.testing.kits`, run by :func:`check_plugin`, by
  ``python -m qdframe.testing kit CATEGORY NAME``, or one pytest test per check
  through the classes and fixtures of :mod:`qdframe.testing.pytest_plugin`
  (``docs/plugins.md``, "Testing your plugin").

:func:`chi_square_test` and the reference circuits in
:mod:`qdframe.testing.circuits` are useful on their own. Importing
:class:`BackendConformance` needs pytest; the kits and the statistics helpers
do not. Both load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qdframe.testing.stats import (
    ChiSquareResult,
    chi_square_pvalue,
    chi_square_test,
    regularized_gamma_q,
)

if TYPE_CHECKING:
    from qdframe.testing.conformance import BackendConformance
    from qdframe.testing.kits import ConformanceReport, check_plugin

__all__ = [
    "BackendConformance",
    "ChiSquareResult",
    "ConformanceReport",
    "check_plugin",
    "chi_square_pvalue",
    "chi_square_test",
    "regularized_gamma_q",
]


def __getattr__(name: str) -> Any:
    # The suite imports pytest; load it only when asked for.
    if name == "BackendConformance":
        from qdframe.testing.conformance import BackendConformance

        return BackendConformance
    if name in ("check_plugin", "ConformanceReport"):
        from qdframe.testing import kits

        return getattr(kits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
