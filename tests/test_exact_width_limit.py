"""The exact simulator refuses a state over its width limit before allocating it."""

from __future__ import annotations

import tracemalloc

import pytest
from qiskit import QuantumCircuit

from qdframe.distribute.exact import simulate_histories
from qdframe.errors import ResourceError


def test_the_width_limit_is_checked_before_the_state_grows() -> None:
    circuit = QuantumCircuit(20)
    for q in range(20):
        circuit.h(q)
    limit = 18
    state = 16 << limit  # bytes of the widest state allowed
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError, match="needs 19 qubits at once"):
            simulate_histories(circuit, max_width=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Applying a gate holds two states of the allowed width; growing past the
    # limit first would have added one of twice that size (3x in all).
    assert peak < 2.5 * state
