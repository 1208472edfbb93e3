"""Durations and error rates of node operations.

:class:`NodeTiming` gives one node's gate durations, error rates and
coherence times; :class:`TimingModel` holds a default for every node,
per-node overrides and the settings of the network model (purification
rounds allowed, classical compression).

The defaults describe a trapped-ion-like processor, which matches the
network defaults of ``[communication]`` (1 kHz EPR generation, 100 us link
latency): gates of tens of microseconds and coherence times of seconds.
With those defaults an EPR pair takes 1 ms, which dominates the schedule
exactly as it does on today's hardware.

Read from ``[timing]`` in the configuration when the configuration has such a
block (see ``docs/distribution.md`` for the field names); otherwise from the
defaults or the arguments given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from qdframe.errors import ConfigError

if TYPE_CHECKING:
    from qdframe.config import SystemConfig

__all__ = ["NodeTiming", "TimingModel"]


@dataclass(frozen=True)
class NodeTiming:
    """Operation durations (microseconds), error probabilities and coherence times.

    :param gate_1q_us: single-qubit gate (also a classically conditioned correction).
    :param gate_2q_us: two-qubit gate.
    :param measure_us: measurement.
    :param reset_us: reset.
    :param gate_1q_error: depolarizing error probability per single-qubit gate.
    :param gate_2q_error: per two-qubit gate.
    :param measure_error: per measurement.
    :param t1_us: energy relaxation time.
    :param t2_us: dephasing time (``t2_us <= 2 * t1_us``).
    """

    gate_1q_us: float = 10.0
    gate_2q_us: float = 100.0
    measure_us: float = 100.0
    reset_us: float = 50.0
    gate_1q_error: float = 1e-5
    gate_2q_error: float = 1e-4
    measure_error: float = 1e-4
    t1_us: float = 1e7
    t2_us: float = 1e6

    def __post_init__(self) -> None:
        problems = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_error"):
                if not 0.0 <= value < 1.0:
                    problems.append(f"{item.name}={value} (allowed: 0 <= value < 1)")
            elif item.name in ("t1_us", "t2_us"):
                if not value > 0:
                    problems.append(f"{item.name}={value} (allowed: > 0)")
            elif not value >= 0:
                problems.append(f"{item.name}={value} (allowed: >= 0)")
        if self.t2_us > 2 * self.t1_us + 1e-9:
            problems.append(f"t2_us={self.t2_us} > 2 * t1_us={2 * self.t1_us} (not physical)")
        if problems:
            raise ConfigError("invalid node timing: " + ", ".join(problems))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> NodeTiming:
        """Build from a mapping, naming unknown keys.

        :raises ConfigError: unknown key or invalid value.
        """
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ConfigError(
                f"unknown timing field(s) {', '.join(unknown)}", allowed=", ".join(allowed)
            )
        return cls(**{k: float(v) for k, v in values.items()})


@dataclass(frozen=True)
class TimingModel:
    """What the scheduler needs besides the program and the topology.

    :param default: timing of every node without an override.
    :param nodes: per-node overrides.
    :param max_purification_rounds: most DEJMPS rounds per link pair.
    :param compression_level: zstd level for classical payloads.
    """

    default: NodeTiming = field(default_factory=NodeTiming)
    nodes: Mapping[int, NodeTiming] = field(default_factory=dict)
    max_purification_rounds: int = 4
    compression_level: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.max_purification_rounds <= 16:
            raise ConfigError(
                f"max_purification_rounds={self.max_purification_rounds} (allowed: 0 .. 16)"
            )

    def node(self, node: int) -> NodeTiming:
        return self.nodes.get(node, self.default)

    def with_default(self, **values: float) -> TimingModel:
        """A copy whose default timing has some fields replaced."""
        return replace(self, default=replace(self.default, **values))

    @classmethod
    def from_config(cls, config: SystemConfig | None) -> TimingModel:
        """The ``[timing]`` block of ``config`` when it has one, else the defaults.

        The block holds the :class:`NodeTiming` fields, optionally
        ``max_purification_rounds`` and ``nodes`` (a table of per-node tables
        keyed by node number).
        """
        block = getattr(config, "timing", None) if config is not None else None
        if block is None:
            return cls()
        data = block.model_dump() if hasattr(block, "model_dump") else dict(block)
        nodes = data.pop("nodes", None) or {}
        rounds = int(data.pop("max_purification_rounds", 4))
        default = NodeTiming.from_mapping(data)
        overrides = {
            int(k): NodeTiming.from_mapping({**asdict(default), **dict(v)})
            for k, v in dict(nodes).items()
        }
        return cls(default=default, nodes=overrides, max_purification_rounds=rounds)
