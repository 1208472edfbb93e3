"""Checking that a distributed circuit does what the original circuit does.

:func:`verify` compares an original circuit with its distributed form (a
:class:`~qdframe.distribute.DistributedProgram`, or the circuit it built,
which carries its layout in ``metadata["qdframe"]``). Three methods:

``exact-state``
    The distributed circuit is simulated exactly over every combination of
    protocol measurement outcomes (:mod:`qdframe.distribute.exact`). For
    every history the state must factor as "the original's final state on
    the data qubits" (from the numpy backend, ``shots=0``) times anything on
    the communication qubits. ``distance = sqrt(1 - F)``, with ``F`` the
    probability-weighted fidelity of the data qubits with the original
    state, bounds the trace distance. Used when the original does not
    measure, reset or branch.
``exact-distribution``
    Both circuits simulated exactly; the joint distribution of the original
    classical bits and a final computational-basis measurement of the data
    qubits is compared; ``distance`` is its total variation distance. Used
    when the original measures, resets or branches.
``sampled``
    Both circuits run on a backend (``numpy`` by default) with ``shots`` at a
    fixed ``seed``; ``distance`` is the total variation distance of the
    sampled distributions, ``bound`` the deviation that sampling alone
    explains with probability ``1 - delta`` (Weissman et al.'s L1 bound for
    an empirical distribution over ``K`` observed outcomes,
    ``sqrt(2 (K ln 2 + ln(2 / delta)) / N) / 2`` per sample). For circuits
    too wide for exact simulation.

``method="auto"`` picks ``exact-*`` for up to ``max_data_qubits`` data
qubits (12) when the distributed circuit has at most ``max_exact_qubits``
qubits (22), and ``sampled`` otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import CircuitError, ConfigError, DistributionError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.distribute.exact import Branch
    from qdframe.distribute.program import DistributedProgram
    from qdframe.plugins import LoadedPlugins

__all__ = ["METHODS", "VerificationResult", "verify"]

#: Verification methods :func:`verify` accepts.
METHODS = ("auto", "exact", "exact-state", "exact-distribution", "sampled")

_EXACT_BOUND = 1e-6
_MEASURING = frozenset({"measure", "reset"})


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of :func:`verify`.

    :param verified: ``distance <= bound``.
    :param method: ``exact-state``, ``exact-distribution`` or ``sampled``.
    :param distance: how far apart the two circuits are (see the module docstring).
    :param bound: the largest distance accepted.
    :param details: figures behind the verdict (histories, fidelity, shots, ...).
    """

    verified: bool
    method: str
    distance: float
    bound: float
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.verified

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "method": self.method,
            "distance": self.distance,
            "bound": self.bound,
            "details": self.details,
        }


@dataclass(frozen=True)
class _Layout:
    final: list[int]
    source_clbits: list[int]


def _distributed_circuit(distributed: Any) -> tuple[QuantumCircuit, _Layout]:
    from qiskit import QuantumCircuit

    from qdframe.distribute.circuit import METADATA_KEY

    if isinstance(distributed, QuantumCircuit):
        circuit = distributed
    elif hasattr(distributed, "to_circuit"):
        circuit = distributed.to_circuit()
    else:
        raise DistributionError(
            f"cannot verify a {type(distributed).__name__}; pass a DistributedProgram or the "
            "circuit it built (program.to_circuit())"
        )
    record = (circuit.metadata or {}).get(METADATA_KEY)
    if not isinstance(record, Mapping) or "final" not in record:
        raise DistributionError(
            "the distributed circuit carries no layout (metadata['qdframe']); verify the "
            "DistributedProgram or the circuit from program.to_circuit()"
        )
    return circuit, _Layout(
        final=[int(x) for x in record["final"]],
        source_clbits=[int(x) for x in record.get("source_clbits", [])],
    )


def _measures(circuit: QuantumCircuit) -> bool:
    """Whether the circuit measures, resets or branches (so it has a classical record)."""
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name in _MEASURING or getattr(operation, "blocks", None):
            return True
    return False


def _data_matrix(state: npt.NDArray[np.complex128], n: int, data: Sequence[int]) -> Any:
    """The state as a ``(2**d, rest)`` matrix; rows in the original qubits' order."""
    tensor = state.reshape((2,) * n)
    axes = [n - 1 - data[i] for i in reversed(range(len(data)))]
    return np.moveaxis(tensor, axes, list(range(len(data)))).reshape(1 << len(data), -1)


def _record(branch: Branch, positions: Sequence[int]) -> tuple[int, ...]:
    return tuple((branch.bits >> p) & 1 for p in positions)


def _record_tvd(left: Mapping[Any, float], right: Mapping[Any, float]) -> float:
    keys = set(left) | set(right)
    return 0.5 * sum(abs(left.get(k, 0.0) - right.get(k, 0.0)) for k in keys)


def _reference_state(original: QuantumCircuit, plugins: LoadedPlugins | None) -> Any:
    """The original's final state from the numpy backend (exact, ``shots=0``)."""
    from qdframe.backend import get_backend

    try:
        backend = get_backend("numpy", plugins=plugins)
    except Exception:
        return None
    result = backend.run(original, shots=0)
    if isinstance(result, list) or result.statevector is None:
        return None
    return np.asarray(result.statevector)


def _exact(
    original: QuantumCircuit,
    circuit: QuantumCircuit,
    layout: _Layout,
    *,
    method: str,
    max_exact_qubits: int,
    plugins: LoadedPlugins | None,
) -> VerificationResult:
    from qdframe.distribute.exact import simulate_branches

    d = original.num_qubits
    dist_branches = simulate_branches(
        circuit, record=layout.source_clbits, max_qubits=max_exact_qubits
    )
    details: dict[str, Any] = {
        "data_qubits": d,
        "distributed_qubits": circuit.num_qubits,
        "histories": len(dist_branches),
    }
    if _measures(original) or method == "exact-distribution":
        orig_branches = simulate_branches(original, max_qubits=max_exact_qubits)
        details["reference"] = "exact branch simulation"
        return _exact_distribution(orig_branches, dist_branches, circuit, layout, details)
    reference = _reference_state(original, plugins)
    if reference is None:
        reference = simulate_branches(original, max_qubits=max_exact_qubits)[0].state
        details["reference"] = "exact branch simulation"
    else:
        details["reference"] = "numpy backend statevector"
    fidelity = 0.0
    n = circuit.num_qubits
    for branch in dist_branches:
        projected = reference.conj() @ _data_matrix(branch.state, n, layout.final[:d])
        fidelity += branch.probability * float(np.sum(np.abs(projected) ** 2))
    distance = math.sqrt(max(0.0, 1.0 - fidelity))
    details["fidelity"] = fidelity
    return VerificationResult(
        distance <= _EXACT_BOUND, "exact-state", distance, _EXACT_BOUND, details
    )


def _exact_distribution(
    orig_branches: list[Branch],
    dist_branches: list[Branch],
    circuit: QuantumCircuit,
    layout: _Layout,
    details: dict[str, Any],
) -> VerificationResult:
    d = len(layout.final)
    num_clbits = len(layout.source_clbits)

    def table(branches: list[Branch], n: int, data: Sequence[int], record: Sequence[int]) -> Any:
        out: dict[tuple[int, ...], npt.NDArray[np.float64]] = {}
        for branch in branches:
            key = _record(branch, record)
            probs = np.sum(np.abs(_data_matrix(branch.state, n, data)) ** 2, axis=1)
            out[key] = out.get(key, 0.0) + branch.probability * probs
        return out

    left = table(orig_branches, d, list(range(d)), list(range(num_clbits)))
    right = table(dist_branches, circuit.num_qubits, layout.final, layout.source_clbits)
    zero = np.zeros(1 << d)
    tvd = 0.5 * sum(
        float(np.sum(np.abs(left.get(k, zero) - right.get(k, zero))))
        for k in set(left) | set(right)
    )
    details["joint_outcomes"] = int(sum(np.count_nonzero(v > 1e-15) for v in left.values()))
    return VerificationResult(tvd <= _EXACT_BOUND, "exact-distribution", tvd, _EXACT_BOUND, details)


def _weissman_bound(support: int, shots: int, delta: float) -> float:
    """Half the L1 deviation of an empirical distribution, at confidence ``1 - delta``."""
    return 0.5 * math.sqrt(2.0 * (support * math.log(2.0) + math.log(2.0 / delta)) / shots)


def _sampled(
    original: QuantumCircuit,
    circuit: QuantumCircuit,
    layout: _Layout,
    *,
    shots: int,
    seed: int,
    backend_name: str,
    delta: float,
    plugins: LoadedPlugins | None,
) -> VerificationResult:
    from qiskit import ClassicalRegister

    from qdframe.backend import get_backend

    backend = get_backend(backend_name, plugins=plugins)
    d = original.num_qubits
    measured = circuit.copy()
    data_bits = ClassicalRegister(d, "qdframe_verify")
    measured.add_register(data_bits)
    for i, physical in enumerate(layout.final[:d]):
        measured.measure(physical, data_bits[i])
    reference = original.copy()
    ref_bits = ClassicalRegister(d, "qdframe_verify")
    reference.add_register(ref_bits)
    for i in range(d):
        reference.measure(i, ref_bits[i])
    orig_positions = list(range(original.num_clbits)) + [
        reference.find_bit(b).index for b in ref_bits
    ]
    dist_positions = layout.source_clbits[: original.num_clbits] + [
        measured.find_bit(b).index for b in data_bits
    ]
    results = backend.run([reference, measured], shots=shots, seed=seed)
    if not isinstance(results, list) or len(results) != 2:
        raise DistributionError(f"backend {backend_name!r} returned no result per circuit")
    left = _marginal(results[0].counts, orig_positions, reference.num_clbits)
    right = _marginal(results[1].counts, dist_positions, measured.num_clbits)
    tvd = _record_tvd(left, right)
    support = len(set(left) | set(right))
    bound = 2 * _weissman_bound(support, shots, delta / 2)
    details = {
        "shots": shots,
        "seed": seed,
        "backend": backend_name,
        "support": support,
        "delta": delta,
    }
    return VerificationResult(tvd <= bound, "sampled", tvd, bound, details)


def _marginal(counts: Mapping[str, int], positions: Sequence[int], width: int) -> dict[str, float]:
    total = sum(counts.values())
    out: dict[str, float] = defaultdict(float)
    for key, count in counts.items():
        bits = key.replace(" ", "")
        if len(bits) != width:
            raise DistributionError(f"backend returned a {len(bits)}-bit key for {width} clbits")
        picked = "".join(bits[width - 1 - p] for p in positions)
        out[picked] += count / total
    return out


def verify(
    original: QuantumCircuit,
    distributed: DistributedProgram | QuantumCircuit,
    *,
    method: str = "auto",
    shots: int = 4000,
    seed: int = 1234,
    backend: str = "numpy",
    delta: float = 1e-3,
    max_data_qubits: int = 12,
    max_exact_qubits: int = 22,
    plugins: LoadedPlugins | None = None,
) -> VerificationResult:
    """Check that ``distributed`` computes what ``original`` does (see the module docstring).

    :param original: the circuit before distribution (any basis; final
        measurements allowed).
    :param distributed: a :class:`~qdframe.distribute.DistributedProgram` or
        the circuit from its ``to_circuit()``.
    :param method: one of :data:`METHODS`; ``exact`` picks ``exact-state``
        when it applies, else ``exact-distribution``.
    :param shots: samples per circuit for ``sampled``.
    :param seed: seed for ``sampled``.
    :param backend: backend for ``sampled`` (needs mid-circuit measurement
        and classical conditions).
    :param delta: allowed probability that sampling noise alone exceeds the bound.
    :raises ConfigError: unknown method or invalid numbers.
    :raises DistributionError: the distributed object carries no layout, or
        its qubit or classical-bit counts do not match the original.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown verification method {method!r}", allowed=", ".join(METHODS))
    if shots < 1 or not 0 < delta < 1:
        raise ConfigError(f"need shots >= 1 and 0 < delta < 1, got shots={shots}, delta={delta}")
    circuit, layout = _distributed_circuit(distributed)
    d = original.num_qubits
    if len(layout.final) != d:
        raise DistributionError(
            f"the original has {d} qubits but the distributed circuit places {len(layout.final)}"
        )
    if len(layout.source_clbits) != original.num_clbits:
        raise DistributionError(
            f"the original has {original.num_clbits} classical bits but the distributed circuit "
            f"carries {len(layout.source_clbits)} of them"
        )
    if original.parameters:
        raise CircuitError("the original circuit has unbound parameters; bind them first")
    chosen = method
    if method == "auto":
        fits = d <= max_data_qubits and circuit.num_qubits <= max_exact_qubits
        chosen = "exact" if fits else "sampled"
    if chosen == "sampled":
        return _sampled(
            original,
            circuit,
            layout,
            shots=shots,
            seed=seed,
            backend_name=backend,
            delta=delta,
            plugins=plugins,
        )
    return _exact(
        original,
        circuit,
        layout,
        method=chosen,
        max_exact_qubits=max_exact_qubits,
        plugins=plugins,
    )
