"""The one-pass scheduler against the dependency-graph reference, on random programs.

:mod:`qdframe.schedule._dag` builds every dependency edge and runs Kahn's
algorithm; :mod:`qdframe.schedule._stream` walks the rows once with running
"free at" arrays. Both must give the same start and end of every row, the
same depth, the same idle decoherence and busy time, on compact and expanded
programs, with and without purification. Each mutant of the pass's inputs
(one kind of dependency dropped) must be caught by the same comparison.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation
from qdframe.distribute import DistributedProgram, lower, plan_from_allocation
from qdframe.schedule import NodeTiming, TimingModel
from qdframe.schedule._dag import asap_times, dependency_edges
from qdframe.schedule._deliveries import DeliveryTimes
from qdframe.schedule._stream import StreamInputs, StreamResult, stream_schedule
from qdframe.schedule.fidelity import idle_log_fidelity
from qdframe.schedule.scheduler import _Scheduler
from qdframe.topology import LinkSpec, Topology

LINK = LinkSpec(latency_us=100.0, bandwidth_bps=1e6, epr_rate_hz=1000.0, epr_fidelity=0.97)


def _topology(rng: np.random.Generator) -> Topology:
    shape = rng.integers(3)
    if shape == 0:
        edges = [(i, i + 1) for i in range(4)]  # line of 5
    elif shape == 1:
        edges = [(i, (i + 1) % 6) for i in range(6)]  # ring of 6
    else:
        edges = [(0, 1), (1, 2), (0, 3), (1, 4), (2, 5), (3, 4), (4, 5)]  # 2 x 3 grid
    num_nodes = 1 + max(max(e) for e in edges)
    data = [2] * num_nodes
    return Topology(
        "random", num_nodes, edges, data_qubits=data, comm_qubits=int(rng.integers(2, 3)), link=LINK
    )


def _circuit(rng: np.random.Generator, num_qubits: int, size: int) -> QuantumCircuit:
    circuit = QuantumCircuit(num_qubits, num_qubits)
    for _ in range(size):
        choice = rng.integers(9)
        a, b = (int(x) for x in rng.choice(num_qubits, 2, replace=False))
        if choice < 3:
            circuit.cp(float(rng.uniform(0.1, 3.0)), a, b)
        elif choice < 5:
            circuit.cx(a, b)
        elif choice == 5:
            circuit.h(a)
        elif choice == 6:
            circuit.measure(a, a)
            with circuit.if_test((circuit.clbits[a], 1)):
                circuit.x(b)
        elif choice == 7:
            circuit.reset(a)
        else:
            circuit.rz(float(rng.uniform(0.1, 3.0)), a)
    return circuit


def _program(seed: int) -> DistributedProgram:
    rng = np.random.default_rng(seed)
    topology = _topology(rng)
    num_qubits = int(rng.integers(4, 2 * topology.num_nodes + 1))
    slots = np.repeat(np.arange(topology.num_nodes), 2)
    placement = rng.permutation(slots)[:num_qubits]
    circuit = _circuit(rng, num_qubits, int(rng.integers(20, 80)))
    plan = plan_from_allocation(circuit, topology, Allocation.static(placement.tolist()))
    program = lower(plan.problem, plan.allocation, circuit=plan.circuit)
    return program.expanded() if rng.integers(3) == 0 else program


TIMING = TimingModel(
    NodeTiming(gate_1q_us=10, gate_2q_us=100, measure_us=120, reset_us=50, t1_us=1e4, t2_us=5e3),
    nodes={1: NodeTiming(gate_1q_us=7, gate_2q_us=230, measure_us=90, reset_us=20)},
)


@dataclasses.dataclass
class _Case:
    scheduler: _Scheduler
    duration: np.ndarray
    times: DeliveryTimes


def _case(program: DistributedProgram, rounds: int) -> _Case:
    scheduler = _Scheduler(program, TIMING, compress=False)
    per_link = np.full(program.topology.num_links, rounds, dtype=np.int64)
    link_duration, _, _ = scheduler.link_tables(per_link)
    s = scheduler
    times = s.geometry.times(
        link_duration, s.swap_delay, (s.g1, s.g2, s.gm, s.gr), (s.e1, s.e2, s.em), (s.t1, s.t2)
    )
    duration = s.base_duration.copy()
    duration[s.epr_rows] = times.duration
    return _Case(scheduler, duration, times)


def _reference(case: _Case) -> StreamResult:
    s, program = case.scheduler, case.scheduler.program
    edges = dependency_edges(program, s.geometry)
    delay = edges.delays(case.times, s.message_delay)
    start, end, levels = asap_times(program.num_operations, case.duration, edges, delay)
    makespan = float(end.max(initial=0.0))
    log_idle, busy = idle_log_fidelity(
        program, start, end, makespan, s.t1, s.t2, s.geometry, case.times
    )
    return StreamResult(start, end, levels, log_idle - case.times.interior_log_idle, busy)


def _streamed(
    case: _Case,
    inputs: StreamInputs | None = None,
    times: DeliveryTimes | None = None,
    message_delay: np.ndarray | None = None,
) -> StreamResult:
    s = case.scheduler
    return stream_schedule(
        inputs if inputs is not None else s.stream,
        case.duration,
        times if times is not None else case.times,
        s.message_delay if message_delay is None else message_delay,
        (s.t1, s.t2),
    )


def _same(a: StreamResult, b: StreamResult) -> bool:
    return (
        np.allclose(a.start, b.start, rtol=1e-12, atol=1e-7)
        and np.allclose(a.end, b.end, rtol=1e-12, atol=1e-7)
        and a.depth == b.depth
        and np.isclose(a.log_idle, b.log_idle, rtol=1e-9, atol=1e-12)
        and np.allclose(a.busy_per_qubit, b.busy_per_qubit, rtol=1e-12, atol=1e-7)
    )


CASES = [(seed, rounds) for seed in range(24) for rounds in (0, 2)]


@pytest.fixture(scope="module")
def cases() -> list[_Case]:
    return [_case(_program(seed), rounds) for seed, rounds in CASES]


@pytest.mark.slow
def test_programs_exercise_every_kind_of_dependency(cases: list[_Case]) -> None:
    programs = [c.scheduler.program for c in cases]
    assert any(len(p.delivery_rows) and (p.delivery_hops > 1).any() for p in programs)
    assert any((p.message_consumer >= 0).any() for p in programs)
    assert any(p.raw_pairs for p in programs) and any(not p.raw_pairs for p in programs)


@pytest.mark.slow
def test_one_pass_gives_the_reference_schedule(cases: list[_Case]) -> None:
    for (seed, rounds), case in zip(CASES, cases, strict=True):
        got, want = _streamed(case), _reference(case)
        assert _same(got, want), f"seed {seed}, {rounds} purification rounds"


def _no_link_order(case: _Case) -> StreamResult:
    hops = len(case.scheduler.stream.hop_link)
    inputs = dataclasses.replace(case.scheduler.stream, hop_link=np.arange(hops, dtype=np.int32))
    inputs.num_links = max(inputs.num_links, len(inputs.hop_link))
    return _streamed(case, inputs=inputs)


def _no_swap_bank(case: _Case) -> StreamResult:
    stream = case.scheduler.stream
    inputs = dataclasses.replace(stream, is_comm=np.zeros_like(stream.is_comm))
    return _streamed(case, inputs=inputs)


def _no_message_delay(case: _Case) -> StreamResult:
    return _streamed(case, message_delay=np.zeros_like(case.scheduler.message_delay))


def _near_end_held(case: _Case) -> StreamResult:
    return _streamed(case, times=dataclasses.replace(case.times, near=case.times.duration))


def _no_source_conditions(case: _Case) -> StreamResult:
    stream = case.scheduler.stream
    inputs = dataclasses.replace(
        stream, consumer_row=stream.consumer_row[:0], consumer_message=stream.consumer_message[:0]
    )
    return _streamed(case, inputs=inputs)


def _no_interior_wait(case: _Case) -> StreamResult:
    stream = case.scheduler.stream
    inputs = dataclasses.replace(stream, interior_ptr=np.zeros_like(stream.interior_ptr))
    return _streamed(case, inputs=inputs)


MUTANTS: dict[str, Callable[[_Case], StreamResult]] = {
    "links independent": _no_link_order,
    "swaps ignore communication qubits": _no_swap_bank,
    "messages arrive at once": _no_message_delay,
    "near end held to the end": _near_end_held,
    "source conditions unordered": _no_source_conditions,
    "intermediate nodes never wait": _no_interior_wait,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_dropped_dependency_is_caught(name: str, cases: list[_Case]) -> None:
    mutant = MUTANTS[name]
    assert any(not _same(mutant(case), _reference(case)) for case in cases), name
