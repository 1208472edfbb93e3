"""Every shot of a distributed circuit from one Aer simulation.

:func:`single_simulation` runs the deferred-measurement form
(:mod:`qdframe_aer.deferred`) once, checks that each reset was
deterministic, and draws all shots from the final probabilities of the
source circuit's measured qubits. It returns a sentence instead of a result
when the circuit has to run shot by shot: not distributed, measuring
mid-circuit, over the memory budget (the statevector plus the
probabilities), or with a protocol outcome that a correction does not undo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit

from qdframe.plugin import (
    MemoryBudget,
    ResourceError,
    check_memory,
    format_bytes,
    statevector_bytes,
)
from qdframe_aer.deferred import (
    RELEASES,
    TERMINAL_LABEL,
    DeferredForm,
    deferred_form,
    resets_are_pure,
    with_saves,
)

__all__ = [
    "SAMPLER_PER_SHOT",
    "SAMPLER_SINGLE",
    "SingleRun",
    "sample_terminal",
    "single_simulation",
]

#: ``metadata["sampler"]`` of a result drawn from one simulation.
SAMPLER_SINGLE = "single-simulation"
#: ``metadata["sampler"]`` of a result Aer simulated shot by shot (or sampled itself).
SAMPLER_PER_SHOT = "per-shot"


@dataclass(frozen=True)
class SingleRun:
    """What :func:`single_simulation` ran: Aer's experiment and the drawn shots."""

    experiment: Any
    counts: dict[str, int]
    memory: list[str] | None
    width: int
    resets_checked: int
    peak_bytes: int
    release: str


def _keys(form: DeferredForm, num_clbits: int, picks: npt.NDArray[np.int64]) -> list[str]:
    """Bitstrings (clbit 0 rightmost) for outcome indices over ``form.measured``."""
    position = {wire: j for j, wire in enumerate(form.measured)}
    keys = []
    for pick in picks.tolist():
        chars = ["0"] * num_clbits
        for wire, clbit in form.terminal:
            if (pick >> position[wire]) & 1:
                chars[num_clbits - 1 - clbit] = "1"
        keys.append("".join(chars))
    return keys


def sample_terminal(
    form: DeferredForm,
    probabilities: npt.NDArray[np.float64],
    num_clbits: int,
    shots: int,
    rng: np.random.Generator,
    memory: bool,
) -> tuple[dict[str, int], list[str] | None]:
    """Counts (and each shot's bitstring when ``memory``) drawn from ``probabilities``."""
    weights = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, None)
    weights /= weights.sum()
    if memory:
        picks = rng.choice(weights.size, size=shots, p=weights)
        shot_keys = _keys(form, num_clbits, picks)
        counts: dict[str, int] = {}
        for key in shot_keys:
            counts[key] = counts.get(key, 0) + 1
        return counts, shot_keys
    tallies = rng.multinomial(shots, weights)
    drawn = np.flatnonzero(tallies)
    keys = _keys(form, num_clbits, drawn)
    return {k: int(tallies[i]) for k, i in zip(keys, drawn.tolist(), strict=True)}, None


def single_simulation(
    circuit: QuantumCircuit,
    *,
    shots: int,
    seed: int | None,
    memory: bool,
    prepare: Callable[[QuantumCircuit], QuantumCircuit],
    execute: Callable[[QuantumCircuit, dict[str, Any]], Any],
    budget: MemoryBudget,
    precision: str,
    backend: str,
    run_options: Mapping[str, Any],
) -> SingleRun | str:
    """Run ``circuit`` once in deferred form and draw ``shots`` shots, or say why not.

    :param prepare: decomposes a circuit into what Aer runs.
    :param execute: runs one prepared circuit with Aer options, returning
        Aer's experiment result (failures raise).
    :param run_options: further Aer run options (threads, memory limit).
    :raises InvalidCircuitError: an operation Aer cannot run (as the
        shot-by-shot path would).
    """
    form = deferred_form(circuit)
    if isinstance(form, str):
        return form
    width = form.circuit.num_qubits
    # Aer's statevector, the saved probabilities and the draw's weights.
    needed = statevector_bytes(width, precision) + 2 * 8 * (1 << len(form.measured))
    try:
        check_memory(
            needed,
            budget,
            what=(
                f"one {width}-qubit {precision} simulation for every shot "
                f"({format_bytes(needed)} with its probabilities)"
            ),
            backend=backend,
        )
    except ResourceError as exc:
        return f"refused for memory ({exc}); ran shot by shot"
    prepared = prepare(form.circuit)
    options = {**run_options, "shots": 1, "memory": False}
    if seed is not None:
        options["seed_simulator"] = seed
    for release in RELEASES:
        form = with_saves(form, prepared, release)
        experiment = execute(form.circuit, options)
        if not experiment.success:
            return f"Aer could not run the deferred form ({experiment.status}); ran shot by shot"
        data = experiment.data.to_dict()
        if resets_are_pure(form, data):
            break
    else:
        return (
            "a protocol qubit was still entangled when it was reset (a correction does not "
            "undo its measurement outcome); ran shot by shot"
        )
    if form.measured:
        probabilities = np.asarray(data[TERMINAL_LABEL], dtype=np.float64)
    else:
        probabilities = np.ones(1)
    rng = np.random.default_rng(seed)
    counts, keys = sample_terminal(form, probabilities, circuit.num_clbits, shots, rng, memory)
    return SingleRun(experiment, counts, keys, width, len(form.reset_labels), needed, form.release)
