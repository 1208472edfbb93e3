"""System configuration: one pydantic model per block of the seed.

``SystemConfig`` holds the blocks; its fields are also the TOML tables::

    [distributed]
    num_nodes = 16
    qubits_per_node = 8
    network_topology = "ring"

Enumerations are readable strings, units are part of field names
(``latency_us``, ``bandwidth_bps``, ``max_memory_bytes``). Defaults follow the
seed. :func:`load_config` reads TOML and applies ``QDFRAME_<TABLE>__<KEY>``
environment overrides (for example ``QDFRAME_DISTRIBUTED__NUM_NODES=16``).
"""

from __future__ import annotations

import os
import tomllib
import warnings
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qdframe.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "MAX_COMM_QUBITS_PER_NODE",
    "MAX_NODES",
    "MAX_QUBITS_PER_NODE",
    "MAX_WORKERS",
    "REMOVED_KEYS",
    "REPLACED_KEYS",
    "AccelerationConfig",
    "AdaptiveDistributionConfig",
    "AggregationMethod",
    "AllocationStrategy",
    "CommunicationConfig",
    "CommunicationMode",
    "CompressionLevel",
    "DistributedQuantumConfig",
    "DistributionEnsembleConfig",
    "DiversityMeasure",
    "ExecutorKind",
    "FallbackStrategy",
    "FaultKind",
    "FaultSpec",
    "LoadBalancing",
    "MemoryConfig",
    "MonitoringLevel",
    "NetworkClientConfig",
    "NodeTimingConfig",
    "OptimizationLevel",
    "PerformanceAnalysisConfig",
    "RecoveryConfig",
    "RemovedConfigKeyWarning",
    "ResourceManagementConfig",
    "SystemConfig",
    "SystemIntegrationConfig",
    "TimingConfig",
    "config_from_mapping",
    "load_config",
]

ENV_PREFIX = "QDFRAME_"

GIB = 1024**3

#: Most nodes a network may have: planning keeps all-pairs hop distances as
#: ``int16`` (a 16384-node network needs 512 MiB for them).
MAX_NODES = 16384
#: Most data qubits per node (as many as the largest circuit qdframe reads).
MAX_QUBITS_PER_NODE = 1 << 17
#: Most communication qubits per node.
MAX_COMM_QUBITS_PER_NODE = 1024
#: Most executor workers.
MAX_WORKERS = 4096


class _Block(BaseModel):
    """Base of every configuration block: strict keys, validated assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


# --------------------------------------------------------------------------
# Enumerations (readable strings, as they appear in TOML)
# --------------------------------------------------------------------------


class CommunicationMode(StrEnum):
    """How gates that span two nodes are carried out."""

    QUANTUM = "quantum"  # EPR pairs: cat-entanglement and teleportation
    CLASSICAL = "classical"  # circuit cutting with classical communication
    HYBRID = "hybrid"  # per burst, by cost


class ExecutorKind(StrEnum):
    THREADS = "threads"
    PROCESSES = "processes"


class AllocationStrategy(StrEnum):
    """Whether a qubit may move between nodes during the circuit."""

    STATIC = "static"  # one node per qubit for the whole circuit (no teleportation)
    DYNAMIC = "dynamic"  # time-sliced allocations; qubits teleport between slices


class LoadBalancing(StrEnum):
    """How a plan shares a circuit's qubits among the nodes it may use."""

    PACK = "pack"  # the allocator fills nodes as it likes (fewest ebits)
    SPREAD = "spread"  # each node offers at most its even share of the qubits


class OptimizationLevel(StrEnum):
    NONE = "none"
    BASIC = "basic"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class CompressionLevel(StrEnum):
    NONE = "none"
    FAST = "fast"
    BALANCED = "balanced"
    AGGRESSIVE = "aggressive"


class AggregationMethod(StrEnum):
    """``best``: the lowest-cost member. ``weighted``: members vote per qubit, weighted by score."""

    BEST = "best"
    WEIGHTED = "weighted"


class DiversityMeasure(StrEnum):
    """How different two members' partitions are.

    ``quantum``: share of two-qubit interaction weight whose locality (local or
    remote) differs; ``partition_distance``: share of qubits that must move,
    minimised over node relabelling; ``variation_of_information``: the
    information-theoretic distance between the two partitions.
    """

    QUANTUM = "quantum"
    PARTITION_DISTANCE = "partition_distance"
    VARIATION_OF_INFORMATION = "variation_of_information"


class MonitoringLevel(StrEnum):
    OFF = "off"
    BASIC = "basic"
    DETAILED = "detailed"


class FallbackStrategy(StrEnum):
    """What to do when hardware fails: run classically, or abort."""

    CLASSICAL = "classical"
    NONE = "none"


# --------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------


class DistributedQuantumConfig(_Block):
    """The network of quantum processors (seed: ``distributed_quantum_config_t``)."""

    num_nodes: int = Field(
        1024, ge=1, le=MAX_NODES, description="Number of quantum processors (nodes)."
    )
    qubits_per_node: int = Field(
        64, ge=1, le=MAX_QUBITS_PER_NODE, description="Data qubits per node."
    )
    comm_qubits_per_node: int = Field(
        2,
        ge=1,
        le=MAX_COMM_QUBITS_PER_NODE,
        description="Communication qubits per node, reused by EPR protocols.",
    )
    network_topology: str = Field(
        "torus", description="Registered topology name (`qdframe plugins list` shows them)."
    )
    topology_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra parameters for the topology builder, e.g. `dims = [8, 8, 16]`.",
    )
    communication_mode: CommunicationMode = Field(
        CommunicationMode.QUANTUM, description="How gates spanning nodes are carried out."
    )
    allocator: str = Field(
        "auto", description="Registered allocator name, or `auto` to pick by circuit size."
    )
    optimizers: list[str] = Field(
        default_factory=list,
        description="Optimizer names to run, in order (e.g. `transpile`, `route_choice`).",
    )
    enable_error_correction: bool = Field(
        True, description="Purify EPR pairs (DEJMPS) to meet `integration.error_budget`."
    )

    @field_validator("network_topology", "allocator")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not value or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("must be a registered name such as 'torus' or 'ring'")
        return value


class ResourceManagementConfig(_Block):
    """Quantum and classical processors, memory and network resources."""

    executor: str = Field("local", description="Registered executor name (`local`, `dask`).")
    executor_kind: ExecutorKind = Field(
        ExecutorKind.THREADS, description="Worker kind of the local executor."
    )
    executor_workers: int | None = Field(
        None,
        ge=1,
        le=MAX_WORKERS,
        description="Worker count; from the HAL's core count when unset.",
    )
    dask_scheduler_address: str | None = Field(
        None, description="Dask scheduler to connect to; a LocalCluster is started when unset."
    )
    allocation_strategy: AllocationStrategy = Field(
        AllocationStrategy.DYNAMIC,
        description=(
            "`static`: every qubit stays on one node for the whole circuit (no "
            "teleportation, as `qdframe plan --no-migration`); `dynamic`: time-slicing "
            "allocators may teleport qubits between nodes as the circuit goes on."
        ),
    )
    max_nodes: int | None = Field(
        None,
        ge=1,
        le=MAX_NODES,
        description=(
            "Most nodes a plan may use: a connected set of this many nodes, grown from "
            "the best-linked one; unset for the whole network."
        ),
    )
    load_balancing: LoadBalancing = Field(
        LoadBalancing.PACK,
        description=(
            "`pack`: the allocator may fill each node up to its data qubits (fewest "
            "ebits); `spread`: each node the plan may use offers the allocator at most "
            "ceil(qubits / nodes) data qubits (more where smaller nodes fall short), so "
            "the qubits, and the two-qubit gates on them, are shared among the nodes at "
            "the cost of more ebits (`qdframe plan --load-balancing`)."
        ),
    )


class CommunicationConfig(_Block):
    """Links between nodes (seed: ``communication_config_t``)."""

    bandwidth_bps: int = Field(100 * GIB, ge=1, description="Classical bandwidth per link.")
    latency_us: float = Field(100.0, ge=0, description="Classical latency per link.")
    epr_rate_hz: float = Field(1000.0, gt=0, description="EPR pairs generated per second per link.")
    epr_fidelity: float = Field(0.99, gt=0.25, le=1.0, description="Fidelity of a raw EPR pair.")
    enable_compression: bool = Field(True, description="Compress classical payloads (zstd).")
    max_sampling_overhead: float = Field(
        1000.0, ge=1.0, description="Largest circuit-cutting sampling overhead accepted."
    )
    hybrid_ebit_weight: float = Field(1.0, ge=0, description="Hybrid mode: cost of one ebit.")
    hybrid_overhead_weight: float = Field(
        1.0, ge=0, description="Hybrid mode: cost of doubling the sampling overhead (log2)."
    )


class PerformanceAnalysisConfig(_Block):
    """Metrics, profiling and reports (seed: ``distributed_analysis_config_t``)."""

    enable_profiling: bool = Field(True, description="Profile the run with cProfile.")


class AccelerationConfig(_Block):
    """Hardware acceleration (seed: ``distributed_acceleration_config_t``)."""

    use_gpu: bool = Field(True, description="Use a CUDA GPU through Aer when the HAL finds one.")
    require_gpu: bool = Field(False, description="Fail instead of falling back to the CPU.")
    enable_tensor_cores: bool = Field(True, description="Use cuStateVec where available.")
    optimization_level: OptimizationLevel = OptimizationLevel.AGGRESSIVE
    backend: str = Field("auto", description="Backend name, or `auto` to let the HAL choose.")
    precision: str = Field("complex128", description="`complex128` or `complex64`.")
    backend_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per backend name, e.g. `numpy = { fusion_max_qubits = 4 }`.",
    )

    @field_validator("precision")
    @classmethod
    def _precision(cls, value: str) -> str:
        if value not in {"complex128", "complex64"}:
            raise ValueError("allowed values: 'complex128', 'complex64'")
        return value


class MemoryConfig(_Block):
    """Memory budget (seed: ``distributed_memory_config_t``)."""

    max_memory_bytes: int = Field(128 * GIB, ge=1, description="Largest working set allowed.")
    compression_level: CompressionLevel = CompressionLevel.AGGRESSIVE
    spill_to_disk: bool = Field(
        False,
        description=(
            "Let the numpy backend keep a statevector larger than `max_memory_bytes` in a "
            "memory-mapped file (it must fit the free disk space) instead of refusing it."
        ),
    )
    spill_dir: str | None = Field(
        None,
        min_length=1,
        description=(
            "Folder for spilled statevectors (a private folder per circuit, removed when it "
            "ends); the system's temporary folder when unset."
        ),
    )


class AdaptiveDistributionConfig(_Block):
    """Learned link weights (seed: ``adaptive_distribution_config_t``)."""

    learning_rate: float = Field(0.01, gt=0, le=1, description="Exponential averaging rate.")
    threshold: float = Field(0.001, ge=0, description="Predicted gain that triggers a re-plan.")
    use_gpu: bool = True


class DistributionEnsembleConfig(_Block):
    """Several allocators or seeds, aggregated (seed: ``ensemble_distribution_config_t``)."""

    num_distributors: int = Field(5, ge=1, le=256)
    aggregation_method: AggregationMethod = AggregationMethod.WEIGHTED
    diversity_measure: DiversityMeasure = DiversityMeasure.QUANTUM


class SystemIntegrationConfig(_Block):
    """Whole-system switches (seed: ``distributed_system_config_t``)."""

    monitoring_level: MonitoringLevel = MonitoringLevel.DETAILED
    error_budget: float = Field(0.01, gt=0, lt=1, description="Largest acceptable infidelity.")
    disabled_plugins: list[str] = Field(
        default_factory=list, description="Plugin names not to load."
    )


class FaultKind(StrEnum):
    """What an injected fault breaks, and so which error it raises."""

    NODE = "node"  # ResourceError(node=...)
    LINK = "link"  # CommunicationError(link=...)
    BACKEND = "backend"  # HardwareError(backend=...)
    CRASH = "crash"  # RuntimeError: nothing recovers it


class FaultSpec(_Block):
    """One injected fault, for exercising recovery (``[[recovery.faults]]``)."""

    kind: FaultKind = Field(..., description="What breaks.")
    stage: str = Field("execute", description="Pipeline stage at which it fires.")
    job: int | None = Field(
        None, ge=0, description="Fire at this job of the execute stage instead of stage start."
    )
    node: int | None = Field(None, ge=0, description="The failed node (kind `node`).")
    link: tuple[int, int] | None = Field(None, description="The failed link (kind `link`).")
    times: int = Field(1, ge=1, description="How many times it fires before healing.")

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        from qdframe.hookspecs import PIPELINE_STAGES

        if value not in PIPELINE_STAGES:
            raise ValueError(f"allowed values: {', '.join(PIPELINE_STAGES)}")
        return value


class RecoveryConfig(_Block):
    """Retries, checkpoints and fallback (seed: ``recovery_config_t``)."""

    max_retries: int = Field(3, ge=0, le=100)
    checkpoint_interval: int = Field(
        100, ge=1, description="Shots or sub-experiments between checkpoints."
    )
    enable_logging: bool = True
    fallback_strategy: FallbackStrategy = FallbackStrategy.CLASSICAL
    backoff_base_s: float = Field(
        0.05, ge=0, description="First retry delay; doubles on each further retry."
    )
    faults: list[FaultSpec] = Field(
        default_factory=list, description="Faults to inject (testing recovery)."
    )


class NodeTimingConfig(_Block):
    """Durations, error rates and coherence times of one node's operations."""

    gate_1q_us: float = Field(10.0, gt=0, description="Single-qubit gate (and corrections).")
    gate_2q_us: float = Field(100.0, gt=0, description="Two-qubit gate.")
    measure_us: float = Field(100.0, gt=0, description="Measurement.")
    reset_us: float = Field(50.0, gt=0, description="Reset.")
    gate_1q_error: float = Field(1e-5, ge=0, lt=1, description="Depolarizing error per 1q gate.")
    gate_2q_error: float = Field(1e-4, ge=0, lt=1, description="Depolarizing error per 2q gate.")
    measure_error: float = Field(1e-4, ge=0, lt=1, description="Error per measurement.")
    t1_us: float = Field(1e7, gt=0, description="Energy relaxation time.")
    t2_us: float = Field(1e6, gt=0, description="Dephasing time (at most 2 * t1_us).")


class TimingConfig(NodeTimingConfig):
    """The schedule's timing model: node operations, purification limit, per-node overrides."""

    max_purification_rounds: int = Field(
        4, ge=0, le=16, description="Most DEJMPS rounds per link when purifying."
    )
    nodes: dict[int, dict[str, float]] = Field(
        default_factory=dict,
        description="Per-node overrides keyed by node number, e.g. `[timing.nodes.3]`.",
    )


class NetworkClientConfig(_Block):
    """The optimization-sharing client (second seed's ``DISTRIBUTED_NETWORK_CONFIG``).

    Off by default: sharing is opt-in.
    """

    enabled: bool = False
    primary_server: str = "http://127.0.0.1:8765"
    backup_servers: list[str] = Field(default_factory=list)
    local_cache_file: str = "~/.cache/qdframe/shared_optimizations.json"
    auto_fetch_on_startup: bool = True
    auto_sync_interval_s: float = Field(3600.0, gt=0)
    contribution_enabled: bool = True
    timeout_s: float = Field(5.0, gt=0)


class SystemConfig(_Block):
    """Everything a :class:`qdframe.DistributedSystem` is configured with."""

    distributed: DistributedQuantumConfig = Field(default_factory=DistributedQuantumConfig)
    resources: ResourceManagementConfig = Field(default_factory=ResourceManagementConfig)
    communication: CommunicationConfig = Field(default_factory=CommunicationConfig)
    analysis: PerformanceAnalysisConfig = Field(default_factory=PerformanceAnalysisConfig)
    acceleration: AccelerationConfig = Field(default_factory=AccelerationConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    adaptive: AdaptiveDistributionConfig = Field(default_factory=AdaptiveDistributionConfig)
    ensemble: DistributionEnsembleConfig = Field(default_factory=DistributionEnsembleConfig)
    integration: SystemIntegrationConfig = Field(default_factory=SystemIntegrationConfig)
    recovery: RecoveryConfig = Field(default_factory=RecoveryConfig)
    network: NetworkClientConfig = Field(default_factory=NetworkClientConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that owns the key at ``path`` (for listing allowed keys)."""
    model: type[BaseModel] = SystemConfig
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None:
            return model
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return model
    return model


def _allowed_for(error: Mapping[str, Any]) -> str | None:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        if owner is not None:
            return ", ".join(owner.model_fields)
    if kind == "enum" and "expected" in ctx:
        return str(ctx["expected"])
    for bound, text in (("ge", ">= {}"), ("gt", "> {}"), ("le", "<= {}"), ("lt", "< {}")):
        if bound in ctx:
            return text.format(ctx[bound])
    return None


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    lines = []
    first: dict[str, Any] | None = None
    for error in exc.errors():
        key_path = ".".join(str(p) for p in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        allowed = _allowed_for(error)
        line = f"{key_path}: {message}" if key_path else message
        if allowed:
            line += f" (allowed: {allowed})"
        lines.append(line)
        if first is None:
            first = {"key_path": key_path, "allowed": allowed}
    assert first is not None
    text = "invalid configuration:\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0]
    problem = ConfigError(text, source=source)
    problem.key_path = first["key_path"] or None
    problem.allowed = first["allowed"]
    return problem


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            continue
        target = overrides
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _parse_env_value(raw)
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


#: Keys earlier versions accepted although nothing read them, so setting one
#: never changed anything. A file or mapping that still sets one loads with a
#: :class:`RemovedConfigKeyWarning` naming it, and the key is dropped.
REMOVED_KEYS: Final[frozenset[str]] = frozenset(
    {
        "distributed.enable_monitoring",
        "distributed.enable_load_balancing",
        "resources.management_type",
        "resources.max_resources",
        "resources.enable_monitoring",
        "resources.use_quantum",
        "resources.enable_optimization",
        "communication.optimization_type",
        "communication.network_type",
        "analysis.analysis_type",
        "analysis.metrics",
        "acceleration.use_quantum",
        "acceleration.enable_distributed",
        "memory.enable_swapping",
        "memory.enable_distributed_memory",
        "adaptive.adaptation_type",
        "adaptive.enable_quantum",
        "ensemble.enable_quantum",
        "integration.enable_all_features",
        "integration.auto_optimization",
        "network.anonymous_sharing",
    }
)


#: Removed keys whose seed feature now has a key of its own.
REPLACED_KEYS: Final[Mapping[str, str]] = {
    "distributed.enable_load_balancing": "resources.load_balancing",
    "memory.enable_swapping": "memory.spill_to_disk",
    "resources.max_resources": "resources.max_nodes",
}


class RemovedConfigKeyWarning(FutureWarning):
    """A configuration sets a key that was removed because it had no effect."""


def _drop_removed(data: dict[str, Any], source: str) -> dict[str, Any]:
    """``data`` without :data:`REMOVED_KEYS`, warning once per key found."""
    for path in sorted(REMOVED_KEYS):
        table, key = path.split(".", 1)
        block = data.get(table)
        if isinstance(block, Mapping) and key in block:
            data[table] = {k: v for k, v in block.items() if k != key}
            instead = REPLACED_KEYS.get(path)
            hint = f"; {instead!r} does what it meant" if instead else ""
            warnings.warn(
                f"{source}: configuration key {path!r} was removed because it never "
                f"changed anything; delete it{hint} (see docs/configuration.md for the keys "
                f"of [{table}])",
                RemovedConfigKeyWarning,
                stacklevel=3,
            )
    return data


def config_from_mapping(data: Mapping[str, Any], *, source: str = "<mapping>") -> SystemConfig:
    """Validate ``data`` (the TOML tables as a dict) into a :class:`SystemConfig`.

    A key in :data:`REMOVED_KEYS` is dropped with a :class:`RemovedConfigKeyWarning`.

    :raises ConfigError: naming ``source``, the key path and the allowed values.
    """
    try:
        return SystemConfig.model_validate(_drop_removed(dict(data), source))
    except ValidationError as exc:
        raise _config_error(exc, source) from None


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> SystemConfig:
    """Read a TOML configuration file and apply ``QDFRAME_`` environment overrides.

    :param path: the TOML file; ``None`` starts from the defaults.
    :param environ: the environment to read overrides from (``os.environ``).
    :param overrides: applied last, over the file and the environment: a
        table as a mapping (``distributed={"num_nodes": 8}``) or one key as
        ``table__key=value`` (``distributed__num_nodes=8``).
    :raises ConfigError: the file is missing, is not valid TOML, or holds an
        unknown key, a wrong type or a value out of range.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        file = Path(path)
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("file not found", source=source) from None
        except IsADirectoryError:
            raise ConfigError("is a directory, expected a TOML file", source=source) from None
        except UnicodeDecodeError:
            raise ConfigError("not a UTF-8 text file", source=source) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"malformed TOML: {exc}", source=source) from None
    from_env = _env_overrides(os.environ if environ is None else environ)
    if from_env:
        data = _merge(data, from_env)
        source = f"{source} + {ENV_PREFIX}* environment"
    given = _keyword_overrides(overrides)
    if given:
        data = _merge(data, given)
        source = f"{source} + keyword overrides"
    return config_from_mapping(data, source=source)


def _keyword_overrides(extra: Mapping[str, Any]) -> dict[str, Any]:
    tables = set(SystemConfig.model_fields)
    out: dict[str, Any] = {}
    for name, value in extra.items():
        table, _, key = name.partition("__")
        if table not in tables:
            raise ConfigError(
                f"unknown override {name!r}: not a configuration table",
                allowed=", ".join(sorted(tables)) + " (as table={...} or table__key=value)",
            )
        if key:
            out.setdefault(table, {})[key] = value
        elif isinstance(value, Mapping):
            out.setdefault(table, {}).update(value)
        else:
            raise ConfigError(
                f"override {name!r} must be a mapping of keys, got {type(value).__name__}",
                allowed=f"{table}={{'key': value}} or {table}__key=value",
            )
    return out
