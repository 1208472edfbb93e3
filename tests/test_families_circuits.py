"""Benchmark circuit families: structure and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from qdframe.allocation import GateArray, normalize_circuit
from qdframe.errors import ConfigError
from qdframe.families import (
    FAMILIES,
    cp_fraction,
    family_circuit,
    qft_no_swaps,
    quantum_volume,
    random_pairs,
)


def test_qft_has_one_cp_per_pair_and_no_swaps() -> None:
    circuit = qft_no_swaps(6)
    ops = circuit.count_ops()
    assert ops["cp"] == 15 and ops["h"] == 6 and "swap" not in ops


def test_quantum_volume_is_seeded_and_has_n_layers_of_su4_blocks() -> None:
    a, b = quantum_volume(6, seed=4), quantum_volume(6, seed=4)
    assert a == b and a != quantum_volume(6, seed=5)
    basic = normalize_circuit(a)
    # 6 layers x 3 blocks x 3 CPs after decomposition.
    assert basic.count_ops()["cp"] == 54


def test_cp_fraction_is_seeded_and_follows_the_fraction() -> None:
    assert cp_fraction(8, seed=1) == cp_fraction(8, seed=1)
    assert cp_fraction(8, seed=1) != cp_fraction(8, seed=2)
    assert "cp" not in cp_fraction(8, 8, 0.0, seed=0).count_ops()
    full = cp_fraction(8, 5, 1.0, seed=0)
    assert full.count_ops()["cp"] == 20 and "u" not in full.count_ops()
    half = cp_fraction(64, 64, 0.5, seed=3).count_ops()["cp"]
    assert 0.4 * 32 * 64 < half < 0.6 * 32 * 64
    with pytest.raises(ConfigError, match="fraction"):
        cp_fraction(4, 4, 1.5)


def test_family_circuit_by_name() -> None:
    assert set(FAMILIES) == {"qft", "qv", "cp_fraction"}
    assert family_circuit("qft", 5).num_qubits == 5
    with pytest.raises(ConfigError, match="allowed: cp_fraction, qft, qv"):
        family_circuit("ghz", 5)


def test_random_pairs_gate_array() -> None:
    gates = random_pairs(100, 5000, seed=2)
    assert isinstance(gates, GateArray)
    assert gates.num_gates == gates.num_two_qubit == 5000
    assert (gates.qubits[:, 0] != gates.qubits[:, 1]).all()
    np.testing.assert_array_equal(gates.qubits, random_pairs(100, 5000, seed=2).qubits)
