"""Proving that a distributed circuit does what the original circuit does.

:func:`verify` compares an original circuit with its distributed form (a
:class:`~qdframe.distribute.DistributedProgram`, or the circuit it built,
which carries its layout in ``metadata["qdframe"]``). The question is
whether the distributed program implements the original *as a channel on
the data qubits, for every input state*: communication qubits are traced
out, protocol outcomes are whatever the corrections make of them, and the
original's own classical bits must come out with the same joint
distribution as the original's.

Both circuits are simulated exactly, over every measurement history, with
histories merged as they become indistinguishable
(:mod:`qdframe.distribute.exact`); each run yields a classical-quantum
state (record of the original's bits, state of the data qubits) and the two
are compared by trace distance. Measurements that nothing follows are
compared as the state before them (a stronger check, and far cheaper than
splitting into their outcomes).

``exact-state`` / ``exact-distribution`` (a proof)
    The input is the Choi state: every data qubit maximally entangled with
    a reference qubit, so one simulation shows the action on every input at
    once. ``distance`` is the trace distance between the two Choi
    (classical-quantum) states: ``0`` exactly when the two channels agree on
    every input, and ``2**d * distance`` bounds the diamond distance.
    ``exact-state`` is used when the original has no mid-circuit
    measurement, reset or branch; ``exact-distribution`` when it has (then
    the classical records are part of the comparison). Needs ``2 d`` plus
    the busy communication qubits to fit ``max_exact_qubits``.
``random-inputs`` (a randomised check)
    ``inputs`` Haar-random pure input states on the data qubits (seeded);
    ``distance`` is the largest trace distance of the outputs. Two
    different channels agree only on a measure-zero set of inputs, so in
    exact arithmetic a different program is always rejected; with the
    numerical tolerance ``tau`` a program whose average infidelity with the
    original is at least ``epsilon`` passes with probability at most
    ``(1 - (epsilon - tau)**2 / epsilon) ** inputs`` (Paley-Zygmund on the
    per-input infidelity, a value in [0, 1] whose mean is the average
    infidelity); when the original keeps no classical record a Chebyshev
    bound over the ``2**d``-dimensional input space is far smaller, about
    ``(4 / (2**d * epsilon)) ** inputs`` (see :func:`false_accept_bound`).
    Needs ``d`` plus the busy communication qubits to fit.
``sampled`` (statistics, not a proof)
    Both circuits run on a backend with ``shots`` at a fixed ``seed``; the
    total variation distance of the sampled distributions is compared with
    the deviation sampling alone explains at confidence ``1 - delta``
    (Weissman et al.'s L1 bound). Says nothing about inputs other than
    ``|0...0>`` or about phases.

``method="auto"`` tries ``exact`` when ``2 d + 2 <= max_exact_qubits``,
then ``random-inputs``, then ``sampled``, moving on only when a simulation
would exceed its limits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.errors import CircuitError, ConfigError, DistributionError, ResourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.distribute.exact import Simulation
    from qdframe.distribute.program import DistributedProgram
    from qdframe.plugins import LoadedPlugins

__all__ = ["METHODS", "VerificationResult", "false_accept_bound", "verify"]

#: Verification methods :func:`verify` accepts.
METHODS = (
    "auto",
    "exact",
    "exact-state",
    "exact-distribution",
    "random-inputs",
    "sampled",
)

#: Largest trace distance taken as "equal" by the simulation methods (rounding).
EXACT_TOLERANCE = 1e-6

#: Distinct histories one verification simulation may keep.
_MAX_HISTORIES = 256

_ALL_INPUTS = "equal as channels on the data qubits for every input state"
_RANDOM_INPUTS = "equal on {k} Haar-random input states"
_SAMPLED = "output distributions from |0...0> agree within sampling error"


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of :func:`verify`.

    :param verified: ``distance <= bound``.
    :param method: ``exact-state``, ``exact-distribution``, ``random-inputs`` or ``sampled``.
    :param distance: how far apart the two circuits are (see the module docstring).
    :param bound: the largest distance accepted.
    :param proved: what a pass establishes, in words.
    :param details: figures behind the verdict (inputs, histories, memory, ...).
    """

    verified: bool
    method: str
    distance: float
    bound: float
    proved: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.verified

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "method": self.method,
            "proved": self.proved,
            "distance": self.distance,
            "bound": self.bound,
            "details": self.details,
        }


@dataclass(frozen=True)
class _Layout:
    initial: list[int]
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
    final = [int(x) for x in record["final"]]
    return circuit, _Layout(
        initial=[int(x) for x in record.get("initial", final)],
        final=final,
        source_clbits=[int(x) for x in record.get("source_clbits", [])],
    )


def false_accept_bound(
    inputs: int, epsilon: float, tau: float, dimension: int | None = None
) -> float:
    """Chance that a channel ``epsilon``-far from the original passes ``inputs`` random inputs.

    ``epsilon`` is the average infidelity over input states; a program
    passes an input when its per-input infidelity ``X`` (a value in [0, 1],
    at most the trace distance the check measures) is at most ``tau``.
    Per input, two bounds hold and the smaller is used:

    * Paley-Zygmund, for any channel: ``P(X <= tau) <= 1 - (epsilon - tau)**2 / epsilon``;
    * Chebyshev, when the original is unitary on ``dimension = 2**d`` states
      and keeps no classical record: with Kraus operators ``K_k`` of the
      program (relative to the original) and ``z_k = <psi|K_k|psi>``, the
      entanglement fidelity is ``F = sum |E z_k|**2``, Haar inputs give
      ``E ||z - E z||**2 = (1 - F) / (dimension + 1)``, and passing needs
      ``||z|| >= sqrt(1 - tau)``, so
      ``P <= e / ((dimension + 1) (e / 2 - tau)**2)`` with ``e = 1 - F >= epsilon``.

    Inputs are independent, so the bound for all of them is the ``inputs``-th power.
    """
    if not 0 <= tau < epsilon / 2 or epsilon > 1:
        raise ConfigError(
            f"need 0 <= tau < epsilon / 2 and epsilon <= 1, got tau={tau}, epsilon={epsilon}"
        )
    one = 1.0 - (epsilon - tau) ** 2 / epsilon
    if dimension is not None:
        one = min(one, epsilon / ((dimension + 1) * (epsilon / 2 - tau) ** 2))
    return float(min(1.0, one) ** inputs)


# ------------------------------------------------------------------ the comparison


def _terminal_skips(
    original: QuantumCircuit, circuit: QuantumCircuit, layout: _Layout
) -> tuple[set[int], set[int]]:
    """Terminal measurements compared as the state before them, in both circuits.

    Only when every terminal measurement of the original has its twin
    (same qubit, same bit) terminal in the distributed circuit; a terminal
    measurement of the distributed circuit into a protocol bit is dropped
    too when its qubit is not a data qubit (it is traced out anyway).
    """
    from qdframe.distribute.exact import terminal_measurements

    orig_positions = terminal_measurements(original)
    dist_positions = terminal_measurements(circuit)
    oq = {q: i for i, q in enumerate(original.qubits)}
    oc = {c: i for i, c in enumerate(original.clbits)}
    dq = {q: i for i, q in enumerate(circuit.qubits)}
    dc = {c: i for i, c in enumerate(circuit.clbits)}
    wanted = set()
    for position in orig_positions:
        item = original.data[position]
        qubit, clbit = oq[item.qubits[0]], oc[item.clbits[0]]
        wanted.add((layout.final[qubit], layout.source_clbits[clbit]))
    source_bits = set(layout.source_clbits)
    data_qubits = set(layout.final)
    dist_skip: set[int] = set()
    found = set()
    for position in dist_positions:
        item = circuit.data[position]
        qubit, clbit = dq[item.qubits[0]], dc[item.clbits[0]]
        if (qubit, clbit) in wanted:
            found.add((qubit, clbit))
            dist_skip.add(position)
        elif clbit not in source_bits and qubit not in data_qubits:
            dist_skip.add(position)
    if found != wanted:
        return set(), {p for p in dist_skip if (dq[circuit.data[p].qubits[0]] not in data_qubits)}
    return set(orig_positions), dist_skip


def _cq_state(
    sim: Simulation, data: Sequence[int], record: Sequence[int]
) -> dict[tuple[int, ...], npt.NDArray[np.complex128]]:
    """Per record value, columns whose outer products sum to the data (and reference) state."""
    out: dict[tuple[int, ...], list[npt.NDArray[np.complex128]]] = defaultdict(list)
    for history in sim.histories:
        key = tuple((history.bits >> p) & 1 for p in record)
        out[key].append(history.matrix(data) * math.sqrt(history.probability))
    return {k: np.concatenate(v, axis=1) for k, v in out.items()}


def _trace_norm_difference(
    left: npt.NDArray[np.complex128], right: npt.NDArray[np.complex128]
) -> float:
    """``|| L L^† - R R^† ||_1`` from the Gram matrix of the columns (small)."""
    stacked = np.concatenate([left, right], axis=1)
    gram = stacked.conj().T @ stacked
    signs = np.concatenate([np.ones(left.shape[1]), -np.ones(right.shape[1])])
    # V S V^† has the nonzero eigenvalues of S G, which are real.
    eigenvalues = np.linalg.eigvals(signs[:, None] * gram)
    return float(np.sum(np.abs(eigenvalues.real)))


def _cq_distance(
    left: Mapping[tuple[int, ...], npt.NDArray[np.complex128]],
    right: Mapping[tuple[int, ...], npt.NDArray[np.complex128]],
) -> float:
    total = 0.0
    for key in set(left) | set(right):
        a = left.get(key)
        b = right.get(key)
        if a is None:
            assert b is not None
            total += float(np.sum(np.abs(b) ** 2))
        elif b is None:
            total += float(np.sum(np.abs(a) ** 2))
        else:
            total += _trace_norm_difference(a, b)
    return 0.5 * total


def _measures_midway(circuit: QuantumCircuit, skipped: Collection[int]) -> bool:
    for position, instruction in enumerate(circuit.data):
        if position in skipped:
            continue
        operation = instruction.operation
        if operation.name in ("measure", "reset") or getattr(operation, "blocks", None):
            return True
    return False


@dataclass
class _Pair:
    """The two circuits and how to read them."""

    original: QuantumCircuit
    circuit: QuantumCircuit
    layout: _Layout
    orig_skip: set[int]
    dist_skip: set[int]
    max_width: int

    @property
    def d(self) -> int:
        return int(self.original.num_qubits)

    def distance(self, initial: npt.NDArray[np.complex128], stats: dict[str, Any]) -> float:
        from qdframe.distribute.exact import simulate_histories

        d = self.d
        ref = simulate_histories(
            self.original,
            initial=initial,
            initial_qubits=list(range(d)),
            skip=self.orig_skip,
            max_width=self.max_width,
            max_histories=_MAX_HISTORIES,
        )
        dist = simulate_histories(
            self.circuit,
            record=self.layout.source_clbits,
            initial=initial,
            initial_qubits=self.layout.initial,
            skip=self.dist_skip,
            max_width=self.max_width,
            max_histories=_MAX_HISTORIES,
        )
        stats["histories"] = max(stats.get("histories", 0), len(dist.histories))
        stats["peak_histories"] = max(stats.get("peak_histories", 0), dist.peak_histories)
        stats["peak_width"] = max(stats.get("peak_width", 0), dist.peak_width)
        stats["peak_state_bytes"] = max(
            stats.get("peak_state_bytes", 0), dist.peak_bytes, ref.peak_bytes
        )
        left = _cq_state(ref, list(range(d)), list(range(self.original.num_clbits)))
        right = _cq_state(dist, self.layout.final, self.layout.source_clbits)
        return _cq_distance(left, right)


def _exact(pair: _Pair) -> VerificationResult:
    d = pair.d
    size = 1 << d
    choi = np.eye(size, dtype=np.complex128) / math.sqrt(size)
    stats: dict[str, Any] = {"data_qubits": d, "distributed_qubits": pair.circuit.num_qubits}
    distance = pair.distance(choi, stats)
    midway = _measures_midway(pair.original, pair.orig_skip)
    stats["input"] = "Choi state (every data qubit entangled with a reference qubit)"
    stats["diamond_bound"] = min(1.0, size * distance) if distance > 0 else 0.0
    stats["final_measurements"] = "compared as the state before them" if pair.orig_skip else "none"
    method = "exact-distribution" if midway else "exact-state"
    proved = _ALL_INPUTS + (", classical records included" if midway else "")
    return VerificationResult(
        distance <= EXACT_TOLERANCE, method, distance, EXACT_TOLERANCE, proved, stats
    )


def _haar_state(size: int, rng: np.random.Generator) -> npt.NDArray[np.complex128]:
    vector = rng.normal(size=size) + 1j * rng.normal(size=size)
    state: npt.NDArray[np.complex128] = (vector / np.linalg.norm(vector))[:, None]
    return state


def _random_inputs(pair: _Pair, inputs: int, seed: int, epsilon: float) -> VerificationResult:
    rng = np.random.default_rng(seed)
    stats: dict[str, Any] = {
        "data_qubits": pair.d,
        "distributed_qubits": pair.circuit.num_qubits,
        "inputs": inputs,
        "seed": seed,
    }
    worst = 0.0
    for _ in range(inputs):
        worst = max(worst, pair.distance(_haar_state(1 << pair.d, rng), stats))
    # Trace distance T bounds the infidelity X from above (X <= T), so T <= tau implies X <= tau.
    stats["epsilon"] = epsilon
    midway = _measures_midway(pair.original, pair.orig_skip)
    dimension = None if midway else 1 << pair.d
    stats["false_accept_bound"] = false_accept_bound(inputs, epsilon, EXACT_TOLERANCE, dimension)
    stats["final_measurements"] = "compared as the state before them" if pair.orig_skip else "none"
    proved = (
        _RANDOM_INPUTS.format(k=inputs)
        + f"; a program with average infidelity >= {epsilon:g} passes with probability "
        f"<= {stats['false_accept_bound']:.3g}"
    )
    return VerificationResult(
        worst <= EXACT_TOLERANCE, "random-inputs", worst, EXACT_TOLERANCE, proved, stats
    )


# ------------------------------------------------------------------ sampled


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
    keys = set(left) | set(right)
    tvd = 0.5 * sum(abs(left.get(k, 0.0) - right.get(k, 0.0)) for k in keys)
    support = len(keys)
    bound = 2 * _weissman_bound(support, shots, delta / 2)
    details = {
        "shots": shots,
        "seed": seed,
        "backend": backend_name,
        "support": support,
        "delta": delta,
    }
    return VerificationResult(tvd <= bound, "sampled", tvd, bound, _SAMPLED, details)


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


# ------------------------------------------------------------------ entry point


def verify(
    original: QuantumCircuit,
    distributed: DistributedProgram | QuantumCircuit,
    *,
    method: str = "auto",
    inputs: int = 8,
    epsilon: float = 0.01,
    shots: int = 4000,
    seed: int = 1234,
    backend: str = "numpy",
    delta: float = 1e-3,
    max_exact_qubits: int = 24,
    max_data_qubits: int | None = None,
    plugins: LoadedPlugins | None = None,
) -> VerificationResult:
    """Decide whether ``distributed`` implements ``original`` (see the module docstring).

    :param original: the circuit before distribution (any basis; measurements,
        resets and ``if_test`` blocks allowed).
    :param distributed: a :class:`~qdframe.distribute.DistributedProgram` or
        the circuit from its ``to_circuit()``.
    :param method: one of :data:`METHODS`; ``exact`` picks ``exact-state``
        or ``exact-distribution``.
    :param inputs: random input states for ``random-inputs``.
    :param epsilon: average infidelity at which ``random-inputs`` states its
        false-accept bound.
    :param shots: samples per circuit for ``sampled``.
    :param seed: seed of the random inputs and of ``sampled``.
    :param backend: backend for ``sampled``.
    :param delta: allowed probability that sampling noise alone exceeds the bound.
    :param max_exact_qubits: most qubits one simulated history may hold
        (``16 * 2**n`` bytes each; a few histories are alive at once).
    :param max_data_qubits: with ``auto``, use ``sampled`` beyond this many
        data qubits (default: no such limit).
    :raises ConfigError: unknown method or invalid numbers.
    :raises DistributionError: the distributed object carries no layout, or
        its qubit or classical-bit counts do not match the original.
    :raises ResourceError: an explicitly chosen simulation method exceeds its limits.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown verification method {method!r}", allowed=", ".join(METHODS))
    if shots < 1 or not 0 < delta < 1 or inputs < 1 or not 0 < epsilon <= 1:
        raise ConfigError(
            "need shots >= 1, inputs >= 1, 0 < delta < 1 and 0 < epsilon <= 1, got "
            f"shots={shots}, inputs={inputs}, delta={delta}, epsilon={epsilon}"
        )
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
    orig_skip, dist_skip = _terminal_skips(original, circuit, layout)
    pair = _Pair(original, circuit, layout, orig_skip, dist_skip, max_exact_qubits)

    def sampled() -> VerificationResult:
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

    if method in ("exact", "exact-state", "exact-distribution"):
        return _exact(pair)
    if method == "random-inputs":
        return _random_inputs(pair, inputs, seed, epsilon)
    if method == "sampled":
        return sampled()
    if max_data_qubits is not None and d > max_data_qubits:
        return sampled()
    notes: list[str] = []
    if 2 * d + 2 <= max_exact_qubits:
        try:
            return _exact(pair)
        except ResourceError as exc:
            notes.append(f"exact: {exc}")
    try:
        result = _random_inputs(pair, inputs, seed, epsilon)
    except ResourceError as exc:
        notes.append(f"random-inputs: {exc}")
        result = sampled()
    if notes:
        result.details["skipped"] = notes
    return result
