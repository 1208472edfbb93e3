"""Benchmark circuit families, seeded and reproducible.

* :func:`qft_no_swaps`: the quantum Fourier transform without its final swaps.
* :func:`quantum_volume`: Qiskit's quantum-volume circuit (``depth = n`` by
  default): each layer applies random SU(4) blocks to a random pairing.
* :func:`cp_fraction`: Sundaram et al. (2021) random circuits: each layer
  pairs the qubits at random; each pair gets a ``CP`` with probability
  ``fraction``, otherwise both its qubits get random single-qubit gates.
* :func:`random_pairs`: a :class:`~qdframe.allocation.GateArray` of random
  two-qubit gates built with numpy only, for planning at scale.

:func:`family_circuit` builds any of the first three by name, as the quality
benchmark, the examples and the tuner do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from qdframe.allocation import GateArray
from qdframe.errors import ConfigError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

__all__ = [
    "FAMILIES",
    "cp_fraction",
    "family_circuit",
    "qft_no_swaps",
    "quantum_volume",
    "random_pairs",
]


def qft_no_swaps(num_qubits: int) -> QuantumCircuit:
    """The ``num_qubits``-qubit QFT (Hadamards and controlled phases, no swaps)."""
    from qiskit.synthesis import synth_qft_full

    circuit = synth_qft_full(num_qubits, do_swaps=False)
    circuit.name = f"qft{num_qubits}"
    return circuit


def quantum_volume(num_qubits: int, depth: int | None = None, seed: int = 0) -> QuantumCircuit:
    """Qiskit's quantum-volume circuit with ``depth`` layers (``num_qubits`` by default)."""
    try:
        from qiskit.circuit.library import quantum_volume as build
    except ImportError:  # Qiskit before 2.2 only has the class
        from qiskit.circuit.library import QuantumVolume

        circuit = QuantumVolume(num_qubits, depth, seed=seed).decompose()
    else:
        circuit = build(num_qubits, depth, seed=seed)
    circuit.name = f"qv{num_qubits}_s{seed}"
    return circuit


def cp_fraction(
    num_qubits: int, depth: int | None = None, fraction: float = 0.5, seed: int = 0
) -> QuantumCircuit:
    """A CP-fraction random circuit (Sundaram et al., 2021).

    Every layer shuffles the qubits into pairs (an odd one out gets a random
    single-qubit gate); a pair gets ``CP(phi)`` with a random phase with
    probability ``fraction``, otherwise each of its qubits gets a random
    ``U(theta, phi, lambda)``.
    """
    from qiskit import QuantumCircuit

    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"fraction must lie in [0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    layers = num_qubits if depth is None else depth
    circuit = QuantumCircuit(num_qubits, name=f"cpf{num_qubits}_s{seed}")
    two_pi = 2 * math.pi
    for _ in range(layers):
        order = rng.permutation(num_qubits)
        for i in range(0, num_qubits - 1, 2):
            a, b = int(order[i]), int(order[i + 1])
            if rng.random() < fraction:
                circuit.cp(float(rng.uniform(0, two_pi)), a, b)
            else:
                for q in (a, b):
                    theta, phi, lam = rng.uniform(0, two_pi, size=3)
                    circuit.u(float(theta), float(phi), float(lam), q)
        if num_qubits % 2:
            theta, phi, lam = rng.uniform(0, two_pi, size=3)
            circuit.u(float(theta), float(phi), float(lam), int(order[-1]))
    return circuit


def random_pairs(num_qubits: int, num_gates: int, seed: int = 0) -> GateArray:
    """``num_gates`` controlled phases on uniformly random distinct qubit pairs.

    Built without Qiskit, so 10**6 gates take well under a second.
    """
    if num_qubits < 2:
        raise ConfigError("random_pairs needs at least 2 qubits")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, num_qubits, size=num_gates)
    offset = rng.integers(1, num_qubits, size=num_gates)
    second = (first + offset) % num_qubits
    return GateArray.from_pairs(num_qubits, np.stack([first, second], axis=1))


def _qft(n: int, seed: int) -> QuantumCircuit:
    return qft_no_swaps(n)


def _qv(n: int, seed: int) -> QuantumCircuit:
    return quantum_volume(n, n, seed)


def _cpf(n: int, seed: int) -> QuantumCircuit:
    return cp_fraction(n, n, 0.5, seed)


#: Family name → ``builder(num_qubits, seed)`` at the benchmark's settings.
FAMILIES: dict[str, Callable[[int, int], QuantumCircuit]] = {
    "qft": _qft,
    "qv": _qv,
    "cp_fraction": _cpf,
}


def family_circuit(family: str, num_qubits: int, seed: int = 0) -> QuantumCircuit:
    """A benchmark circuit by family name (``qft``, ``qv``, ``cp_fraction``).

    :raises ConfigError: unknown family.
    """
    try:
        builder = FAMILIES[family]
    except KeyError:
        raise ConfigError(
            f"unknown circuit family {family!r}", allowed=", ".join(sorted(FAMILIES))
        ) from None
    return builder(num_qubits, seed)
