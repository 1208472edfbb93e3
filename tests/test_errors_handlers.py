"""The default error handlers follow the seed's switch, bounded by max_retries."""

from __future__ import annotations

import logging

import pytest
from qdframe_errors import (
    DEFAULT_HANDLERS,
    CommunicationHandler,
    UnrecoverableHandler,
    backoff_delay,
    choose_action,
    matching_handlers,
)
from qdframe_errors import plugin as errors_plugin

import qdframe
from qdframe.config import SystemConfig
from qdframe.context import RecoveryAction, RecoveryKind, RunContext
from qdframe.errors import (
    CapacityError,
    CommunicationError,
    ConfigError,
    DistributionError,
    HardwareError,
    ResourceError,
)
from qdframe.pipeline import StageFailed, run_stage
from qdframe.plugins import LoadedPlugins, load_plugins


def _config(**recovery: object) -> SystemConfig:
    return SystemConfig.model_validate({"recovery": recovery})


def _context(run_id: str = "run", **recovery: object) -> RunContext:
    return RunContext(run_id=run_id, config=_config(**recovery))


@pytest.fixture
def plugins() -> LoadedPlugins:
    return load_plugins(autoload=False, plugins=[("errors", errors_plugin)])


def _fail_with(
    plugins: LoadedPlugins,
    error: BaseException,
    *,
    context: RunContext | None = None,
    attempt: int = 0,
    stage: str = "execute",
) -> RecoveryAction:
    def stage_fn(value: object) -> object:
        raise error

    with pytest.raises(StageFailed) as info:
        run_stage(plugins, context or _context(), stage, stage_fn, None, attempt=attempt)
    assert info.value.error is error
    return info.value.action


def test_the_plugin_registers_one_handler_per_branch(plugins: LoadedPlugins) -> None:
    registry = plugins.registries.error_handlers
    assert registry.names() == ["communication", "hardware", "resource", "unrecoverable"]
    assert all(registry.entry(n).plugin == "errors" for n in registry.names())


def test_communication_error_reroutes_around_the_link_with_backoff(
    plugins: LoadedPlugins,
) -> None:
    context = _context(backoff_base_s=0.1, max_retries=3)
    action = _fail_with(
        plugins, CommunicationError("dropped", link=(5, 2)), context=context, attempt=2
    )
    assert action.kind is RecoveryKind.REROUTE
    assert action.exclude_links == frozenset({(2, 5)})
    assert action.exclude_nodes == frozenset()
    assert action.delay_s == pytest.approx(0.1 * 2**2)
    assert "2-5" in action.reason and "retry 3 of 3" in action.reason


def test_communication_error_without_a_link_retries(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, CommunicationError("classical channel timed out"))
    assert action.kind is RecoveryKind.RETRY
    assert action.exclude_links == frozenset()
    assert action.delay_s == pytest.approx(SystemConfig().recovery.backoff_base_s)


def test_resource_error_reallocates_without_the_node(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, ResourceError("node down", node=3), attempt=1)
    assert action.kind is RecoveryKind.REALLOCATE
    assert action.exclude_nodes == frozenset({3})
    assert action.delay_s == pytest.approx(SystemConfig().recovery.backoff_base_s * 2)


def test_resource_error_without_a_node_aborts_and_says_why(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, ResourceError("needs 64 GiB but only 8 GiB may be used"))
    assert action.kind is RecoveryKind.ABORT
    assert "names no failed node" in action.reason
    assert "64 GiB" in action.reason


def test_capacity_error_is_a_usage_error_and_is_not_retried(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, CapacityError("40 qubits do not fit 32", node=1))
    assert action.kind is RecoveryKind.ABORT
    assert "not retried" in action.reason


def test_hardware_error_falls_back_to_the_classical_simulator(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, HardwareError("GPU lost", backend="aer"))
    assert action.kind is RecoveryKind.FALLBACK_CLASSICAL
    assert "'aer'" in action.reason and "fallback" in action.reason
    assert action.delay_s == 0.0


def test_hardware_error_aborts_when_fallback_is_off(plugins: LoadedPlugins) -> None:
    context = _context(fallback_strategy="none")
    action = _fail_with(plugins, HardwareError("GPU lost", backend="aer"), context=context)
    assert action.kind is RecoveryKind.ABORT
    assert "fallback_strategy is 'none'" in action.reason


@pytest.mark.parametrize(
    "error",
    [
        CommunicationError("x", link=(0, 1)),
        ResourceError("x", node=0),
        HardwareError("x", backend="aer"),
    ],
)
def test_every_recovery_stops_when_retries_are_exhausted(
    plugins: LoadedPlugins, error: DistributionError
) -> None:
    context = _context(max_retries=2)
    assert _fail_with(plugins, error, context=context, attempt=1).kind is not RecoveryKind.ABORT
    action = _fail_with(plugins, error, context=context, attempt=2)
    assert action.kind is RecoveryKind.ABORT
    assert "retries are exhausted" in action.reason
    assert "max_retries=2" in action.reason


def test_max_retries_zero_turns_recovery_off(plugins: LoadedPlugins) -> None:
    action = _fail_with(plugins, ResourceError("x", node=0), context=_context(max_retries=0))
    assert action.kind is RecoveryKind.ABORT


def test_usage_errors_abort_without_an_error_log(
    plugins: LoadedPlugins, caplog: pytest.LogCaptureFixture
) -> None:
    # The caller reports a usage error itself (CLI exit 2); logging it again
    # at error level would only repeat it.
    with caplog.at_level(logging.INFO, logger="qdframe.recovery"):
        action = _fail_with(plugins, ConfigError("bad"), stage="allocate")
    assert action.kind is RecoveryKind.ABORT
    assert "ConfigError" in action.reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_budget_refusals_abort_without_an_error_log(
    plugins: LoadedPlugins, caplog: pytest.LogCaptureFixture
) -> None:
    # A memory refusal names no node: the caller prints it once; an error log
    # of the same message would print it twice.
    with caplog.at_level(logging.INFO, logger="qdframe.recovery"):
        action = _fail_with(plugins, ResourceError("needs 256 GiB"), stage="execute")
    assert action.kind is RecoveryKind.ABORT
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with caplog.at_level(logging.ERROR, logger="qdframe.recovery"):
        _fail_with(plugins, ResourceError("node 0 down", node=0), context=_context(max_retries=0))
    assert any("node 0 down" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("error", [KeyError("qubit"), DistributionError("?")])
def test_anything_else_is_logged_and_aborted(
    plugins: LoadedPlugins, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="qdframe.recovery"):
        action = _fail_with(plugins, error, stage="lower")
    assert action.kind is RecoveryKind.ABORT
    assert type(error).__name__ in action.reason
    assert "stage 'lower'" in action.reason
    assert any(action.reason in record.getMessage() for record in caplog.records)


def test_logging_follows_enable_logging(
    plugins: LoadedPlugins, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="qdframe.recovery"):
        _fail_with(plugins, KeyError("x"), context=_context(enable_logging=False))
    assert not caplog.records


def test_each_decision_is_recorded_in_the_context(plugins: LoadedPlugins) -> None:
    context = _context()
    _fail_with(plugins, CommunicationError("a", link=(1, 0)), context=context)
    _fail_with(plugins, ResourceError("b", node=4), context=context, attempt=1, stage="allocate")
    recoveries = context.metrics["recoveries"]
    assert [r["action"] for r in recoveries] == ["reroute", "reallocate"]
    assert recoveries[0]["exclude_links"] == [[0, 1]]
    assert recoveries[1] | {"reason": None, "delay_s": None} == {
        "stage": "allocate",
        "error": "ResourceError",
        "message": "b",
        "attempt": 1,
        "action": "reallocate",
        "reason": None,
        "delay_s": None,
        "exclude_nodes": [4],
        "exclude_links": [],
    }


def test_backoff_doubles_per_attempt() -> None:
    context = _context(backoff_base_s=0.5)
    assert [backoff_delay(context, a) for a in range(4)] == [0.5, 1.0, 2.0, 4.0]


# -- ordering and overriding --------------------------------------------------


class TimeoutIsTransient:
    """A third-party handler for an error the built-ins only catch generically."""

    handles = (TimeoutError,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        return RecoveryAction(RecoveryKind.RETRY, "timeouts pass", delay_s=1.0)


class QuietLinks:
    """A third-party handler for the same error as a built-in one."""

    handles = (CommunicationError,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        return RecoveryAction(RecoveryKind.ABORT, "links never heal here")


class Declines:
    handles = (Exception,)

    def handle(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        return None


def test_more_specific_handlers_are_asked_first() -> None:
    order = matching_handlers(CommunicationError("x"), [*reversed(DEFAULT_HANDLERS)])
    assert [type(h) for h in order] == [CommunicationHandler, UnrecoverableHandler]
    assert matching_handlers(CommunicationError("x"), [TimeoutIsTransient()]) == []


def test_a_third_party_handler_wins_over_a_builtin_of_equal_specificity() -> None:
    handlers = [*DEFAULT_HANDLERS, QuietLinks()]
    action = choose_action(CommunicationError("x", link=(0, 1)), _context(), 0, handlers)
    assert action == RecoveryAction(RecoveryKind.ABORT, "links never heal here")


def test_a_declining_handler_defers_to_the_next() -> None:
    action = choose_action(KeyError("k"), _context(), 0, [Declines(), *DEFAULT_HANDLERS])
    assert action is not None and action.kind is RecoveryKind.ABORT
    assert choose_action(KeyError("k"), _context(), 0, [Declines()]) is None


def test_the_hook_asks_the_handlers_the_run_carries(plugins: LoadedPlugins) -> None:
    # The orchestrator puts the error_handlers registry on the context.
    context = _context()
    context.error_handlers = (*DEFAULT_HANDLERS, TimeoutIsTransient())  # type: ignore[attr-defined]
    action = _fail_with(plugins, TimeoutError("slow link"), context=context)
    assert action == RecoveryAction(RecoveryKind.RETRY, "timeouts pass", delay_s=1.0)
    # Without them, only the built-ins answer: a timeout is not recoverable.
    assert _fail_with(plugins, TimeoutError("slow")).kind is RecoveryKind.ABORT


class Override:
    @qdframe.hookimpl
    def qdframe_handle_error(
        self, error: BaseException, context: RunContext, attempt: int
    ) -> RecoveryAction | None:
        if isinstance(error, HardwareError):
            return RecoveryAction(RecoveryKind.RETRY, "try the device again")
        return None


def test_another_plugins_hook_answer_wins_over_the_defaults() -> None:
    loaded = load_plugins(
        autoload=False, plugins=[("override", Override()), ("errors", errors_plugin)]
    )
    assert _fail_with(loaded, HardwareError("x")).kind is RecoveryKind.RETRY
    # Errors the override declines still reach the defaults.
    assert _fail_with(loaded, ResourceError("x", node=1)).kind is RecoveryKind.REALLOCATE


def test_the_builtin_plugin_loads_through_its_entry_point() -> None:
    loaded = load_plugins()
    assert "errors" in {p.name for p in loaded.plugins}
    assert "communication" in loaded.registries.error_handlers
