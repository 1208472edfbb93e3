"""The pipeline as stage objects over a frozen run state, with a bounded recovery loop."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest
from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.config import SystemConfig, config_from_mapping
from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import ConfigError, DistributionError
from qdframe.pipeline import RetriesExhaustedError, StageRunner
from qdframe.plugins import load_plugins
from qdframe.stages import Guard, RunState

ROOT = Path(__file__).resolve().parents[1]


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, name=f"ghz{n}")
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    return circuit


def ring(**recovery):
    return config_from_mapping(
        {
            "distributed": {"num_nodes": 2, "qubits_per_node": 2, "network_topology": "ring"},
            "recovery": {"backoff_base_s": 0.0, "checkpoint_interval": 50, **recovery},
        }
    )


class AlwaysRetry:
    """Fails ``stage`` every time and answers every error with ``retry``."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.attempts: list[int] = []

    @qd.hookimpl
    def qdframe_before_stage(self, stage, context):
        if stage == self.stage:
            raise qd.CommunicationError(f"{stage} failed again")

    @qd.hookimpl(tryfirst=True)
    def qdframe_handle_error(self, error, context, attempt):
        self.attempts.append(attempt)
        return RecoveryAction(RecoveryKind.RETRY, "the test always retries")


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_handler_that_always_retries_stops_after_max_retries(max_retries):
    plugin = AlwaysRetry("lower")
    loaded = load_plugins(plugins=[("always-retry", plugin)])
    with (
        qd.DistributedSystem(ring(max_retries=max_retries), plugins=loaded) as system,
        pytest.raises(RetriesExhaustedError) as info,
    ):
        system.run(ghz(4), shots=50, seed=1)
    # The first attempt and max_retries re-runs, then the core stops.
    assert plugin.attempts == list(range(max_retries + 1))
    message = str(info.value)
    assert f"recovery.max_retries={max_retries}" in message
    assert "'lower'" in message and "lower failed again" in message
    assert isinstance(info.value.__cause__, qd.CommunicationError)
    assert info.value.exit_code == 1


def _state() -> RunState:
    config = SystemConfig()
    return RunState(
        context=RunContext(run_id="t", config=config),
        config=config,
        original=ghz(2),
        shots=10,
        seed=1,
    )


@dataclasses.dataclass(frozen=True)
class Failing:
    """A stage that fails its first ``times`` runs."""

    seen: list[int]
    times: int
    name: str = "lower"

    def run(self, state):
        self.seen.append(state.attempt)
        if len(self.seen) <= self.times:
            raise qd.CommunicationError("link 0-1")
        return state.replace(backend="done")

    def hook_input(self, state):
        return None

    def hook_output(self, state):
        return None


class Rerouter:
    @qd.hookimpl
    def qdframe_handle_error(self, error, context, attempt):
        return RecoveryAction(RecoveryKind.REROUTE, "around the link")


def test_recovery_reruns_the_attempt_with_a_higher_attempt_number():
    loaded = load_plugins(autoload=False, plugins=[("reroute", Rerouter())])
    state = _state()
    runner = StageRunner(loaded, state.context)
    seen: list[int] = []
    recovered: list[str] = []

    def recover(failure, at):
        recovered.append(failure.stage)
        return None

    final = runner.run_with_recovery(
        [Failing(seen, times=2)], state, recover=recover, max_retries=3
    )
    assert final.backend == "done" and final.attempt == 2
    assert seen == [0, 1, 2] and recovered == ["lower", "lower"]
    assert state.backend == ""  # the state given is never changed
    with pytest.raises(RetriesExhaustedError):
        runner.run_with_recovery(
            [Failing([], times=5)], state, recover=lambda f, s: None, max_retries=3
        )


def test_a_recovery_that_ends_the_run_returns_its_state_and_guards_are_not_recovered():
    loaded = load_plugins(autoload=False, plugins=[("reroute", Rerouter())])
    state = _state()
    runner = StageRunner(loaded, state.context)
    final = runner.run_with_recovery(
        [Failing([], times=1)],
        state,
        recover=lambda failure, at: at.replace(fallback_reason="fell back"),
        max_retries=3,
    )
    assert final.fallback_reason == "fell back"

    def refuse(state):
        raise DistributionError("too long")

    fresh = _state()
    with pytest.raises(DistributionError, match="too long"):
        StageRunner(loaded, fresh.context).run_with_recovery(
            [Guard("estimate", refuse)], fresh, recover=lambda f, s: None, max_retries=3
        )
    assert "recoveries" not in fresh.context.metrics


def test_run_state_is_frozen():
    state = _state()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.shots = 5  # type: ignore[misc]
    assert state.replace(shots=5).shots == 5 and state.shots == 10


class IntakeOptimizer:
    name = "mark"
    stage = "intake"
    seen: ClassVar[list[str]] = []

    def optimize(self, circuit, context):
        self.seen.append(circuit.name)
        rewritten = circuit.copy()
        rewritten.name = "rewritten"
        return rewritten, dataclasses.make_dataclass("R", ["name", "saved"])("mark", {})


class StagePlugin:
    def __init__(self):
        self.allocated: list[str] = []

    @qd.hookimpl
    def qdframe_register_optimizers(self, registry):
        registry.add("mark", IntakeOptimizer)

    @qd.hookimpl
    def qdframe_before_stage(self, stage, state):
        if stage == "allocate":
            self.allocated.append(state.circuit.name)


def test_intake_optimizers_run_at_intake_and_the_circuit_is_allocated_once():
    plugin = StagePlugin()
    IntakeOptimizer.seen = []
    loaded = load_plugins(plugins=[("stage-plugin", plugin)])
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": 2,
                "qubits_per_node": 2,
                "network_topology": "ring",
                "optimizers": ["mark"],
            }
        }
    )
    with qd.DistributedSystem(config, plugins=loaded) as system:
        result = system.run(ghz(4), shots=50, seed=1, verify=True)
    assert IntakeOptimizer.seen == ["ghz4"]
    assert plugin.allocated == ["rewritten"]  # one allocation, of the optimized circuit
    assert [r["name"] for r in result.metrics["optimizers"]] == ["mark"]
    assert result.verified is True


def test_resume_refuses_shots_or_seed_other_than_the_runs(tmp_path):
    run_dir = tmp_path / "run"
    with qd.DistributedSystem(ring()) as system:
        first = system.run(ghz(4), shots=100, seed=5, report_dir=run_dir)
        with pytest.raises(ConfigError) as info:
            system.run("", shots=200, report_dir=run_dir, resume=True)
        message = str(info.value)
        assert "shots=200" in message and "shots=100" in message
        with pytest.raises(ConfigError, match=r"seed=6.*seed=5"):
            system.run("", seed=6, report_dir=run_dir, resume=True)
        again = system.run("", report_dir=run_dir, resume=True)
        same = system.run("", shots=100, seed=5, report_dir=run_dir, resume=True)
    assert again.shots == 100 and again.seed == 5
    assert again.counts == first.counts == same.counts


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_stages_and_analysis_import_neither_the_system_nor_the_orchestrator():
    stages = sorted((ROOT / "qdframe" / "stages").glob("*.py"))
    for path in stages:
        imported = _imports(path)
        # Counting imports under TYPE_CHECKING too: no cycle back to the callers.
        assert not imported & {"qdframe.system", "qdframe.orchestration", "qdframe.analysis"}, path
    analysis = _imports(ROOT / "qdframe" / "analysis.py")
    assert not analysis & {"qdframe.system", "qdframe.orchestration"}
    assert "_Outcome" not in (ROOT / "qdframe" / "analysis.py").read_text(encoding="utf-8")


class Asking:
    """An allocator, not named ensemble, that asks for the run's plugin set and [ensemble]."""

    name = "asking"
    CONFIG_SECTION = "ensemble"
    OPTIONS: ClassVar[dict[str, object]] = {"config": None, "plugins": None}
    built: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **options):
        self.built.append(options)
        self._inner = options["plugins"].registries.allocators.get("sequential")()

    def allocate(self, problem, *, seed=None):
        return self._inner.allocate(problem, seed=seed)


class Plain:
    name = "plain"
    built: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **options):
        self.built.append(options)
        from qdframe.allocation import Allocation

        self._allocation = Allocation

    def allocate(self, problem, *, seed=None):
        import numpy as np

        nodes = np.repeat(np.arange(problem.num_nodes), problem.capacities)
        return self._allocation.static(nodes[: problem.num_qubits], allocator=self.name)


class AllocatorPlugin:
    @qd.hookimpl
    def qdframe_register_allocators(self, registry):
        registry.add("asking", Asking)
        registry.add("plain", Plain)


@pytest.mark.parametrize("name", ["asking", "plain"])
def test_allocator_factories_get_the_run_options_they_declare(name):
    loaded = load_plugins(plugins=[("allocators-test", AllocatorPlugin())])
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": 2,
                "qubits_per_node": 2,
                "network_topology": "ring",
                "allocator": name,
            },
            "ensemble": {"num_distributors": 3},
        }
    )
    Asking.built.clear()
    Plain.built.clear()
    with qd.DistributedSystem(config, plugins=loaded) as system:
        plan = system.plan(ghz(4))
    assert plan.allocation.assignment.shape[-1] == 4
    if name == "asking":
        (options,) = Asking.built
        assert options["plugins"] is loaded
        assert options["config"].num_distributors == 3
    else:
        assert Plain.built == [{}]  # declares nothing, gets nothing
