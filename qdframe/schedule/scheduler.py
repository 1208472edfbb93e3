"""List-scheduling a :class:`DistributedProgram` on its network.

Every operation starts as soon as what it depends on is done (one pass over
the rows in program order, see :mod:`qdframe.schedule._stream`), with
durations from the :class:`TimingModel`:

* local operations take their node's gate, measurement or reset time; a
  classically conditioned correction takes a single-qubit gate time after its
  message has arrived;
* one raw EPR pair occupies its link and both communication qubits for
  ``raw_pairs / epr_rate_hz`` (``raw_pairs`` is 1, or the expected raw pairs
  per purified pair), plus, per purification round, a two-qubit gate, a
  measurement and one link latency to compare outcomes; a delivery over
  several links makes its raw pairs at once and swaps them at the
  intermediate nodes (see :mod:`qdframe.schedule._deliveries`);
* a message takes the latency and serialisation time of its path
  (:mod:`qdframe.schedule.messages`).

With ``enable_error_correction``, purification rounds are added to the links
until the fidelity estimate (:mod:`qdframe.schedule.fidelity`) reaches
``1 - error_budget``; when gate errors and idle decoherence alone already
exceed the budget no rounds are added and the schedule says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qdframe.distribute.program import DistributedProgram, OpKind
from qdframe.errors import ConfigError
from qdframe.schedule._deliveries import DeliveryGeometry, DeliveryTimes
from qdframe.schedule._stream import stream_inputs, stream_schedule
from qdframe.schedule.fidelity import FidelityEstimate, pair_log_fidelity
from qdframe.schedule.messages import CompressionReport, message_delays, message_sizes
from qdframe.schedule.purification import purify
from qdframe.schedule.timing import TimingModel

if TYPE_CHECKING:
    from qdframe.config import SystemConfig

__all__ = ["LinkUsage", "NodeUsage", "PurificationReport", "Schedule", "schedule"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Categories of source-circuit instructions for timing.
_CAT_1Q, _CAT_2Q, _CAT_MEASURE, _CAT_RESET, _CAT_FREE = range(5)
_FREE = frozenset({"barrier", "delay", "global_phase", "id"})


@dataclass(frozen=True)
class NodeUsage:
    """How busy one node was: ``utilisation`` is busy qubit-time over
    ``makespan * qubits`` (data slots and communication qubits it used)."""

    node: int
    operations: int
    qubits: int
    busy_us: float
    utilisation: float


@dataclass(frozen=True)
class LinkUsage:
    """One link's work: pairs delivered, raw pairs generated, time busy."""

    link: int
    nodes: tuple[int, int]
    pairs: int
    raw_pairs: float
    purification_rounds: int
    pair_fidelity: float
    busy_us: float
    utilisation: float


@dataclass(frozen=True)
class PurificationReport:
    """Purification chosen to meet the error budget.

    ``extra_raw_pairs`` is the expected number of raw pairs generated beyond
    one per delivered pair.
    """

    enabled: bool
    target_fidelity: float
    target_met: bool
    rounds: dict[int, int]
    extra_raw_pairs: float
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "target_fidelity": self.target_fidelity,
            "target_met": self.target_met,
            "rounds": {str(k): v for k, v in self.rounds.items()},
            "extra_raw_pairs": self.extra_raw_pairs,
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class Schedule:
    """When every operation runs, and what the run costs.

    ``start_us``/``end_us`` are per operation row of the program.
    """

    makespan_us: float
    start_us: FloatArray
    end_us: FloatArray
    nodes: list[NodeUsage]
    links: list[LinkUsage]
    fidelity: FidelityEstimate
    compression: CompressionReport
    purification: PurificationReport
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fidelity_estimate(self) -> float:
        return self.fidelity.total

    def summary(self) -> dict[str, Any]:
        """The figures, JSON-ready (no per-operation times)."""
        return {
            "makespan_us": self.makespan_us,
            "fidelity_estimate": self.fidelity.total,
            "fidelity": self.fidelity.as_dict(),
            "node_utilisation": {str(n.node): n.utilisation for n in self.nodes},
            "links": [
                {
                    "link": u.link,
                    "nodes": list(u.nodes),
                    "pairs": u.pairs,
                    "raw_pairs": u.raw_pairs,
                    "purification_rounds": u.purification_rounds,
                    "pair_fidelity": u.pair_fidelity,
                    "busy_us": u.busy_us,
                    "utilisation": u.utilisation,
                }
                for u in self.links
                if u.pairs
            ],
            "compression": self.compression.as_dict(),
            "purification": self.purification.as_dict(),
            **self.details,
        }


class _Scheduler:
    def __init__(self, program: DistributedProgram, timing: TimingModel, compress: bool) -> None:
        self.program = program
        self.timing = timing
        topology = program.topology
        nodes = range(topology.num_nodes)
        per_node = [timing.node(n) for n in nodes]
        self.g1 = np.asarray([t.gate_1q_us for t in per_node])
        self.g2 = np.asarray([t.gate_2q_us for t in per_node])
        self.gm = np.asarray([t.measure_us for t in per_node])
        self.gr = np.asarray([t.reset_us for t in per_node])
        self.e1 = np.asarray([t.gate_1q_error for t in per_node])
        self.e2 = np.asarray([t.gate_2q_error for t in per_node])
        self.em = np.asarray([t.measure_error for t in per_node])
        self.t1 = np.asarray([t.t1_us for t in per_node])
        self.t2 = np.asarray([t.t2_us for t in per_node])
        links = topology.links
        self.rate = np.asarray([s.epr_rate_hz for s in links])
        self.latency = np.asarray([s.latency_us for s in links])
        self.raw_fidelity = np.asarray([s.epr_fidelity for s in links])
        self.edges_nodes = topology.edges
        self.category = self._categories()
        self.geometry = DeliveryGeometry(program)
        stored, swaps, self.compression = message_sizes(
            program, self.geometry, compress=compress, level=timing.compression_level
        )
        self.message_delay = message_delays(
            topology, program.message_source, program.message_target, stored
        )
        self.swap_delay = message_delays(
            topology, self.geometry.interior_node, self.geometry.interior_end, swaps
        )
        self.stream = stream_inputs(program, self.geometry)
        self.base_duration, self.log_gates = self._local_costs()
        self.epr_rows = self.geometry.rows
        self.used_links = np.unique(self.geometry.hop_link)

    def _categories(self) -> IntArray:
        program = self.program
        gate = (program.kind == OpKind.GATE) | (program.kind == OpKind.CUT)
        category = np.where(program.q1 >= 0, _CAT_2Q, _CAT_1Q).astype(np.int64)
        if program.circuit is None or not gate.any():
            return category
        data = program.circuit.data
        table = np.empty(len(data), dtype=np.int64)
        for position, instruction in enumerate(data):
            name = instruction.operation.name
            if name == "measure":
                table[position] = _CAT_MEASURE
            elif name == "reset":
                table[position] = _CAT_RESET
            elif name in _FREE:
                table[position] = _CAT_FREE
            else:
                table[position] = _CAT_2Q if len(instruction.qubits) > 1 else _CAT_1Q
        category[gate] = table[program.source[gate]]
        return category

    def _local_costs(self) -> tuple[FloatArray, float]:
        """Durations of non-EPR operations and the summed ``log(1 - error)``."""
        program = self.program
        kind = program.kind
        node = program.node
        cat = self.category
        duration = np.zeros(program.num_operations)
        error = np.zeros(program.num_operations)
        gate = (kind == OpKind.GATE) | (kind == OpKind.CUT)
        for code, times, errors in (
            (_CAT_1Q, self.g1, self.e1),
            (_CAT_2Q, self.g2, self.e2),
            (_CAT_MEASURE, self.gm, self.em),
            (_CAT_RESET, self.gr, None),
        ):
            mask = gate & (cat == code)
            duration[mask] = times[node[mask]]
            if errors is not None:
                error[mask] = errors[node[mask]]
        for op, times, errors in (
            (OpKind.CX, self.g2, self.e2),
            (OpKind.H, self.g1, self.e1),
            (OpKind.MEASURE, self.gm, self.em),
            (OpKind.RESET, self.gr, None),
            (OpKind.X_IF, self.g1, self.e1),
            (OpKind.Z_IF, self.g1, self.e1),
        ):
            mask = kind == op
            duration[mask] = times[node[mask]]
            if errors is not None:
                error[mask] = errors[node[mask]]
        return duration, float(np.log1p(-error).sum())

    def link_tables(self, rounds: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per link: duration of one delivered pair, raw pairs per pair, pair fidelity."""
        count = len(self.rate)
        raw = np.ones(count)
        fidelity = self.raw_fidelity.copy()
        for link in np.flatnonzero(rounds).tolist():
            pair = purify(float(self.raw_fidelity[link]), int(rounds[link]))
            raw[link], fidelity[link] = pair.raw_pairs, pair.fidelity
        u, v = self.edges_nodes[:, 0], self.edges_nodes[:, 1]
        per_round = np.maximum(self.g2[u], self.g2[v]) + np.maximum(self.gm[u], self.gm[v])
        duration = raw * 1e6 / self.rate + rounds * (per_round + self.latency)
        return duration, raw, fidelity

    def run(self, rounds: IntArray) -> tuple[Schedule, float]:
        """The schedule with ``rounds`` purification rounds per link, and
        the estimate without the EPR factor (the best purification could do)."""
        program = self.program
        link_duration, raw, link_fidelity = self.link_tables(rounds)
        times = self.geometry.times(
            link_duration,
            self.swap_delay,
            (self.g1, self.g2, self.gm, self.gr),
            (self.e1, self.e2, self.em),
            (self.t1, self.t2),
        )
        duration = self.base_duration.copy()
        duration[self.epr_rows] = times.duration
        passed = stream_schedule(
            self.stream, duration, times, self.message_delay, (self.t1, self.t2)
        )
        del duration
        start, end, busy_per_qubit = passed.start, passed.end, passed.busy_per_qubit
        makespan = float(end.max(initial=0.0))
        log_idle = passed.log_idle + times.interior_log_idle
        log_gates = self.log_gates + times.interior_log_gates
        log_epr = pair_log_fidelity(program, link_fidelity, self.geometry)
        estimate = FidelityEstimate(
            total=math.exp(log_gates + log_epr + log_idle),
            gates=math.exp(log_gates),
            epr=math.exp(log_epr),
            idle=math.exp(log_idle),
        )
        nodes = self._node_usage(busy_per_qubit, times, makespan)
        links = self._link_usage(times, rounds, raw, link_fidelity, makespan)
        result = Schedule(
            makespan_us=makespan,
            start_us=start,
            end_us=end,
            nodes=nodes,
            links=links,
            fidelity=estimate,
            compression=self.compression,
            purification=PurificationReport(False, 1.0, True, {}, 0.0),
            details={
                "depth": passed.depth,
                "operations": program.num_operations,
            },
        )
        return result, math.exp(log_gates + log_idle)

    def _node_usage(
        self, busy_per_qubit: FloatArray, times: DeliveryTimes, makespan: float
    ) -> list[NodeUsage]:
        program = self.program
        layout = program.layout
        busy = np.bincount(layout.qubit_node, weights=busy_per_qubit, minlength=program.num_nodes)
        # Swap qubits of intermediate nodes.
        busy += np.bincount(
            self.geometry.interior_node, weights=times.interior_busy, minlength=program.num_nodes
        )
        ops = np.bincount(program.node[program.node >= 0], minlength=program.num_nodes)
        ops2 = np.bincount(program.node2[program.node2 >= 0], minlength=program.num_nodes)
        qubits = np.diff(layout.node_offset)
        usage = []
        for n in range(program.num_nodes):
            capacity = makespan * int(qubits[n])
            usage.append(
                NodeUsage(
                    node=n,
                    operations=int(ops[n] + ops2[n]),
                    qubits=int(qubits[n]),
                    busy_us=float(busy[n]),
                    utilisation=float(busy[n] / capacity) if capacity > 0 else 0.0,
                )
            )
        return usage

    def _link_usage(
        self,
        times: DeliveryTimes,
        rounds: IntArray,
        raw: FloatArray,
        fidelity: FloatArray,
        makespan: float,
    ) -> list[LinkUsage]:
        hop_link = self.geometry.hop_link
        count = len(self.rate)
        pairs = np.bincount(hop_link, minlength=count)
        busy = np.bincount(hop_link, weights=times.hop, minlength=count)
        return [
            LinkUsage(
                link=link,
                nodes=(int(self.edges_nodes[link, 0]), int(self.edges_nodes[link, 1])),
                pairs=int(pairs[link]),
                raw_pairs=float(pairs[link] * raw[link]),
                purification_rounds=int(rounds[link]),
                pair_fidelity=float(fidelity[link]),
                busy_us=float(busy[link]),
                utilisation=float(busy[link] / makespan) if makespan > 0 else 0.0,
            )
            for link in range(count)
        ]


def _with_purification(result: Schedule, report: PurificationReport) -> Schedule:
    return Schedule(
        makespan_us=result.makespan_us,
        start_us=result.start_us,
        end_us=result.end_us,
        nodes=result.nodes,
        links=result.links,
        fidelity=result.fidelity,
        compression=result.compression,
        purification=report,
        details=result.details,
    )


def _extra_pairs(result: Schedule) -> float:
    return float(sum(u.raw_pairs - u.pairs for u in result.links))


def schedule(
    program: DistributedProgram,
    config: SystemConfig | None = None,
    *,
    timing: TimingModel | None = None,
    compression: bool | None = None,
    error_correction: bool | None = None,
    error_budget: float | None = None,
    purification_rounds: int | dict[int, int] | None = None,
) -> Schedule:
    """Schedule ``program`` and estimate its fidelity (see the module docstring).

    :param config: supplies ``[communication] enable_compression``,
        ``[distributed] enable_error_correction``, ``[integration]
        error_budget`` and, when present, ``[timing]``; defaults otherwise.
    :param timing: durations and error rates; overrides the configuration's.
    :param compression: compress classical payloads (zstd).
    :param error_correction: purify EPR pairs to meet the error budget.
    :param error_budget: largest acceptable infidelity.
    :param purification_rounds: fixed rounds (one number for every link, or
        per link id) instead of searching; only with error correction on.
    :raises ConfigError: an invalid budget or round count.
    """
    from qdframe.config import SystemConfig

    config = config if config is not None else SystemConfig()
    timing = timing if timing is not None else TimingModel.from_config(config)
    compress = config.communication.enable_compression if compression is None else compression
    correct = (
        config.distributed.enable_error_correction if error_correction is None else error_correction
    )
    budget = config.integration.error_budget if error_budget is None else error_budget
    if not 0 < budget < 1:
        raise ConfigError(f"error_budget={budget} (allowed: 0 < budget < 1)")
    scheduler = _Scheduler(program, timing, bool(compress))
    num_links = program.topology.num_links
    zero = np.zeros(num_links, dtype=np.int64)
    target = 1.0 - budget
    if not correct:
        result, _ = scheduler.run(zero)
        return _with_purification(result, PurificationReport(False, target, True, {}, 0.0))
    if purification_rounds is not None:
        rounds = _fixed_rounds(purification_rounds, num_links, timing.max_purification_rounds)
        result, _ = scheduler.run(rounds)
        report = PurificationReport(
            True, target, result.fidelity.total >= target,
            {int(k): int(rounds[k]) for k in scheduler.used_links}, _extra_pairs(result),
            "rounds fixed by the caller",
        )  # fmt: skip
        return _with_purification(result, report)
    return _search(scheduler, target, timing.max_purification_rounds)


def _fixed_rounds(value: int | dict[int, int], num_links: int, limit: int) -> IntArray:
    rounds = np.zeros(num_links, dtype=np.int64)
    if isinstance(value, int):
        rounds[:] = value
    else:
        for link, r in value.items():
            if not 0 <= int(link) < num_links:
                raise ConfigError(f"purification rounds for link {link}, which does not exist")
            rounds[int(link)] = int(r)
    if (rounds < 0).any() or (rounds > limit).any():
        raise ConfigError(f"purification rounds must lie in 0 .. {limit}")
    return rounds


def _search(scheduler: _Scheduler, target: float, limit: int) -> Schedule:
    """The fewest purification rounds that meet ``target`` (see the module docstring)."""
    used = scheduler.used_links
    num_links = len(scheduler.rate)
    zero = np.zeros(num_links, dtype=np.int64)
    best, ceiling = scheduler.run(zero)

    def report(result: Schedule, rounds: IntArray, met: bool, reason: str) -> Schedule:
        chosen = {int(k): int(rounds[k]) for k in used}
        return _with_purification(
            result, PurificationReport(True, target, met, chosen, _extra_pairs(result), reason)
        )

    if best.fidelity.total >= target:
        return report(best, zero, True, "raw pairs already meet the budget")
    if ceiling < target or not len(used):
        return report(
            best, zero, False,
            f"gate errors and idle decoherence alone give {ceiling:.6g} < {target:.6g}; "
            "purification cannot reach the budget, so none is added",
        )  # fmt: skip
    best_rounds = zero
    for level in range(1, limit + 1):
        # Every used link purified until it is at least as good as the worst
        # link after ``level`` rounds.
        threshold = min(purify(float(scheduler.raw_fidelity[k]), level).fidelity for k in used)
        rounds = zero.copy()
        for k in used.tolist():
            r = 0
            while r < level and purify(float(scheduler.raw_fidelity[k]), r).fidelity < threshold:
                r += 1
            rounds[k] = r
        result, _ = scheduler.run(rounds)
        if result.fidelity.total >= target:
            return report(result, rounds, True, f"{level} round(s) on the worst link")
        if result.fidelity.total > best.fidelity.total:
            best, best_rounds = result, rounds
    return report(
        best, best_rounds, False,
        f"best estimate {best.fidelity.total:.6g} with up to {limit} rounds is below "
        f"{target:.6g} (longer purification adds idle decoherence)",
    )  # fmt: skip
