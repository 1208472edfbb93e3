"""The report of one run, as typed data.

A :class:`RunReport` holds what a run did and what it cost: the circuit, the
configuration, the plan (allocation, ebits, swaps), the schedule (makespan,
utilisation, timeline), the execution (counts, fallback, verification),
mitigation, metrics and the network. Every section but the circuit and the
configuration is optional, so a plan-only or failed run still has a report.
It is stored as ``report.json`` (see :mod:`qdframe.report.io`) and rendered to
one HTML page (see :mod:`qdframe.report.html`).

Units are in field names (``_us``, ``_s``, ``_bytes``); utilisations are
fractions in ``[0, 1]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qdframe._version import __version__

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.context import RunContext
    from qdframe.topology import Topology

__all__ = [
    "SCHEMA_VERSION",
    "CircuitSummary",
    "ConfigSummary",
    "ExecutionSummary",
    "LinkUsage",
    "MetricsSummary",
    "MitigationSummary",
    "PlanSummary",
    "ReadoutQubit",
    "RecoveryEvent",
    "RunReport",
    "ScheduleSummary",
    "TimelineItem",
    "TopologyEdge",
    "TopologyNode",
    "TopologySummary",
    "VerificationSummary",
    "ZNEEstimate",
]

#: Version of the JSON layout; bumped when a field changes meaning or is removed.
SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------
# Circuit and configuration
# --------------------------------------------------------------------------


class CircuitSummary(_Model):
    """The circuit that ran.

    :param name: the circuit's name (user-provided; always escaped when shown).
    :param ops: gate name → how many.
    :param two_qubit_gates: gates acting on two or more qubits.
    """

    name: str
    num_qubits: int = Field(ge=0)
    num_clbits: int = Field(default=0, ge=0)
    depth: int = Field(default=0, ge=0)
    size: int = Field(default=0, ge=0)
    ops: dict[str, int] = Field(default_factory=dict)
    two_qubit_gates: int = Field(default=0, ge=0)

    @classmethod
    def from_circuit(cls, circuit: QuantumCircuit) -> CircuitSummary:
        """Summarise a Qiskit circuit."""
        multi = sum(
            1
            for instruction in circuit.data
            if len(instruction.qubits) >= 2 and instruction.operation.name != "barrier"
        )
        return cls(
            name=str(circuit.name),
            num_qubits=circuit.num_qubits,
            num_clbits=circuit.num_clbits,
            depth=circuit.depth(),
            size=circuit.size(),
            ops={str(k): int(v) for k, v in circuit.count_ops().items()},
            two_qubit_gates=multi,
        )


class ConfigSummary(_Model):
    """The configuration the run used: the headline values and the full settings.

    :param settings: the whole configuration as JSON data.
    """

    topology: str
    num_nodes: int = Field(ge=1)
    qubits_per_node: int = Field(ge=0)
    comm_qubits_per_node: int = Field(default=0, ge=0)
    communication_mode: str
    allocator: str
    backend: str
    settings: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_config(cls, config: SystemConfig) -> ConfigSummary:
        """Summarise a :class:`qdframe.config.SystemConfig`."""
        d = config.distributed
        return cls(
            topology=d.network_topology,
            num_nodes=d.num_nodes,
            qubits_per_node=d.qubits_per_node,
            comm_qubits_per_node=d.comm_qubits_per_node,
            communication_mode=str(getattr(d.communication_mode, "value", d.communication_mode)),
            allocator=d.allocator,
            backend=config.acceleration.backend,
            settings=config.model_dump(mode="json"),
        )


# --------------------------------------------------------------------------
# Plan and schedule
# --------------------------------------------------------------------------


class PlanSummary(_Model):
    """Where the qubits went and what communication that needs.

    :param allocator: the allocator that produced the plan.
    :param reason: why that allocator (e.g. chosen by ``auto`` for the size).
    :param allocation: node of each circuit qubit (index = qubit), in the
        first time slice when the allocation is time-sliced.
    :param ebits: EPR pairs consumed.
    :param swaps: entanglement swaps performed to route them.
    :param classical_bits: classical bits sent between nodes.
    :param migrations: teleported qubit moves between time slices.
    :param nonlocal_gates: gates whose qubits live on different nodes.
    :param fidelity_estimate: the scheduler's estimate, when known.
    """

    allocator: str
    reason: str = ""
    allocation: list[int] = Field(default_factory=list)
    ebits: int = Field(default=0, ge=0)
    swaps: int = Field(default=0, ge=0)
    classical_bits: int = Field(default=0, ge=0)
    migrations: int = Field(default=0, ge=0)
    nonlocal_gates: int = Field(default=0, ge=0)
    fidelity_estimate: float | None = Field(default=None, ge=0, le=1)


class TimelineItem(_Model):
    """One busy interval of one node on the schedule.

    :param kind: what the node does, used to colour it: ``gate``, ``epr``,
        ``swap``, ``measure``, ``classical`` or any other word.
    """

    node: int = Field(ge=0)
    start_us: float = Field(ge=0)
    end_us: float = Field(ge=0)
    label: str = ""
    kind: str = "gate"

    @model_validator(mode="after")
    def _ordered(self) -> TimelineItem:
        if self.end_us < self.start_us:
            raise ValueError(
                f"timeline item on node {self.node} ends at {self.end_us} us, "
                f"before it starts at {self.start_us} us"
            )
        return self


class LinkUsage(_Model):
    """How much one link was used.

    :param ebits: EPR pairs it delivered (including those consumed by swaps).
    :param busy_us: time it spent generating them.
    """

    u: int = Field(ge=0)
    v: int = Field(ge=0)
    ebits: int = Field(default=0, ge=0)
    busy_us: float = Field(default=0.0, ge=0)


class ScheduleSummary(_Model):
    """When things happen on the network.

    :param node_utilisation: node → fraction of the makespan it is busy.
    """

    makespan_us: float = Field(ge=0)
    node_utilisation: dict[int, float] = Field(default_factory=dict)
    link_usage: list[LinkUsage] = Field(default_factory=list)
    timeline: list[TimelineItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fractions(self) -> ScheduleSummary:
        for node, value in self.node_utilisation.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"utilisation of node {node} is {value}; it must be in [0, 1]")
        return self


# --------------------------------------------------------------------------
# Execution and mitigation
# --------------------------------------------------------------------------


class VerificationSummary(_Model):
    """What a verification proved (the fields of ``VerificationResult.as_dict()``).

    :param method: ``exact-state``, ``exact-distribution``, ``random-inputs``,
        ``qcec``, ``sampled``, or ``none`` when nothing could be compared.
    :param inputs: which inputs a pass covers: ``all``, the number of random
        input states, ``|0...0>`` (sampled) or ``none``.
    :param scope: the same in words, with the false-accept bound for random inputs.
    :param proved: what a pass establishes, in words (or why nothing was compared).
    :param false_accept_probability: for ``random-inputs``, the chance that a
        program with average infidelity at least ``epsilon`` passes.
    """

    method: str
    verified: bool | None = None
    inputs: str = "none"
    scope: str = ""
    proved: str = ""
    distance: float | None = None
    bound: float | None = None
    false_accept_probability: float | None = Field(default=None, ge=0, le=1)
    epsilon: float | None = None

    @classmethod
    def from_result(cls, data: Mapping[str, Any] | None) -> VerificationSummary | None:
        """From a run's ``verification`` dictionary; ``None`` when nothing was checked."""
        if not data or "method" not in data:
            return None

        def number(key: str) -> float | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value)

        verified = data.get("verified")
        return cls(
            method=str(data["method"]),
            verified=None if verified is None else bool(verified),
            inputs=str(data.get("inputs", "none")),
            scope=str(data.get("scope", "")),
            proved=str(data.get("proved") or data.get("reason") or ""),
            distance=number("distance"),
            bound=number("bound"),
            false_accept_probability=number("false_accept_probability"),
            epsilon=number("epsilon"),
        )


class ExecutionSummary(_Model):
    """What the backend returned.

    :param counts: bitstring → count, clbit 0 rightmost.
    :param fallback: the result came from the local simulator after a hardware
        failure (``fallback_reason`` says which).
    :param verified: the distributed result agreed with a direct simulation;
        ``None`` when not checked.
    :param verification: the numbers behind ``verified`` (e.g. ``distance``).
    :param proof: what the verification proved: method, inputs covered, distance.
    :param mitigated: mitigated probabilities, when readout mitigation ran.
    """

    backend: str
    shots: int = Field(ge=0)
    seed: int | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    fallback: bool = False
    fallback_reason: str | None = None
    verified: bool | None = None
    verification: dict[str, float] = Field(default_factory=dict)
    proof: VerificationSummary | None = None
    mitigated: dict[str, float] | None = None
    expectation_values: dict[str, float] = Field(default_factory=dict)
    device: str | None = None
    time_s: float | None = Field(default=None, ge=0)


class ReadoutQubit(_Model):
    """The readout calibration of one qubit."""

    node: int = Field(ge=0)
    qubit: int = Field(ge=0)
    prob_meas1_prep0: float = Field(ge=0, le=1)
    prob_meas0_prep1: float = Field(ge=0, le=1)


class ZNEEstimate(_Model):
    """One zero-noise extrapolation (the fields of ``ZNEResult.to_dict()``)."""

    value: float
    raw_value: float
    scales: list[float]
    achieved_scales: list[float]
    values: list[float]
    std_errors: list[float] = Field(default_factory=list)
    method: str
    folding: str
    observable: dict[str, float]
    shots: int = Field(ge=0)


class MitigationSummary(_Model):
    """What error mitigation did."""

    readout: list[ReadoutQubit] = Field(default_factory=list)
    readout_shots: int | None = Field(default=None, ge=0)
    zne: list[ZNEEstimate] = Field(default_factory=list)

    @classmethod
    def from_data(
        cls,
        *,
        readout: Mapping[str, Any] | None = None,
        zne: Iterable[Mapping[str, Any]] = (),
    ) -> MitigationSummary:
        """Build from the mitigators' own JSON data.

        :param readout: a readout calibration as data: ``{"shots": ..., "qubits":
            [{"node", "qubit", "prob_meas1_prep0", "prob_meas0_prep1"}, ...]}``
            (what ``ReadoutCalibration.to_dict()`` returns).
        :param zne: zero-noise estimates as data (what ``ZNEResult.to_dict()`` returns).
        """
        return cls(
            readout=[ReadoutQubit.model_validate(q) for q in (readout or {}).get("qubits", [])],
            readout_shots=None if readout is None else readout.get("shots"),
            zne=[ZNEEstimate.model_validate(z) for z in zne],
        )


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


class RecoveryEvent(_Model):
    """One answer of the error hook (see ``context.metrics["recoveries"]``)."""

    stage: str | None = None
    error: str
    message: str = ""
    attempt: int = Field(default=0, ge=0)
    action: str
    reason: str
    delay_s: float = Field(default=0.0, ge=0)
    exclude_nodes: list[int] = Field(default_factory=list)
    exclude_links: list[tuple[int, int]] = Field(default_factory=list)


class MetricsSummary(_Model):
    """What the run cost and how often things failed.

    :param error_rates: name → rate in ``[0, 1]`` (e.g. failed jobs, retried stages).
    :param faults_injected: the faults fired (``context.metrics["faults_injected"]``).
    :param extra: any other metric, by name.
    """

    stage_seconds: dict[str, float] = Field(default_factory=dict)
    total_seconds: float | None = Field(default=None, ge=0)
    throughput_shots_per_s: float | None = Field(default=None, ge=0)
    cpu_percent: float | None = Field(default=None, ge=0)
    peak_memory_bytes: int | None = Field(default=None, ge=0)
    error_rates: dict[str, float] = Field(default_factory=dict)
    recoveries: list[RecoveryEvent] = Field(default_factory=list)
    faults_injected: list[dict[str, Any]] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_context(cls, context: RunContext, **fields: Any) -> MetricsSummary:
        """Read the metrics that stages and plugins left in ``context.metrics``.

        Known keys (``stage_seconds``, ``recoveries``, ``faults_injected``,
        and the field names of this model) fill their fields; anything else
        JSON-compatible goes to ``extra``. ``fields`` override both.
        """
        known = set(cls.model_fields) - {"extra"}
        data: dict[str, Any] = {"extra": {}}
        for key, value in context.metrics.items():
            if key in known:
                data[key] = value
            elif _jsonable(value):
                data["extra"][key] = value
        if "stage_seconds" in data and "total_seconds" not in data:
            data["total_seconds"] = float(sum(data["stage_seconds"].values()))
        data.update(fields)
        return cls.model_validate(data)


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


# --------------------------------------------------------------------------
# Topology
# --------------------------------------------------------------------------


class TopologyNode(_Model):
    """A node of the network; ``x``, ``y`` fix its drawn position when given."""

    id: int = Field(ge=0)
    data_qubits: int = Field(default=0, ge=0)
    comm_qubits: int = Field(default=0, ge=0)
    x: float | None = None
    y: float | None = None
    failed: bool = False


class TopologyEdge(_Model):
    """A link; ``usage`` (EPR pairs carried) colours it in the drawing."""

    u: int = Field(ge=0)
    v: int = Field(ge=0)
    usage: float = Field(default=0.0, ge=0)
    failed: bool = False


class TopologySummary(_Model):
    """The network the run used."""

    name: str
    nodes: list[TopologyNode] = Field(default_factory=list)
    edges: list[TopologyEdge] = Field(default_factory=list)

    @model_validator(mode="after")
    def _edges_join_nodes(self) -> TopologySummary:
        ids = {node.id for node in self.nodes}
        for edge in self.edges:
            if edge.u not in ids or edge.v not in ids:
                raise ValueError(f"link {edge.u}-{edge.v} joins a node that is not listed")
        return self

    @classmethod
    def from_topology(
        cls,
        topology: Topology,
        *,
        usage: Mapping[tuple[int, int], float] | None = None,
        failed_nodes: Iterable[int] = (),
        failed_links: Iterable[tuple[int, int]] = (),
    ) -> TopologySummary:
        """Summarise a :class:`qdframe.topology.Topology`.

        :param usage: link (either order) → EPR pairs carried.
        :param failed_nodes: nodes to mark as failed (left out by recovery).
        :param failed_links: links to mark as failed.
        """
        used = {(min(u, v), max(u, v)): float(x) for (u, v), x in (usage or {}).items()}
        dead_nodes = set(failed_nodes)
        dead_links = {(min(u, v), max(u, v)) for u, v in failed_links}
        nodes = [
            TopologyNode(
                id=i,
                data_qubits=int(topology.data_qubits[i]),
                comm_qubits=int(topology.comm_qubits[i]),
                failed=i in dead_nodes,
            )
            for i in range(topology.num_nodes)
        ]
        edges = [
            TopologyEdge(
                u=int(u), v=int(v), usage=used.get((u, v), 0.0), failed=(u, v) in dead_links
            )
            for u, v in topology.edges.tolist()
        ]
        return cls(name=topology.name, nodes=nodes, edges=edges)


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _empty_metrics() -> MetricsSummary:
    return MetricsSummary()


class RunReport(_Model):
    """Everything one run reports.

    :param status: ``"succeeded"``, ``"failed"`` or ``"planned"`` (plan only).
    :param error: why the run failed, when it did.
    """

    schema_version: int = SCHEMA_VERSION
    qdframe_version: str = __version__
    run_id: str
    created_at: datetime = Field(default_factory=_now)
    status: str = "succeeded"
    error: str | None = None
    circuit: CircuitSummary
    config: ConfigSummary
    plan: PlanSummary | None = None
    schedule: ScheduleSummary | None = None
    execution: ExecutionSummary | None = None
    mitigation: MitigationSummary | None = None
    metrics: MetricsSummary = Field(default_factory=_empty_metrics)
    topology: TopologySummary | None = None
    notes: list[str] = Field(default_factory=list)
