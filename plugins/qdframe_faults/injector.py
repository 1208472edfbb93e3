"""Raising configured faults at the start of a stage or of an execute-stage job.

Each ``[[recovery.faults]]`` entry (a :class:`qdframe.config.FaultSpec`) fires
at most ``times`` times per run, counted per ``context.run_id``. The count is
kept in memory and, when the run has a directory, in ``faults_state.json``
there, so a run resumed after an injected crash does not crash again.

A fault raises the error the recovery policy expects for what broke:

==========  ==================================================
kind        raises
==========  ==================================================
``node``    :class:`~qdframe.errors.ResourceError` (``node=``)
``link``    :class:`~qdframe.errors.CommunicationError` (``link=``)
``backend`` :class:`~qdframe.errors.HardwareError` (``backend=``)
``crash``   :class:`InjectedCrash`, a :class:`RuntimeError`
==========  ==================================================
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from qdframe.plugin import (
    CommunicationError,
    ConfigError,
    FaultKind,
    FaultSpec,
    HardwareError,
    ResourceError,
    RunContext,
    SystemConfig,
    atomic_write_text,
)

__all__ = ["STATE_FILE", "FaultInjector", "InjectedCrash", "build_error", "validate_faults"]

#: Name of the file, in the run directory, that counts the faults fired so far.
STATE_FILE = "faults_state.json"


class InjectedCrash(RuntimeError):
    """The error a fault of kind ``crash`` raises; no handler recovers it."""


def _key(index: int, field: str) -> str:
    return f"recovery.faults[{index}].{field}"


def validate_faults(config: SystemConfig) -> None:
    """Check every configured fault against the network it would break.

    :raises ConfigError: a ``node`` fault without a node or with one outside
        the network, a ``link`` fault without a link or with a bad one, a
        node or link given to a kind that does not use it, or a ``job`` fault
        outside the execute stage.
    """
    num_nodes = config.distributed.num_nodes
    nodes_allowed = f"0..{num_nodes - 1}"
    for index, spec in enumerate(config.recovery.faults):
        if spec.kind is FaultKind.NODE:
            if spec.node is None:
                raise ConfigError(
                    "a fault of kind 'node' needs the failed node",
                    key_path=_key(index, "node"),
                    allowed=nodes_allowed,
                )
            if spec.node >= num_nodes:
                raise ConfigError(
                    f"node {spec.node} is not in the network of {num_nodes} nodes",
                    key_path=_key(index, "node"),
                    allowed=nodes_allowed,
                )
        elif spec.node is not None:
            raise ConfigError(
                f"node is only used by faults of kind 'node', not {spec.kind.value!r}",
                key_path=_key(index, "node"),
            )
        if spec.kind is FaultKind.LINK:
            if spec.link is None:
                raise ConfigError(
                    "a fault of kind 'link' needs the failed link",
                    key_path=_key(index, "link"),
                    allowed="a pair of distinct nodes, e.g. [0, 1]",
                )
            u, v = spec.link
            if u == v or not (0 <= u < num_nodes and 0 <= v < num_nodes):
                raise ConfigError(
                    f"link {list(spec.link)} is not a pair of distinct nodes of the network",
                    key_path=_key(index, "link"),
                    allowed=f"two distinct nodes in {nodes_allowed}",
                )
        elif spec.link is not None:
            raise ConfigError(
                f"link is only used by faults of kind 'link', not {spec.kind.value!r}",
                key_path=_key(index, "link"),
            )
        if spec.job is not None and spec.stage != "execute":
            raise ConfigError(
                f"a fault with job={spec.job} fires in the execute stage, not {spec.stage!r}",
                key_path=_key(index, "stage"),
                allowed="'execute' (or leave job unset to fire at the start of the stage)",
            )


def build_error(spec: FaultSpec, index: int, context: RunContext) -> BaseException:
    """The exception fault number ``index`` raises in ``context``."""
    where = f"job {spec.job} of stage {spec.stage!r}" if spec.job is not None else spec.stage
    prefix = f"injected fault #{index} ({spec.kind.value}) in {where}"
    if spec.kind is FaultKind.NODE:
        return ResourceError(f"{prefix}: node {spec.node} failed", node=spec.node)
    if spec.kind is FaultKind.LINK:
        assert spec.link is not None  # validate_faults guarantees it
        u, v = spec.link
        return CommunicationError(f"{prefix}: link {u}-{v} failed", link=(u, v))
    if spec.kind is FaultKind.BACKEND:
        backend = context.config.acceleration.backend
        return HardwareError(f"{prefix}: backend {backend!r} failed", backend=backend)
    return InjectedCrash(f"{prefix}: simulated crash")


class FaultInjector:
    """Fires the faults of ``context.config.recovery.faults``; thread-safe.

    :param remembered_runs: how many runs' counts to keep in memory (oldest
        forgotten first); the run directory's state file outlives that.
    """

    def __init__(self, *, remembered_runs: int = 256) -> None:
        if remembered_runs < 1:
            raise ValueError(f"remembered_runs must be at least 1, got {remembered_runs}")
        self._limit = remembered_runs
        # run id -> fault index -> times fired
        self._runs: OrderedDict[str, dict[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def before_stage(self, context: RunContext, stage: str) -> None:
        """Raise the first stage-level fault for ``stage`` that has not healed yet."""
        self._fire(context, lambda spec: spec.job is None and spec.stage == stage)

    def before_job(self, context: RunContext, job_index: int) -> None:
        """Raise the first job-level fault for job ``job_index`` that has not healed yet."""
        self._fire(context, lambda spec: spec.job == job_index)

    def fired(self, run_id: str) -> dict[int, int]:
        """How often each fault (by index) has fired in run ``run_id`` in this process."""
        with self._lock:
            return dict(self._runs.get(run_id, {}))

    def forget(self, run_id: str | None = None) -> None:
        """Drop the in-memory counts of one run (all runs when ``None``)."""
        with self._lock:
            if run_id is None:
                self._runs.clear()
            else:
                self._runs.pop(run_id, None)

    # ----------------------------------------------------------------- private

    def _fire(self, context: RunContext, matches: Callable[[FaultSpec], bool]) -> None:
        faults = context.config.recovery.faults
        if not faults:
            return
        with self._lock:
            fired = self._fired_in(context)
            for index, spec in enumerate(faults):
                if not matches(spec) or fired.get(index, 0) >= spec.times:
                    continue
                fired[index] = fired.get(index, 0) + 1
                error = build_error(spec, index, context)
                self._save(context, fired)
                context.metrics.setdefault("faults_injected", []).append(
                    {
                        "fault": index,
                        "kind": spec.kind.value,
                        "stage": spec.stage,
                        "job": spec.job,
                        "occurrence": fired[index],
                        "message": str(error),
                    }
                )
                raise error

    def _fired_in(self, context: RunContext) -> dict[int, int]:
        fired = self._runs.get(context.run_id)
        if fired is None:
            validate_faults(context.config)
            fired = self._load(context)
            self._runs[context.run_id] = fired
            while len(self._runs) > self._limit:
                self._runs.popitem(last=False)
        else:
            self._runs.move_to_end(context.run_id)
        return fired

    @staticmethod
    def _load(context: RunContext) -> dict[int, int]:
        if context.run_dir is None:
            return {}
        path = Path(context.run_dir) / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read fault state {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("run_id") != context.run_id:
            return {}
        fired = data.get("fired", {})
        return {int(k): int(v) for k, v in fired.items()}

    @staticmethod
    def _save(context: RunContext, fired: dict[int, int]) -> None:
        if context.run_dir is None:
            return
        directory = Path(context.run_dir)
        directory.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"run_id": context.run_id, "fired": {str(k): v for k, v in fired.items()}}
        )
        atomic_write_text(directory / STATE_FILE, payload)
