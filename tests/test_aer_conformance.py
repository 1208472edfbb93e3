"""The backend conformance suite against the ``aer`` backend, method by method,
and numpy and Aer agreeing on the suite's circuits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer import plugin as aer_plugin
from qdframe_numpy import plugin as numpy_plugin
from qiskit import QuantumCircuit
from qiskit.circuit.random import random_circuit

import qdframe as qd
from qdframe.backend import BackendResults
from qdframe.protocols import Backend
from qdframe.testing.circuits import (
    choi_circuit,
    standard_gates,
    teleportation_circuit,
    with_random_parameters,
)
from qdframe.testing.conformance import BackendConformance, BackendFactory
from qdframe.testing.stats import chi_square_test

_PLUGINS = qd.load_plugins(autoload=False, plugins=[("aer", aer_plugin), ("numpy", numpy_plugin)])


class _AerConformance(BackendConformance):
    """Builds ``aer`` from this plugin set, whatever entry points are installed."""

    @pytest.fixture
    def backend_factory(self) -> BackendFactory:
        def factory(**extra: Any) -> Backend:
            return qd.get_backend("aer", plugins=_PLUGINS, **{**self.backend_options, **extra})

        return factory


class TestAerAutomatic(_AerConformance):
    backend_options = {"device": "cpu"}  # noqa: RUF012


class TestAerStatevector(_AerConformance):
    backend_options = {"method": "statevector", "device": "cpu"}  # noqa: RUF012


class TestAerStatevectorComplex64(_AerConformance):
    backend_options = {"method": "statevector", "precision": "complex64"}  # noqa: RUF012


class TestAerMatrixProductState(_AerConformance):
    backend_options = {"method": "matrix_product_state"}  # noqa: RUF012


class TestAerDensityMatrix(_AerConformance):
    backend_options = {"method": "density_matrix"}  # noqa: RUF012

    def test_bit_order_is_qiskit_little_endian(self, backend: Backend) -> None:
        # The suite also reads a statevector here, which this method does not
        # give (capabilities.statevector is False); the counts part still applies.
        assert not backend.capabilities.statevector
        circuit = QuantumCircuit(3, 3)
        circuit.x(0)
        circuit.measure([0, 1, 2], [0, 1, 2])
        result = backend.run(circuit, shots=10, seed=1)
        assert isinstance(result, BackendResults) and result.counts == {"001": 10}


# The stabilizer method runs Clifford circuits only, so the suite's rotations
# and random circuits are outside what it can do; its own tests are in
# test_aer_backend.py.

_GATES = standard_gates(3)


def _both() -> tuple[Backend, Backend]:
    return (
        qd.get_backend("aer", plugins=_PLUGINS, device="cpu"),
        qd.get_backend("numpy", plugins=_PLUGINS),
    )


def test_numpy_and_aer_give_the_same_state_for_every_suite_gate() -> None:
    aer, reference = _both()
    for name, gate in sorted(_GATES.items()):
        seeded = with_random_parameters(gate, np.random.default_rng(sum(map(ord, name))))
        circuit = choi_circuit(seeded)
        np.testing.assert_allclose(
            aer.run(circuit, shots=0).statevector,
            reference.run(circuit, shots=0).statevector,
            atol=1e-9,
            err_msg=name,
        )


def test_numpy_and_aer_give_the_same_state_for_the_suite_random_circuits() -> None:
    aer, reference = _both()
    for seed in range(8):
        circuit = random_circuit(2 + seed % 5, depth=6, max_operands=3, seed=1000 + seed)
        np.testing.assert_allclose(
            aer.run(circuit, shots=0).statevector,
            reference.run(circuit, shots=0).statevector,
            atol=1e-9,
        )


@pytest.mark.parametrize("seed", [3, 17, 29])
def test_numpy_and_aer_sample_teleportation_alike(seed: int) -> None:
    aer, reference = _both()
    circuit = teleportation_circuit(seed)
    shots = 4000
    aer_counts = aer.run(circuit, shots=shots, seed=seed).counts
    numpy_counts = reference.run(circuit, shots=shots, seed=seed).counts
    # Test Aer's counts against numpy's frequencies (smoothed: no zero bins).
    keys = set(aer_counts) | set(numpy_counts)
    expected = {k: (numpy_counts.get(k, 0) + 0.5) / (shots + 0.5 * len(keys)) for k in keys}
    assert chi_square_test(aer_counts, expected).pvalue >= 1e-4
