"""The backend conformance suite, run on the numpy backend in both precisions."""

from __future__ import annotations

from qdframe.testing import BackendConformance


class TestNumpyComplex128(BackendConformance):
    backend_name = "numpy"
    atol = 1e-10


class TestNumpyComplex64(BackendConformance):
    backend_name = "numpy"
    backend_options = {"precision": "complex64"}  # noqa: RUF012
