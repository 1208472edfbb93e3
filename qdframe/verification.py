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
``qcec`` (a proof by an equivalence checker, optional)
    MQT QCEC (``pip install 'qdframe[verify]'``) compares the original with
    the distributed circuit in deferred-measurement form: every protocol
    measurement becomes a controlled copy onto a fresh qubit, every
    classically controlled correction a gate controlled by that qubit, every
    reset a fresh qubit; communication and record qubits start in ``|0>``
    (ancillary) and their final state is ignored (garbage), so QCEC's
    partial-equivalence check decides equality on the data qubits for every
    input. QCEC's partial equivalence compares output distributions in the
    computational basis, so the check runs twice, reading the data qubits in
    the Z and in the X basis (a Hadamard on each at the end); equal
    statistics in both bases for every input make the channels equal.
    Verified only when QCEC answers ``equivalent`` (up to a global
    phase); ``no_information`` or a timeout (``qcec_timeout_s``) is not a
    proof and is reported as not verified. The original must have no
    mid-circuit measurement, reset or branch. ``distance`` is 0 for a proof
    and 1 otherwise (QCEC gives no distance).
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

__all__ = [
    "METHODS",
    "VerificationResult",
    "check_method",
    "check_method_name",
    "false_accept_bound",
    "verify",
]

_QCEC_MIDWAY = (
    "method 'qcec' compares originals without mid-circuit measurements, resets or "
    "branches; use method exact or random-inputs"
)

#: Verification methods :func:`verify` accepts.
METHODS = (
    "auto",
    "exact",
    "exact-state",
    "exact-distribution",
    "random-inputs",
    "qcec",
    "sampled",
)

#: Largest trace distance taken as "equal" by the simulation methods (rounding).
EXACT_TOLERANCE = 1e-6

#: Distinct histories one verification simulation may keep.
_MAX_HISTORIES = 256

_ALL_INPUTS = "equal as channels on the data qubits for every input state"
_RANDOM_INPUTS = "equal on {k} Haar-random input states"
_SAMPLED = "output distributions from |0...0> agree within sampling error"
_QCEC = "equal on the data qubits for every input state (MQT QCEC, deferred-measurement form)"
_QCEC_NONE = "nothing: MQT QCEC reached no verdict ({why})"
_QCEC_MISSING = (
    "method 'qcec' needs MQT QCEC, which is not installed: pip install 'qdframe[verify]' "
    "(or pick method exact, random-inputs or sampled)"
)


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

    @property
    def inputs(self) -> str | int:
        """Which inputs a pass covers: ``"all"``, a count of random states, or ``"|0...0>"``."""
        if self.method == "random-inputs":
            return int(self.details.get("inputs", 0))
        if self.method == "sampled":
            return "|0...0>"
        if self.method == "qcec" and not self.verified:
            return "none"
        return "all"

    @property
    def scope(self) -> str:
        """What a pass covers, in words: all inputs, or k random inputs with their bound."""
        inputs = self.inputs
        if inputs == "all":
            return "all input states"
        if inputs == "none":
            return "nothing proved"
        if self.method == "random-inputs":
            p = self.details.get("false_accept_bound")
            eps = self.details.get("epsilon")
            return (
                f"{inputs} random input states, false-accept probability <= {p:.3g} "
                f"(for average infidelity >= {eps:g})"
            )
        return "the input |0...0> only, within sampling error"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "method": self.method,
            "proved": self.proved,
            "inputs": self.inputs,
            "scope": self.scope,
            "distance": self.distance,
            "bound": self.bound,
        }
        if self.method == "random-inputs":
            out["false_accept_probability"] = self.details.get("false_accept_bound")
            out["epsilon"] = self.details.get("epsilon")
        out["details"] = self.details
        return out


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


def check_method_name(method: str, *, key_path: str = "method") -> None:
    """Refuse a method that is not one of :data:`METHODS`.

    :raises ConfigError: naming ``key_path``, the value and the allowed methods.
    """
    if method not in METHODS:
        raise ConfigError(
            f"unknown verification method {method!r}", key_path=key_path, allowed=", ".join(METHODS)
        )


def check_method(original: QuantumCircuit, method: str) -> None:
    """Refuse, before anything runs, a method that cannot take ``original``.

    :raises CircuitError: ``qcec`` on a circuit that measures, resets or
        branches before its final measurements (what :func:`verify` would
        refuse only once the distributed program exists).
    """
    from qdframe.distribute.exact import terminal_measurements

    if method == "qcec" and _measures_midway(original, set(terminal_measurements(original))):
        raise CircuitError(_QCEC_MIDWAY)


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
    checked = 0
    for _ in range(inputs):
        worst = max(worst, pair.distance(_haar_state(1 << pair.d, rng), stats))
        checked += 1
        if worst > EXACT_TOLERANCE:
            break  # one input that differs is a disproof; the rest cannot change the verdict
    stats["inputs_checked"] = checked
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


# ------------------------------------------------------------------ qcec


def _qcec_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("mqt.qcec") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class _Deferred:
    """The distributed circuit in deferred-measurement form, data qubits back in place."""

    circuit: QuantumCircuit
    data: list[int]


def _deferred(circuit: QuantumCircuit, layout: _Layout, skip: Collection[int]) -> _Deferred:
    """Measurements as controlled copies, corrections as controlled gates, resets as fresh qubits.

    A measured qubit that is reset before anything else touches it keeps
    its outcome itself (no copy is needed); the reset moves the physical
    qubit onto a fresh wire. At the end, swaps bring each data qubit's wire
    to the wire its input started on, so both circuits read the data on the
    same wires.
    """
    from qiskit import QuantumCircuit as Circuit
    from qiskit.circuit import Clbit

    from qdframe.distribute.circuit import EPR_GATE_NAME

    qubit_index = {q: i for i, q in enumerate(circuit.qubits)}
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    wire = list(range(circuit.num_qubits))
    width = int(circuit.num_qubits)
    record: dict[int, int] = {}
    steps: list[tuple[Any, list[int]]] = []
    data = list(circuit.data)
    next_use: dict[int, str] = {}
    # next_use[position] = name of the next instruction touching the measured qubit.
    last: dict[int, int] = {}
    for position in range(len(data) - 1, -1, -1):
        item = data[position]
        touched = [qubit_index[q] for q in item.qubits]
        if item.operation.name == "measure" and touched[0] in last:
            next_use[position] = data[last[touched[0]]].operation.name
        for q in touched:
            last[q] = position

    def fresh() -> int:
        nonlocal width
        width += 1
        return width - 1

    def refuse(what: str) -> CircuitError:
        return CircuitError(f"method 'qcec' cannot take {what}; use method exact or random-inputs")

    for position, item in enumerate(data):
        if position in skip:
            continue
        operation = item.operation
        qubits = [qubit_index[q] for q in item.qubits]
        name = operation.name
        if name in ("barrier", "delay", "id"):
            continue
        if name == "measure":
            clbit = clbit_index[item.clbits[0]]
            if next_use.get(position) == "reset":
                record[clbit] = wire[qubits[0]]
            else:
                target = fresh()
                steps.append((("cx", None), [wire[qubits[0]], target]))
                record[clbit] = target
            continue
        if name == "reset":
            wire[qubits[0]] = fresh()
            continue
        if name == "if_else":
            condition = operation.condition
            if not isinstance(condition, tuple) or not isinstance(condition[0], Clbit):
                raise refuse(f"the condition {condition!r} (only single-bit conditions)")
            if len(operation.blocks) > 1 and operation.blocks[1] is not None:
                raise refuse("an if_else with an else branch")
            clbit, value = clbit_index[condition[0]], int(condition[1])
            block = operation.blocks[0]
            inner = {b: qubits[i] for i, b in enumerate(block.qubits)}
            for nested in block.data:
                gate = nested.operation
                if gate.name in ("measure", "reset") or getattr(gate, "blocks", None):
                    raise refuse(f"{gate.name!r} inside a branch")
                targets = [wire[inner[q]] for q in nested.qubits]
                if clbit in record:
                    steps.append(((gate, value), [record[clbit], *targets]))
                elif value == 0:  # a bit never written reads 0
                    steps.append(((gate, None), targets))
            continue
        if getattr(operation, "blocks", None):
            raise refuse(f"control flow {name!r}")
        steps.append(((operation, None), [wire[q] for q in qubits]))
    out = Circuit(width, global_phase=circuit.global_phase)
    for (gate, control), wires in steps:
        if gate == "cx":
            out.cx(*wires)
        elif gate.name == EPR_GATE_NAME:
            out.h(wires[0])
            out.cx(wires[0], wires[1])
        elif control is None:
            out.append(gate, wires)
        else:
            out.append(gate.control(1, ctrl_state=control), wires)
    holder = list(range(width))  # holder[w]: the wire whose content now sits on w
    where = list(range(width))
    for i, physical in enumerate(layout.final):
        source, target = where[wire[physical]], layout.initial[i]
        if source != target:
            out.swap(source, target)
            a, b = holder[source], holder[target]
            holder[source], holder[target] = b, a
            where[a], where[b] = target, source
    return _Deferred(out, list(layout.initial))


def _qcec_worker(first: Any, second: Any, options: dict[str, Any], pipe: Any) -> None:
    try:
        import mqt.qcec as qcec

        result = qcec.verify(first, second, **options)
        pipe.send(("ok", str(result.equivalence).rsplit(".", 1)[-1]))
    except Exception as exc:  # reported to the parent, which raises
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def _qcec_verdict(first: Any, second: Any, timeout_s: float) -> tuple[str, float]:
    """QCEC's verdict, in a child process that is stopped at ``timeout_s``.

    QCEC's own timeout is cooperative and large checks overrun it; a forked
    child can be stopped. Where fork is unavailable the check runs here.
    """
    import multiprocessing
    import time

    options: dict[str, Any] = {
        "check_partial_equivalence": True,
        "timeout": timeout_s,
        "parallel": False,
        "run_simulation_checker": False,
        "run_zx_checker": False,
        "run_construction_checker": False,
    }
    started = time.perf_counter()
    if "fork" not in multiprocessing.get_all_start_methods():
        import mqt.qcec as qcec

        result = qcec.verify(first, second, **options)
        return str(result.equivalence).rsplit(".", 1)[-1], time.perf_counter() - started
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_qcec_worker, args=(first, second, options, send))
    child.start()
    send.close()
    try:
        ready = receive.poll(timeout_s)
        status, answer = receive.recv() if ready else ("timeout", "")
    except EOFError:
        status, answer = "error", f"the checker process died (exit code {child.exitcode})"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    elapsed = time.perf_counter() - started
    if status == "timeout":
        return "timeout", elapsed
    if status == "error":
        raise DistributionError(f"MQT QCEC failed: {answer}")
    return str(answer), elapsed


def _qcec(pair: _Pair, timeout_s: float) -> VerificationResult:
    if not _qcec_available():
        raise ConfigError(_QCEC_MISSING)
    if _measures_midway(pair.original, pair.orig_skip):
        raise CircuitError(_QCEC_MIDWAY)
    from mqt.core import load
    from qiskit import QuantumCircuit as Circuit

    deferred = _deferred(pair.circuit, pair.layout, pair.dist_skip)
    width = deferred.circuit.num_qubits
    embedded = Circuit(width, global_phase=pair.original.global_phase)
    for position, item in enumerate(pair.original.data):
        if position in pair.orig_skip or item.operation.name == "barrier":
            continue
        qubits = [deferred.data[pair.original.find_bit(q).index] for q in item.qubits]
        embedded.append(item.operation, qubits)
    # QCEC's partial equivalence compares output distributions in the
    # computational basis only, so the check runs twice: as written (Z) and
    # with a Hadamard on every data qubit at the end (X). Equal statistics of
    # every Z-string and X-string projector for every input make each one a
    # fixed projector of the unital map "program, then original undone", so
    # they lie in its multiplicative domain; they generate every operator,
    # so that map is the identity and the two channels are equal.
    keep = set(deferred.data)
    verdicts: list[str] = []
    elapsed = 0.0
    for basis in ("Z", "X"):
        left, right = embedded.copy(), deferred.circuit.copy()
        if basis == "X":
            for q in deferred.data:
                left.h(q)
                right.h(q)
        first, second = load(left), load(right)
        for computation in (first, second):
            for w in range(width):
                if w not in keep:
                    computation.set_circuit_qubit_ancillary(w)
                    computation.set_circuit_qubit_garbage(w)
        answer, seconds = _qcec_verdict(first, second, max(timeout_s - elapsed, 1e-3))
        elapsed += seconds
        verdicts.append(answer)
        if answer not in ("equivalent", "equivalent_up_to_global_phase"):
            break
    verdict = verdicts[-1]
    proved = verdict in ("equivalent", "equivalent_up_to_global_phase")
    details: dict[str, Any] = {
        "data_qubits": pair.d,
        "distributed_qubits": pair.circuit.num_qubits,
        "deferred_qubits": width,
        "equivalence": verdict,
        "bases_checked": "ZX"[: len(verdicts)],
        "qcec_seconds": round(elapsed, 3),
        "timeout_s": timeout_s,
        "final_measurements": "compared as the state before them" if pair.orig_skip else "none",
    }
    refuted = verdict == "not_equivalent"
    text = (
        _QCEC
        if proved
        else (
            "the programs differ (MQT QCEC: not_equivalent)"
            if refuted
            else _QCEC_NONE.format(
                why=f"timed out after {timeout_s:g} s" if verdict == "timeout" else verdict
            )
        )
    )
    return VerificationResult(proved, "qcec", 0.0 if proved else 1.0, 0.0, text, details)


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
    if len(results) != 2:
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
    qcec_timeout_s: float = 60.0,
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
    :param qcec_timeout_s: how long ``qcec`` may take before it gives up
        (no verdict, not verified).
    :raises ConfigError: unknown method or invalid numbers, or ``qcec``
        without MQT QCEC installed.
    :raises CircuitError: ``qcec`` on an original that measures mid-circuit.
    :raises DistributionError: the distributed object carries no layout, or
        its qubit or classical-bit counts do not match the original.
    :raises ResourceError: an explicitly chosen simulation method exceeds its limits.
    """
    check_method_name(method)
    from qdframe.backend import validate_shots

    validate_shots(shots, minimum=1)
    if inputs < 1 or not 0 < delta < 1 or not 0 < epsilon <= 1 or not 0 < qcec_timeout_s < math.inf:
        raise ConfigError(
            "need inputs >= 1, 0 < delta < 1, 0 < epsilon <= 1 and a finite "
            f"qcec_timeout_s > 0, got inputs={inputs}, delta={delta}, "
            f"epsilon={epsilon}, qcec_timeout_s={qcec_timeout_s}"
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
    if method == "qcec":
        return _qcec(pair, qcec_timeout_s)
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
