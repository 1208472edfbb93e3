"""How big and how long a run will be, before it starts.

The execute stage simulates the *distributed* circuit: the data qubits plus
the communication qubits the protocols use, so a 20-qubit circuit can become
a 25-qubit simulation. When the protocols measure mid-circuit and correct on
the outcome, a statevector simulator follows one trajectory per distinct
outcome history, which for more than a few such measurements is one per shot.

:func:`estimate_run` counts what will be simulated and prices it with the
time one gate takes per amplitude on this host, measured once per process
on a small probe circuit with the run's own backend. The result is an order
of magnitude, good for telling a one-second run from a ten-hour one; it is
not a benchmark. :func:`check_estimate` turns it into a refusal when the run
was given a time limit.
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
    "check_estimate",
    "estimate_run",
    "seconds_per_amplitude",
]

#: Runs estimated to take longer than this get a warning.
SLOW_RUN_S = 60.0

_PROBE_QUBITS = 14
_PROBE_LAYERS = 8
_NO_WORK = frozenset({"barrier", "measure", "delay"})


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

    :param simulated_qubits: qubits of the distributed circuit (data plus
        communication qubits).
    :param statevector_bytes: memory of one statevector of that size.
    :param gates: instructions that act on the state (measurements excluded).
    :param mid_circuit_measurements: measurements followed by more work.
    :param trajectories: statevector simulations the shots need: 1 per shot
        batch when nothing branches, else up to one per shot (at most one per
        outcome history in each batch).
    :param seconds_per_amplitude: measured cost of one gate on one amplitude.
    :param seconds: the estimate, ``trajectories * gates * 2**qubits * cost``.
    """

    simulated_qubits: int
    statevector_bytes: int
    gates: int
    mid_circuit_measurements: int
    trajectories: int
    seconds_per_amplitude: float
    seconds: float
    backend: str

    def describe(self) -> str:
        """One line for people: qubits, memory, trajectories and time."""
        from qdframe.backend import format_bytes

        runs = (
            f"{self.trajectories} trajectories"
            if self.trajectories > 1
            else "one statevector simulation"
        )
        return (
            f"{self.simulated_qubits} simulated qubits "
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


def estimate_run(
    circuit: QuantumCircuit,
    shots: int,
    *,
    batch_shots: int | None = None,
    backend: str,
    plugins: LoadedPlugins,
    precision: str = "complex128",
) -> RunEstimate:
    """Estimate the execute stage of ``shots`` shots of the distributed ``circuit``.

    :param batch_shots: shots per batch (``[recovery] checkpoint_interval``);
        each batch is simulated on its own. ``None``: one batch.
    """
    from qdframe.backend import statevector_bytes

    gates = sum(1 for i in circuit.data if i.operation.name not in _NO_WORK)
    mid = _mid_circuit_measurements(circuit)
    per_batch = shots if batch_shots is None else max(1, min(batch_shots, shots))
    full, rest = divmod(shots, per_batch)
    histories = 2 ** min(mid, 62)
    trajectories = full * min(per_batch, histories) + (min(rest, histories) if rest else 0)
    cost = seconds_per_amplitude(backend, plugins)
    n = circuit.num_qubits
    seconds = trajectories * max(gates, 1) * float(2**n) * cost
    return RunEstimate(
        simulated_qubits=n,
        statevector_bytes=statevector_bytes(n, precision),
        gates=gates,
        mid_circuit_measurements=mid,
        trajectories=trajectories,
        seconds_per_amplitude=cost,
        seconds=seconds,
        backend=backend,
    )


def check_estimate(estimate: RunEstimate, max_seconds: float | None) -> None:
    """Refuse a run whose estimate is over ``max_seconds``.

    :raises RunTooLongError: naming the estimate, the limit and what would help.
    """
    if max_seconds is None or estimate.seconds <= max_seconds:
        return
    raise RunTooLongError(
        f"refusing to run: {estimate.describe()}, over the limit of {max_seconds:g} s "
        "(--max-seconds); use fewer shots, nodes with more qubits (fewer communication "
        "qubits to simulate), or raise the limit"
    )
