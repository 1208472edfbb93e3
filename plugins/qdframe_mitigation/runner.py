"""How a mitigator runs circuits: a callable the orchestrator supplies.

Mitigators never choose a backend or a noise model themselves; they build
circuits and hand them to a :class:`CircuitRunner`, which returns one counts
dictionary per circuit. :func:`backend_runner` makes one from any registered
backend and an optional noise model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugin import Backend, NoiseModel

__all__ = ["CircuitRunner", "backend_runner"]


class CircuitRunner(Protocol):
    """Runs circuits with measurements and returns their counts, in order.

    Counts use the :class:`qdframe.BackendResult` convention: one character per
    classical bit, clbit 0 rightmost.
    """

    def __call__(
        self, circuits: Sequence[QuantumCircuit], *, shots: int, seed: int | None
    ) -> list[Mapping[str, int]]: ...


def backend_runner(backend: Backend, noise: NoiseModel | None = None) -> CircuitRunner:
    """A :class:`CircuitRunner` that runs every batch on ``backend`` with ``noise``."""

    def run(
        circuits: Sequence[QuantumCircuit], *, shots: int, seed: int | None
    ) -> list[Mapping[str, int]]:
        if not circuits:
            return []
        results = backend.run(list(circuits), shots=shots, seed=seed, noise=noise)
        return [result.counts for result in results]

    return run
