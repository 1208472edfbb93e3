"""Schedules on a 3-node line, checked against times worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qdframe.allocation import Allocation
from qdframe.distribute import DistributedProgram, OpKind, compile_distributed, plan_from_allocation
from qdframe.errors import ConfigError
from qdframe.schedule import NodeTiming, TimingModel, purify, schedule
from qdframe.topology import LinkSpec, Topology, werner_fidelity

# 19-byte frames at 152 Mbit/s take exactly 1 us per link.
LINK = LinkSpec(latency_us=100.0, bandwidth_bps=152e6, epr_rate_hz=1000.0, epr_fidelity=0.99)
TIMING = TimingModel(
    NodeTiming(gate_1q_us=10, gate_2q_us=100, measure_us=100, reset_us=50,
               gate_1q_error=1e-3, gate_2q_error=1e-2, measure_error=2e-3,
               t1_us=1e4, t2_us=5e3)
)  # fmt: skip


def line_program(link: LinkSpec = LINK, *, prepare: bool = False) -> DistributedProgram:
    topology = Topology(
        "line", 3, [(0, 1), (1, 2)], data_qubits=[1, 0, 1], comm_qubits=2, link=link
    )
    circuit = QuantumCircuit(2)
    if prepare:
        circuit.h(0)
    circuit.cp(0.5, 0, 1)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 2]), normalize=False)
    return compile_distributed(circuit, plan)


# (kind, node, start, end) of every operation of the expanded program (one
# row per raw pair and per swap operation), worked out by hand.
EXPECTED_EXPANDED = [
    ("EPR", 0, 0, 1000),  # link 0-1
    ("EPR", 1, 0, 1000),  # link 1-2, in parallel
    ("CX", 1, 1000, 1100),  # Bell measurement at the middle node
    ("H", 1, 1100, 1110),
    ("MEASURE", 1, 1110, 1210),
    ("MEASURE", 1, 1100, 1200),
    ("X_IF", 2, 1311, 1321),  # outcomes arrive at node 2 after 100 + 1 us
    ("Z_IF", 2, 1321, 1331),
    ("RESET", 1, 1210, 1260),
    ("RESET", 1, 1200, 1250),
    ("CX", 0, 1000, 1100),  # cat-entangler at node 0
    ("MEASURE", 0, 1100, 1200),
    ("X_IF", 2, 1402, 1412),  # two hops: 2 * 101 us after the measurement
    ("RESET", 0, 1200, 1250),
    ("GATE", 2, 1412, 1512),  # the controlled phase on the cat copy
    ("H", 2, 1512, 1522),  # cat-disentangler
    ("MEASURE", 2, 1522, 1622),
    ("Z_IF", 0, 1824, 1834),
    ("RESET", 2, 1622, 1672),
]

# The program itself: the delivery is one row, from the start of its raw
# pairs to the far end's last correction; the near end is free for the
# cat-entangler as soon as its raw pair is there.
EXPECTED = [
    ("EPR", 0, 0, 1331),
    *EXPECTED_EXPANDED[10:],
]


def _times(program: DistributedProgram) -> list[tuple[str, int, float, float]]:
    result = schedule(program, timing=TIMING, compression=False, error_correction=False)
    assert result.makespan_us == pytest.approx(1834.0)
    return [
        (OpKind(int(program.kind[i])).name, int(program.node[i]),
         result.start_us[i], result.end_us[i])
        for i in range(program.num_operations)
    ]  # fmt: skip


@pytest.mark.parametrize("expanded", [False, True])
def test_operation_times_match_the_hand_schedule(expanded: bool) -> None:
    program = line_program()
    expected = EXPECTED
    if expanded:
        program, expected = program.expanded(), EXPECTED_EXPANDED
    got = _times(program)
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    assert np.allclose([g[2] for g in got], [e[2] for e in expected])
    assert np.allclose([g[3] for g in got], [e[3] for e in expected])


def test_both_forms_have_the_same_figures() -> None:
    program = line_program()
    compact = schedule(program, timing=TIMING, error_correction=False)
    other = schedule(program.expanded(), timing=TIMING, error_correction=False)
    assert other.fidelity.as_dict() == pytest.approx(compact.fidelity.as_dict())
    assert other.compression.messages == compact.compression.messages == 3
    assert [u.busy_us for u in other.nodes] == pytest.approx([u.busy_us for u in compact.nodes])
    assert [u.pairs for u in other.links] == [u.pairs for u in compact.links]


def test_fidelity_factors_match_the_hand_count() -> None:
    program = line_program()
    result = schedule(program, timing=TIMING, compression=False, error_correction=False)
    # 3 two-qubit gates (2 CX, 1 CP), 6 single-qubit (2 H, 4 corrections), 4 measurements.
    gates = (1 - 1e-2) ** 3 * (1 - 1e-3) ** 6 * (1 - 2e-3) ** 4
    assert result.fidelity.gates == pytest.approx(gates)
    assert result.fidelity.epr == pytest.approx(werner_fidelity([0.99, 0.99]))

    def relax(t: float) -> float:
        return (3 + math.exp(-t / 1e4) + 2 * math.exp(-t / 5e3)) / 6

    # Idle time while holding a state: data 0 waits 1834-1000-110, data 2
    # 1834-1412-100, the far communication qubit 1672-1290; the others never wait.
    idle = relax(724) * relax(322) * relax(382)
    assert result.fidelity.idle == pytest.approx(idle)
    assert result.fidelity.total == pytest.approx(gates * result.fidelity.epr * idle)


def test_usage_of_nodes_and_links() -> None:
    program = line_program()
    result = schedule(program, timing=TIMING, compression=False, error_correction=False)
    links = {u.nodes: u for u in result.links}
    assert links[(0, 1)].pairs == links[(1, 2)].pairs == 1
    assert links[(0, 1)].busy_us == pytest.approx(1000.0)
    assert links[(0, 1)].utilisation == pytest.approx(1000.0 / 1834.0)
    middle = result.nodes[1]
    # Node 1: two communication qubits, busy 1260 and 1250 us.
    assert middle.qubits == 2
    assert middle.utilisation == pytest.approx((1260 + 1250) / (2 * 1834.0))


def test_slower_links_stretch_the_schedule() -> None:
    slow = LinkSpec(latency_us=100.0, bandwidth_bps=152e6, epr_rate_hz=500.0, epr_fidelity=0.99)
    fast = schedule(line_program(), timing=TIMING, compression=False, error_correction=False)
    result = schedule(line_program(slow), timing=TIMING, compression=False, error_correction=False)
    assert result.makespan_us == pytest.approx(fast.makespan_us + 1000.0)
    # Qubit 0 holds a state from its Hadamard on; a slower pair makes it wait longer.
    fast = schedule(line_program(prepare=True), timing=TIMING, error_correction=False)
    result = schedule(line_program(slow, prepare=True), timing=TIMING, error_correction=False)
    assert result.fidelity.idle < fast.fidelity.idle


def test_dejmps_round_from_a_werner_pair() -> None:
    # F = 0.9: N = (0.9 + 1/30)^2 + (2/30)^2, F' = (0.81 + 1/900) / N.
    pair = purify(0.9, 1)
    success = (0.9 + 1 / 30) ** 2 + (2 / 30) ** 2
    assert pair.fidelity == pytest.approx((0.81 + 1 / 900) / success)
    assert pair.raw_pairs == pytest.approx(2 / success)
    assert purify(0.9, 2).fidelity > pair.fidelity > 0.9
    assert purify(0.9, 0).raw_pairs == 1.0


def test_purification_is_added_until_the_budget_is_met() -> None:
    noisy = LinkSpec(latency_us=100.0, bandwidth_bps=152e6, epr_rate_hz=1000.0, epr_fidelity=0.9)
    perfect = TimingModel(NodeTiming(gate_1q_error=0, gate_2q_error=0, measure_error=0,
                                     t1_us=1e12, t2_us=1e12))  # fmt: skip
    program = line_program(noisy)
    raw = schedule(program, timing=perfect, compression=False, error_correction=False)
    assert raw.fidelity.total < 0.95
    result = schedule(program, timing=perfect, compression=False, error_budget=0.05)
    report = result.purification
    assert report.enabled and report.target_met
    rounds = report.rounds[0]
    assert rounds >= 1 and report.rounds == {0: rounds, 1: rounds}
    assert result.fidelity.total >= 0.95
    # One round fewer would not do.
    fewer = schedule(program, timing=perfect, compression=False, error_budget=0.05,
                     purification_rounds=rounds - 1)  # fmt: skip
    assert fewer.fidelity.total < 0.95
    expected_extra = 2 * (purify(0.9, rounds).raw_pairs - 1)
    assert report.extra_raw_pairs == pytest.approx(expected_extra)
    assert result.makespan_us > raw.makespan_us


def test_unreachable_budget_is_reported_not_chased() -> None:
    result = schedule(line_program(), timing=TIMING, compression=False, error_budget=1e-6)
    assert not result.purification.target_met
    assert result.purification.extra_raw_pairs == 0
    assert "cannot reach the budget" in result.purification.reason


def test_compression_never_grows_the_payload() -> None:
    program = line_program()
    on = schedule(program, timing=TIMING, compression=True, error_correction=False)
    off = schedule(program, timing=TIMING, compression=False, error_correction=False)
    assert off.compression.sent_bytes == off.compression.raw_bytes == 3 * 19
    assert on.compression.sent_bytes <= on.compression.raw_bytes
    assert on.makespan_us <= off.makespan_us


def test_messages_take_the_least_latency_path() -> None:
    # Ring of 4 where the direct link 0-3 is slow: 0 -> 1 -> 2 -> 3 is quicker.
    links = {(0, 3): LinkSpec(latency_us=1000.0, bandwidth_bps=152e6)}
    topology = Topology(
        "ring", 4, [(0, 1), (1, 2), (2, 3), (3, 0)], data_qubits=1,
        link=LINK, link_overrides=links,
    )  # fmt: skip
    circuit = QuantumCircuit(2)
    circuit.cp(0.5, 0, 1)
    plan = plan_from_allocation(circuit, topology, Allocation.static([0, 3]), normalize=False)
    program = compile_distributed(circuit, plan)
    result = schedule(program, timing=TIMING, compression=False, error_correction=False)
    x_if = int(np.flatnonzero(program.kind == OpKind.X_IF)[0])
    measure = int(np.flatnonzero(program.kind == OpKind.MEASURE)[0])
    assert result.start_us[x_if] == pytest.approx(result.end_us[measure] + 3 * 101.0)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="error_budget"):
        schedule(line_program(), error_budget=1.5)
    with pytest.raises(ConfigError, match="t2_us"):
        NodeTiming(t1_us=10, t2_us=30)
    with pytest.raises(ConfigError, match="rounds"):
        schedule(line_program(), purification_rounds=99)
