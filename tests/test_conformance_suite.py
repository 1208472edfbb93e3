"""The shipped conformance suite can be pointed at a backend and catches broken ones."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_BROKEN = '''
import pytest
import qdframe
from qdframe.testing import BackendConformance


class ReversedBits:
    """Wraps the numpy backend but writes bitstrings in the wrong order."""

    name = "numpy"

    def __init__(self) -> None:
        self._inner = qdframe.get_backend("numpy")

    @property
    def capabilities(self):
        return self._inner.capabilities

    def run(self, circuits, shots=1024, seed=None, noise=None, *, memory=False):
        results = self._inner.run(circuits, shots=shots, seed=seed, noise=noise, memory=memory)
        for result in results:
            result.counts = {k[::-1]: v for k, v in result.counts.items()}
        return results


class TestReversed(BackendConformance):
    @pytest.fixture
    def backend_factory(self):
        return lambda **options: ReversedBits()
'''


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_backend_with_reversed_bit_order_fails(tmp_path: Path) -> None:
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(_BROKEN))
    run = _pytest("test_broken.py", "-k", "bit_order or clbits_map or random_circuit", cwd=tmp_path)
    assert run.returncode == 1, run.stdout
    assert "test_bit_order_is_qiskit_little_endian FAILED" in run.stdout or (
        "FAILED test_broken.py::TestReversed::test_bit_order_is_qiskit_little_endian" in run.stdout
    )
    # Statevectors are untouched by the wrapper, so those tests still pass.
    assert "test_random_circuit_statevector" not in run.stdout.split("short test summary")[-1]


@pytest.mark.slow
def test_command_line_option_selects_a_registered_backend(tmp_path: Path) -> None:
    run = _pytest(
        "-p",
        "qdframe.testing.conformance",
        "--pyargs",
        "qdframe.testing.conformance",
        "--qdframe-backend=numpy",
        "--qdframe-backend-option=precision=complex64",
        "-k",
        "bit_order or teleportation or global_phase",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout


@pytest.mark.slow
def test_without_a_backend_the_suite_skips(tmp_path: Path) -> None:
    run = _pytest(
        "-p",
        "qdframe.testing.conformance",
        "--pyargs",
        "qdframe.testing.conformance",
        "-k",
        "bit_order",
        "-rs",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout
    assert "--qdframe-backend=NAME" in run.stdout


def test_module_entry_point_needs_a_backend_name() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "qdframe.testing"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert "usage" in run.stderr


@pytest.mark.slow
def test_malformed_backend_option_is_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(
        "-p",
        "qdframe.testing.conformance",
        "--pyargs",
        "qdframe.testing.conformance",
        "--qdframe-backend=numpy",
        "--qdframe-backend-option=precision",
        "-k",
        "bit_order",
        cwd=tmp_path,
    )
    assert run.returncode != 0
    assert "KEY=VALUE" in run.stdout + run.stderr
