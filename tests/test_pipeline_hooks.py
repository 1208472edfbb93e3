"""Pipeline hooks fire around each stage; the error hook's first answer wins."""

from __future__ import annotations

import pytest

import qdframe
from qdframe.config import SystemConfig
from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import CommunicationError
from qdframe.hookspecs import PIPELINE_STAGES, StageHookDeprecationWarning
from qdframe.pipeline import StageFailed, configure_plugins, run_stage
from qdframe.plugins import load_plugins


class Recorder:
    """A plugin that records every generic pipeline hook call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self.configured: list[SystemConfig] = []

    @qdframe.hookimpl
    def qdframe_configure(self, config):
        self.configured.append(config)

    @qdframe.hookimpl
    def qdframe_before_stage(self, stage, context, state):
        assert context.stage == stage
        self.calls.append(("before", stage, state))

    @qdframe.hookimpl
    def qdframe_after_stage(self, stage, context, state):
        self.calls.append(("after", stage, state))


class LegacyRecorder:
    """A plugin implementing the deprecated per-stage hooks, one pair per stage."""

    def __init__(self, calls: list[tuple[str, object]]) -> None:
        # Hook implementations must be attributes of the plugin object;
        # generate one pair per stage so the test covers every stage name.
        for stage in PIPELINE_STAGES:
            for when in ("before", "after"):
                name = f"qdframe_{when}_{stage}"

                def impl(context, value, _name=name):
                    calls.append((_name, value))

                setattr(self, name, qdframe.hookimpl(impl))


@pytest.fixture
def recorder_plugins():
    recorder = Recorder()
    loaded = load_plugins(autoload=False, plugins=[("recorder", recorder)])
    return recorder, loaded


def _context() -> RunContext:
    return RunContext(run_id="t", config=SystemConfig())


def test_every_stage_fires_before_and_after_in_order(recorder_plugins):
    recorder, loaded = recorder_plugins
    context = _context()
    value = 1
    for stage in PIPELINE_STAGES:
        value = run_stage(loaded, context, stage, lambda v: v + 1, value)
    assert value == 1 + len(PIPELINE_STAGES)
    expected = []
    for stage in PIPELINE_STAGES:
        # Outside a whole run there is no run state.
        expected += [("before", stage, None), ("after", stage, None)]
    assert recorder.calls == expected
    assert set(context.metrics["stage_seconds"]) == set(PIPELINE_STAGES)


def test_per_stage_hooks_warn_when_registered_and_still_fire_after_the_generic_ones():
    legacy_calls: list[tuple[str, object]] = []
    recorder = Recorder()
    with pytest.warns(StageHookDeprecationWarning) as warned:
        loaded = load_plugins(
            autoload=False,
            plugins=[("legacy", LegacyRecorder(legacy_calls)), ("recorder", recorder)],
        )
    assert loaded.failures == []
    messages = {str(w.message) for w in warned}
    assert len(messages) == 2 * len(PIPELINE_STAGES)
    assert any(
        "qdframe_after_lower is deprecated" in m and "qdframe_after_stage" in m for m in messages
    )
    context = _context()
    value = 1
    for stage in PIPELINE_STAGES:
        value = run_stage(loaded, context, stage, lambda v: v * 2, value)
    expected = []
    for index, stage in enumerate(PIPELINE_STAGES):
        expected += [
            (f"qdframe_before_{stage}", 2**index),
            (f"qdframe_after_{stage}", 2 ** (index + 1)),
        ]
    assert legacy_calls == expected
    assert [c[:2] for c in recorder.calls[:2]] == [("before", "intake"), ("after", "intake")]


def test_generic_hooks_raise_no_deprecation_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_plugins(autoload=False, plugins=[("recorder", Recorder())])


def test_qdframe_configure_receives_the_config(recorder_plugins):
    recorder, loaded = recorder_plugins
    config = SystemConfig()
    configure_plugins(loaded, config)
    assert recorder.configured == [config]


def test_unknown_stage_is_refused(recorder_plugins):
    _, loaded = recorder_plugins
    with pytest.raises(ValueError, match="unknown stage 'teleport'"):
        run_stage(loaded, _context(), "teleport", lambda v: v, None)


class Rerouter:
    @qdframe.hookimpl
    def qdframe_handle_error(self, error, context, attempt):
        if isinstance(error, CommunicationError):
            return RecoveryAction(RecoveryKind.REROUTE, f"link down at {context.stage}", 0.5)
        return None


class Catchall:
    @qdframe.hookimpl(trylast=True)
    def qdframe_handle_error(self, error, context, attempt):
        return RecoveryAction(RecoveryKind.ABORT, f"attempt {attempt}")


def _fail(error: Exception):
    def stage(value):
        raise error

    return stage


def test_qdframe_handle_error_first_answer_wins():
    loaded = load_plugins(
        autoload=False, plugins=[("catchall", Catchall()), ("reroute", Rerouter())]
    )
    with pytest.raises(StageFailed) as info:
        run_stage(loaded, _context(), "execute", _fail(CommunicationError("link 3-4")), None)
    assert info.value.action.kind is RecoveryKind.REROUTE
    assert info.value.action.reason == "link down at execute"
    assert info.value.stage == "execute"

    with pytest.raises(StageFailed) as info:
        run_stage(loaded, _context(), "lower", _fail(KeyError("x")), None, attempt=2)
    assert info.value.action == RecoveryAction(RecoveryKind.ABORT, "attempt 2")


def test_unhandled_error_aborts_and_after_hook_does_not_fire(recorder_plugins):
    recorder, loaded = recorder_plugins
    with pytest.raises(StageFailed) as info:
        run_stage(loaded, _context(), "schedule", _fail(RuntimeError("boom")), 7)
    assert info.value.action.kind is RecoveryKind.ABORT
    assert "RuntimeError" in info.value.action.reason
    assert recorder.calls == [("before", "schedule", None)]
