"""How big and how long a run will be, before it starts.

The execute stage simulates the *distributed* circuit: the data qubits plus
the communication qubits the protocols use. Without noise the built-in
backends run such a circuit once per shot batch, whatever its shots, and
hold only the qubits in use at each moment: the data qubits plus the few
communication qubits busy in a protocol (a measured or reset communication
qubit leaves the state). So a 20-qubit circuit on a 27-qubit network is a
simulation of about 26 qubits at its widest. With noise, or when the source
circuit itself measures mid-circuit and acts on the outcome, the simulator
follows one trajectory per distinct outcome history over every qubit, which
for more than a few such measurements is one per shot.

:func:`estimate_run` counts what will be simulated and prices it with the
time one gate takes per amplitude on this host, measured once per process
on a small probe circuit with the run's own backend. The result is an order
of magnitude, good for telling a one-second run from a ten-hour one; it is
not a benchmark. :func:`check_estimate` turns it into a refusal when the run
was given a time limit, and :func:`check_memory_fits` refuses, before any
backend is chosen, a run whose widest state cannot fit the memory budget.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qdframe.errors import ResourceError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.plugins import LoadedPlugins

__all__ = [
    "SLOW_RUN_S",
    "RunEstimate",
    "RunTooLongError",
    "SimulationProfile",
    "check_estimate",
    "check_memory_fits",
    "estimate_run",
    "memory_advice",
    "seconds_per_amplitude",
    "simulation_profile",
]

#: Runs estimated to take longer than this get a warning.
SLOW_RUN_S = 60.0

_PROBE_QUBITS = 14
_PROBE_LAYERS = 8
_NO_WORK = frozenset({"barrier", "measure", "delay"})
_SKIP = frozenset({"barrier", "delay", "id", "global_phase"})


class RunTooLongError(ResourceError):
    """The run's estimate is over the time limit it was given (``max_seconds``)."""


def _format_seconds(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            value = seconds / size
            return f"about {value:.1f} {unit}s" if value < 10 else f"about {value:.0f} {unit}s"
    return f"about {seconds:.0f} s"


@dataclass(frozen=True)
class RunEstimate:
    """The size and expected duration of a run's execute stage.

    :param simulated_qubits: qubits held in the state at its widest (data plus
        the communication qubits in use at once; every qubit of the circuit
        when it runs trajectory by trajectory).
    :param statevector_bytes: memory of one statevector of that size.
    :param gates: instructions that act on the state (measurements excluded).
    :param mid_circuit_measurements: measurements followed by more work.
    :param trajectories: statevector simulations the shots need: 1 per shot
        batch when nothing branches, else up to one per shot (at most one per
        outcome history in each batch).
    :param seconds_per_amplitude: measured cost of one gate on one amplitude.
    :param seconds: the estimate: ``trajectories`` times the amplitudes every
        gate touches (``2**width`` at the width in use then) times the cost.
    :param circuit_qubits: qubits of the distributed circuit (0: not given).
    :param single_simulation: one simulation serves each batch's shots.
    """

    simulated_qubits: int
    statevector_bytes: int
    gates: int
    mid_circuit_measurements: int
    trajectories: int
    seconds_per_amplitude: float
    seconds: float
    backend: str
    circuit_qubits: int = 0
    single_simulation: bool = False

    def describe(self) -> str:
        """One line for people: qubits, memory, trajectories and time."""
        from qdframe.backend import format_bytes

        if self.single_simulation:
            runs = (
                f"{self.trajectories} simulations (one per shot batch)"
                if self.trajectories > 1
                else "one simulation"
            )
        else:
            runs = (
                f"{self.trajectories} trajectories"
                if self.trajectories > 1
                else "one statevector simulation"
            )
        of = (
            f" of the circuit's {self.circuit_qubits}"
            if self.circuit_qubits > self.simulated_qubits
            else ""
        )
        return (
            f"{self.simulated_qubits}{of} simulated qubits "
            f"({format_bytes(self.statevector_bytes)} per statevector), {runs} of "
            f"{self.gates} gates on {self.backend}: {_format_seconds(self.seconds)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "simulated_qubits": self.simulated_qubits,
            "statevector_bytes": self.statevector_bytes,
            "gates": self.gates,
            "mid_circuit_measurements": self.mid_circuit_measurements,
            "trajectories": self.trajectories,
            "seconds_per_amplitude": self.seconds_per_amplitude,
            "seconds": self.seconds,
            "backend": self.backend,
            "circuit_qubits": self.circuit_qubits,
            "single_simulation": self.single_simulation,
        }


def _probe_circuit() -> QuantumCircuit:
    from qiskit import QuantumCircuit

    probe = QuantumCircuit(_PROBE_QUBITS)
    for layer in range(_PROBE_LAYERS):
        for q in range(_PROBE_QUBITS):
            probe.u(0.1 * (q + 1), 0.2 * layer, 0.3, q)
        for q in range(layer % 2, _PROBE_QUBITS - 1, 2):
            probe.cp(0.7, q, q + 1)
    return probe


@functools.lru_cache(maxsize=8)
def _measured_cost(backend_name: str, plugins: LoadedPlugins) -> float:
    from qdframe.backend import get_backend

    backend = get_backend(backend_name, plugins=plugins)
    probe = _probe_circuit()
    backend.run(probe, shots=0)  # the first run pays for imports and compilation
    started = time.perf_counter()
    backend.run(probe, shots=0)
    elapsed = time.perf_counter() - started
    work: int = probe.size() * 2**_PROBE_QUBITS
    return max(elapsed / float(work), 1e-12)


def seconds_per_amplitude(backend_name: str, plugins: LoadedPlugins) -> float:
    """Seconds one gate takes per amplitude on ``backend_name``, measured once per process."""
    return float(_measured_cost(backend_name, plugins))


def _mid_circuit_measurements(circuit: QuantumCircuit) -> int:
    """Measurements after which some instruction still touches one of the circuit's wires."""
    last_work: dict[Any, int] = {}
    measures: list[tuple[int, Any]] = []
    for position, instruction in enumerate(circuit.data):
        name = instruction.operation.name
        if name == "barrier":
            continue
        if name == "measure":
            measures.append((position, instruction.qubits[0]))
        for qubit in instruction.qubits:
            last_work[qubit] = position
        for clbit in instruction.clbits:
            last_work[clbit] = position
        condition = getattr(instruction.operation, "condition", None)
        if name in {"if_else", "while_loop", "switch_case"} or condition is not None:
            for clbit in circuit.clbits:
                last_work.setdefault(clbit, position)
    # A measurement whose qubit is used again, or whose bit feeds a condition
    # (control flow reads classical bits), branches the simulation.
    flow = [i for i, ins in enumerate(circuit.data) if ins.operation.name == "if_else"]
    count = 0
    for position, qubit in measures:
        if last_work.get(qubit, position) > position or any(f > position for f in flow):
            count += 1
    return count


@dataclass(frozen=True)
class SimulationProfile:
    """What one simulation of a circuit holds and touches.

    :param peak_qubits: qubits in the state at its widest.
    :param amplitude_updates: amplitudes every gate touches, summed over the
        gates (``2**width`` each, at the width in use when it runs).
    :param single_simulation: one simulation serves every shot of a batch
        (a noise-free distributed circuit); else one trajectory per outcome
        history over all of the circuit's qubits.
    :param mid_circuit_measurements: measurements that branch the
        simulation (of a distributed circuit: those into the source circuit's
        own bits; protocol outcomes are corrected away).
    """

    peak_qubits: int
    amplitude_updates: float
    single_simulation: bool
    mid_circuit_measurements: int


def _source_clbits(circuit: QuantumCircuit) -> frozenset[int] | None:
    from qdframe.distribute.circuit import METADATA_KEY

    record = (circuit.metadata or {}).get(METADATA_KEY)
    if not isinstance(record, dict) or "source_clbits" not in record:
        return None
    return frozenset(int(b) for b in record["source_clbits"])


def simulation_profile(circuit: QuantumCircuit, *, noisy: bool = False) -> SimulationProfile:
    """How wide a simulation of ``circuit`` gets and how much work its gates are.

    A noise-free distributed circuit (one made by
    ``DistributedProgram.to_circuit()``) is simulated once with only the
    qubits in use: a qubit joins the state at the first gate on it and leaves
    when a measurement that more work follows, or a reset, fixes its value.
    Terminal measurements are sampled from the final state. Any other circuit
    holds all of its qubits for every gate, once per trajectory.
    """
    from qdframe.distribute.exact import terminal_measurements

    gates = sum(1 for i in circuit.data if i.operation.name not in _NO_WORK)
    source = _source_clbits(circuit)
    if source is None or noisy:
        n = circuit.num_qubits
        return SimulationProfile(
            n, float(max(gates, 1)) * float(2**n), False, _mid_circuit_measurements(circuit)
        )
    terminal = set(terminal_measurements(circuit))
    index = {q: i for i, q in enumerate(circuit.qubits)}
    active: set[int] = set()
    peak = 0
    work = 0.0
    for position, instruction in enumerate(circuit.data):
        name = instruction.operation.name
        if name in _SKIP:
            continue
        qubits = [index[q] for q in instruction.qubits]
        if name in ("measure", "reset"):
            if position not in terminal:
                active.discard(qubits[0])
            continue
        active.update(qubits)
        peak = max(peak, len(active))
        work += float(2 ** len(active))
    # A source measurement that more work follows keeps its histories apart
    # (the source circuit's bits are in the counts); protocol ones merge.
    clbit_index = {c: i for i, c in enumerate(circuit.clbits)}
    branching = sum(
        1
        for position, instruction in enumerate(circuit.data)
        if instruction.operation.name == "measure"
        and position not in terminal
        and clbit_index[instruction.clbits[0]] in source
    )
    return SimulationProfile(peak, max(work, 1.0), True, branching)


def estimate_run(
    circuit: QuantumCircuit,
    shots: int,
    *,
    batch_shots: int | None = None,
    backend: str,
    plugins: LoadedPlugins,
    precision: str = "complex128",
    noisy: bool = False,
    profile: SimulationProfile | None = None,
) -> RunEstimate:
    """Estimate the execute stage of ``shots`` shots of the distributed ``circuit``.

    :param batch_shots: shots per batch (``[recovery] checkpoint_interval``);
        each batch is simulated on its own. ``None``: one batch.
    :param noisy: the run has a noise model (every shot is its own trajectory
        over every qubit).
    :param profile: :func:`simulation_profile` of ``circuit``, when already made.
    """
    from qdframe.backend import statevector_bytes

    if profile is None:
        profile = simulation_profile(circuit, noisy=noisy)
    gates = sum(1 for i in circuit.data if i.operation.name not in _NO_WORK)
    mid = profile.mid_circuit_measurements
    per_batch = shots if batch_shots is None else max(1, min(batch_shots, shots))
    full, rest = divmod(shots, per_batch)
    histories = 2 ** min(mid, 62)
    if noisy:
        histories = 2**62  # every shot draws its own errors
    trajectories = full * min(per_batch, histories) + (min(rest, histories) if rest else 0)
    cost = seconds_per_amplitude(backend, plugins)
    seconds = trajectories * profile.amplitude_updates * cost
    return RunEstimate(
        simulated_qubits=profile.peak_qubits,
        statevector_bytes=statevector_bytes(profile.peak_qubits, precision),
        gates=gates,
        mid_circuit_measurements=mid,
        trajectories=trajectories,
        seconds_per_amplitude=cost,
        seconds=seconds,
        backend=backend,
        circuit_qubits=circuit.num_qubits,
        single_simulation=profile.single_simulation and histories < 2**62,
    )


def check_estimate(estimate: RunEstimate, max_seconds: float | None) -> None:
    """Refuse a run whose estimate is over ``max_seconds``.

    :raises RunTooLongError: naming the estimate, the limit and what would help.
    """
    if max_seconds is None or estimate.seconds <= max_seconds:
        return
    if not estimate.single_simulation:
        fewer_shots = "fewer shots (--shots), "
    elif estimate.trajectories > 1:
        # Each batch is one simulation: fewer, larger batches cost less.
        fewer_shots = (
            "fewer shot batches (fewer --shots, or a larger `[recovery] checkpoint_interval`), "
        )
    else:
        fewer_shots = ""
    raise RunTooLongError(
        f"refusing to run: {estimate.describe()}, over the limit of {max_seconds:g} s "
        f"(--max-seconds); use {fewer_shots}nodes with more qubits (--qubits-per-node: "
        "fewer communication qubits to simulate), the classical mode (--mode classical: "
        "circuit cutting), or raise the limit"
    )


def memory_advice(
    qubits: int, precision: str, budget_bytes: int, *, data_qubits: int | None = None
) -> list[str]:
    """What would make a ``qubits``-qubit state fit ``budget_bytes``, as CLI flags.

    Only suggestions that apply are given: half precision when half the
    memory fits, fewer communication qubits when the data qubits alone fit,
    and circuit cutting (pieces that each fit one node), which always does.
    """
    from qdframe.backend import format_bytes, statevector_bytes

    advice: list[str] = []
    if precision != "complex64" and statevector_bytes(qubits, "complex64") <= budget_bytes:
        advice.append(
            'single precision (`[acceleration] precision = "complex64"` in the --config '
            f"file: {format_bytes(statevector_bytes(qubits, 'complex64'))})"
        )
    if (
        data_qubits is not None
        and data_qubits < qubits
        and statevector_bytes(data_qubits, precision) <= budget_bytes
    ):
        advice.append(
            "fewer, larger nodes (--nodes, --qubits-per-node): fewer communication "
            "qubits in use at once"
        )
    advice.append("circuit cutting instead of EPR pairs (--mode classical)")
    advice.append("a larger budget (`[memory] max_memory_bytes`) on a host with more memory")
    return advice


def check_memory_fits(
    profile: SimulationProfile,
    *,
    precision: str,
    budget_bytes: int,
    budget_source: str,
    data_qubits: int | None = None,
) -> None:
    """Refuse, before any backend is chosen, a simulation whose widest state cannot fit.

    :raises ResourceError: naming the qubits, the bytes needed, the budget and
        the suggestions of :func:`memory_advice`.
    """
    from qdframe.backend import format_bytes, statevector_bytes

    needed = statevector_bytes(profile.peak_qubits, precision)
    if needed <= budget_bytes:
        return
    advice = memory_advice(profile.peak_qubits, precision, budget_bytes, data_qubits=data_qubits)
    raise ResourceError(
        f"refusing to run: the simulation holds {profile.peak_qubits} qubits at once, a "
        f"{precision} statevector of {format_bytes(needed)}, but only "
        f"{format_bytes(budget_bytes)} may be used ({budget_source}); try " + "; or ".join(advice)
    )
