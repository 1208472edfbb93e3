"""Configured faults fire from the before-hooks, at most ``times`` per run, and recover."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from qdframe_errors import plugin as errors_plugin
from qdframe_faults import STATE_FILE, FaultInjector, InjectedCrash, validate_faults
from qdframe_faults import plugin as faults_plugin

from qdframe.config import SystemConfig
from qdframe.context import RecoveryKind, RunContext
from qdframe.errors import CommunicationError, ConfigError, HardwareError, ResourceError
from qdframe.hookspecs import PIPELINE_STAGES
from qdframe.pipeline import StageFailed, configure_plugins, run_stage
from qdframe.plugins import LoadedPlugins, load_plugins


def _config(faults: list[dict[str, Any]], backend: str = "auto") -> SystemConfig:
    return SystemConfig.model_validate(
        {
            "distributed": {"num_nodes": 8, "qubits_per_node": 4},
            "acceleration": {"backend": backend},
            "recovery": {"faults": faults},
        }
    )


def _context(
    faults: list[dict[str, Any]], run_dir: Path | None = None, backend: str = "auto"
) -> RunContext:
    # A fresh run id per context: the plugin counts faults per run.
    config = _config(faults, backend)
    return RunContext(run_id=uuid.uuid4().hex, config=config, run_dir=run_dir)


@pytest.fixture
def plugins() -> LoadedPlugins:
    return load_plugins(
        autoload=False, plugins=[("faults", faults_plugin), ("errors", errors_plugin)]
    )


def _run(plugins: LoadedPlugins, context: RunContext, stage: str, attempt: int = 0) -> str:
    return run_stage(plugins, context, stage, lambda v: f"{stage} done", None, attempt=attempt)


def test_a_link_fault_fails_its_stage_and_is_rerouted_then_heals(plugins: LoadedPlugins) -> None:
    context = _context([{"kind": "link", "stage": "lower", "link": [3, 1], "times": 2}])
    assert _run(plugins, context, "allocate") == "allocate done"  # other stages untouched
    for attempt in range(2):
        with pytest.raises(StageFailed) as info:
            _run(plugins, context, "lower", attempt)
        assert isinstance(info.value.error, CommunicationError)
        assert info.value.error.link == (3, 1)
        assert info.value.action.kind is RecoveryKind.REROUTE
        assert info.value.action.exclude_links == frozenset({(1, 3)})
    assert _run(plugins, context, "lower", 2) == "lower done"
    assert [f["occurrence"] for f in context.metrics["faults_injected"]] == [1, 2]


@pytest.mark.parametrize(
    ("fault", "error_type", "action"),
    [
        ({"kind": "node", "node": 5}, ResourceError, RecoveryKind.REALLOCATE),
        ({"kind": "backend"}, HardwareError, RecoveryKind.FALLBACK_CLASSICAL),
        ({"kind": "crash"}, InjectedCrash, RecoveryKind.ABORT),
    ],
)
def test_each_kind_raises_the_error_its_recovery_expects(
    plugins: LoadedPlugins,
    fault: dict[str, Any],
    error_type: type[BaseException],
    action: RecoveryKind,
) -> None:
    context = _context([{**fault, "stage": "execute"}])
    with pytest.raises(StageFailed) as info:
        _run(plugins, context, "execute")
    assert type(info.value.error) is error_type
    assert str(info.value.error).startswith("injected fault #0")
    assert info.value.action.kind is action


def test_the_node_and_backend_are_named_on_the_error(plugins: LoadedPlugins) -> None:
    context = _context([{"kind": "node", "node": 6}, {"kind": "backend"}], backend="aer")
    with pytest.raises(StageFailed) as first:
        _run(plugins, context, "execute")
    with pytest.raises(StageFailed) as second:
        _run(plugins, context, "execute", 1)
    assert isinstance(first.value.error, ResourceError) and first.value.error.node == 6
    assert isinstance(second.value.error, HardwareError) and second.value.error.backend == "aer"
    assert _run(plugins, context, "execute", 2) == "execute done"


def test_a_crash_is_a_runtime_error() -> None:
    assert issubclass(InjectedCrash, RuntimeError)


def test_every_stage_can_fail(plugins: LoadedPlugins) -> None:
    for stage in PIPELINE_STAGES:
        context = _context([{"kind": "crash", "stage": stage}])
        with pytest.raises(StageFailed) as info:
            _run(plugins, context, stage)
        assert info.value.stage == stage


def test_counts_are_per_run(plugins: LoadedPlugins) -> None:
    faults = [{"kind": "node", "node": 1, "stage": "allocate"}]
    first, second = _context(faults), _context(faults)
    with pytest.raises(StageFailed):
        _run(plugins, first, "allocate")
    assert _run(plugins, first, "allocate") == "allocate done"
    with pytest.raises(StageFailed):
        _run(plugins, second, "allocate")


def test_job_faults_fire_at_their_job_only(plugins: LoadedPlugins) -> None:
    context = _context([{"kind": "link", "link": [0, 1], "job": 2, "times": 1}])
    hook = plugins.hook
    # A job fault does not fire at the start of the stage...
    assert _run(plugins, context, "execute") == "execute done"
    hook.qdframe_before_job(context=context, job_index=0)
    hook.qdframe_before_job(context=context, job_index=1)
    with pytest.raises(CommunicationError, match="job 2"):
        hook.qdframe_before_job(context=context, job_index=2)
    # ...and heals once it has fired ``times`` times.
    hook.qdframe_before_job(context=context, job_index=2)


def test_no_faults_means_no_effect(plugins: LoadedPlugins) -> None:
    context = _context([])
    for stage in PIPELINE_STAGES:
        assert _run(plugins, context, stage) == f"{stage} done"
    plugins.hook.qdframe_before_job(context=context, job_index=0)
    assert "faults_injected" not in context.metrics


def test_state_survives_a_restart_through_the_run_directory(tmp_path: Path) -> None:
    faults = [{"kind": "crash", "stage": "execute", "times": 1}]
    context = _context(faults, run_dir=tmp_path)
    with pytest.raises(InjectedCrash):
        FaultInjector().before_stage(context, "execute")
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved == {"run_id": context.run_id, "fired": {"0": 1}}
    # A new process resuming the same run does not crash again.
    resumed = RunContext(run_id=context.run_id, config=context.config, run_dir=tmp_path)
    FaultInjector().before_stage(resumed, "execute")
    # A different run in the same directory starts afresh.
    other = RunContext(run_id="another", config=context.config, run_dir=tmp_path)
    with pytest.raises(InjectedCrash):
        FaultInjector().before_stage(other, "execute")


def test_the_injector_forgets_old_runs() -> None:
    injector = FaultInjector(remembered_runs=2)
    faults = [{"kind": "crash", "stage": "intake"}]
    contexts = [_context(faults) for _ in range(3)]
    for context in contexts:
        with pytest.raises(InjectedCrash):
            injector.before_stage(context, "intake")
    assert injector.fired(contexts[0].run_id) == {}
    assert injector.fired(contexts[2].run_id) == {0: 1}
    injector.forget()
    assert injector.fired(contexts[2].run_id) == {}


@pytest.mark.parametrize(
    ("fault", "key", "text"),
    [
        ({"kind": "node"}, "recovery.faults[0].node", "needs the failed node"),
        ({"kind": "node", "node": 8}, "recovery.faults[0].node", "not in the network of 8"),
        ({"kind": "link"}, "recovery.faults[0].link", "needs the failed link"),
        ({"kind": "link", "link": [2, 2]}, "recovery.faults[0].link", "distinct nodes"),
        ({"kind": "link", "link": [0, 9]}, "recovery.faults[0].link", "distinct nodes"),
        ({"kind": "crash", "node": 1}, "recovery.faults[0].node", "only used by faults of kind"),
        ({"kind": "node", "node": 1, "link": [0, 1]}, "recovery.faults[0].link", "only used"),
        ({"kind": "crash", "stage": "lower", "job": 1}, "recovery.faults[0].stage", "execute"),
    ],
)
def test_bad_faults_are_refused_by_name(fault: dict[str, Any], key: str, text: str) -> None:
    config = _config([fault])
    with pytest.raises(ConfigError, match=text) as info:
        validate_faults(config)
    assert info.value.key_path == key


def test_configure_refuses_bad_faults(plugins: LoadedPlugins) -> None:
    with pytest.raises(ConfigError, match="needs the failed node"):
        configure_plugins(plugins, _config([{"kind": "node"}]))


def test_the_injector_refuses_a_bad_size() -> None:
    with pytest.raises(ValueError, match="remembered_runs"):
        FaultInjector(remembered_runs=0)


def test_a_retry_loop_recovers_and_the_report_shows_what_happened(
    plugins: LoadedPlugins,
) -> None:
    from qdframe.report import MetricsSummary, render_html
    from qdframe.report.example import example_report

    context = _context(
        [
            {"kind": "link", "stage": "lower", "link": [0, 1]},
            {"kind": "node", "stage": "execute", "node": 2, "times": 2},
        ]
    )
    actions: list[RecoveryKind] = []
    for stage in PIPELINE_STAGES:
        attempt = 0
        while True:
            try:
                _run(plugins, context, stage, attempt)
                break
            except StageFailed as failed:
                assert failed.action.kind is not RecoveryKind.ABORT, failed.action.reason
                actions.append(failed.action.kind)
                attempt += 1
    assert actions == [RecoveryKind.REROUTE, RecoveryKind.REALLOCATE, RecoveryKind.REALLOCATE]
    metrics = MetricsSummary.from_context(context)
    assert [r.action for r in metrics.recoveries] == ["reroute", "reallocate", "reallocate"]
    assert [r.attempt for r in metrics.recoveries] == [0, 0, 1]
    assert [f["kind"] for f in metrics.faults_injected] == ["link", "node", "node"]
    report = example_report()
    report.metrics = metrics
    page = render_html(report)
    assert "Injected faults" in page and "injected fault #1 (node) in execute" in page
