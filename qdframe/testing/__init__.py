"""Testing tools shipped with qdframe: the backend conformance suite.

A backend author runs :class:`BackendConformance` against their backend with
pytest (see :mod:`qdframe.testing.conformance` and ``docs/backends.md``).
:func:`chi_square_test` and the reference circuits in
:mod:`qdframe.testing.circuits` are useful on their own.

Importing :class:`BackendConformance` needs pytest; the statistics helpers do
not.
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

__all__ = [
    "BackendConformance",
    "ChiSquareResult",
    "chi_square_pvalue",
    "chi_square_test",
    "regularized_gamma_q",
]


def __getattr__(name: str) -> Any:
    # The suite imports pytest; load it only when asked for.
    if name == "BackendConformance":
        from qdframe.testing.conformance import BackendConformance

        return BackendConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
