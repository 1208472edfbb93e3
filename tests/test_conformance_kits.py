"""Every built-in plugin passes its category's conformance kit, and every kit
rejects a deliberately broken plugin (so each kit can fail)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.allocation import Allocation
from qdframe.context import RecoveryAction, RecoveryKind
from qdframe.errors import CommunicationError, ConfigError, RegistryError
from qdframe.plugins import LoadedPlugins
from qdframe.testing.kits import (
    KITS,
    AllocatorKit,
    ConformanceError,
    ErrorHandlerKit,
    ExecutorKit,
    HardwareProfileKit,
    MitigatorKit,
    OptimizerKit,
    TopologyKit,
    check_plugin,
    kit_for,
)
from qdframe.topology import Topology


@pytest.fixture(scope="module")
def plugins() -> LoadedPlugins:
    loaded = qdframe.load_plugins()
    assert loaded.failures == [], loaded.failures
    return loaded


# Capabilities of the built-ins, as data (what each declares beyond the defaults).
_TOPOLOGIES: dict[str, dict[str, Any]] = {
    "custom": {"sizes": (4,), "params": {"edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}},
    "small_world": {"sizes": (8, 16)},
}
_BASELINES = {"round_robin", "sequential"}
# Searches that use their whole time budget on every problem (seconds each).
_SLOW_ALLOCATORS = {"annealing", "auto", "ensemble", "fm", "temporal", "topology_aware"}
_ALLOCATORS = sorted(
    {"greedy", "locality", "round_robin", "sequential", "hypergraph"} | _SLOW_ALLOCATORS
)


def _report_ok(report: Any) -> None:
    assert report.ok, report.raise_for_failures()
    assert report.passed, "no check ran"


# ----------------------------------------------------------------- built-ins


def test_every_builtin_of_each_category_is_covered(plugins: LoadedPlugins) -> None:
    registries = plugins.registries
    assert set(registries.allocators.names()) <= set(_ALLOCATORS)
    assert set(registries.topologies.names()) <= set(_TOPOLOGY_NAMES)
    assert set(registries.optimizers.names()) <= set(_OPTIMIZERS)
    assert set(registries.error_handlers.names()) <= set(_HANDLERS)
    assert set(registries.mitigators.names()) <= set(_MITIGATORS)
    assert set(registries.executors.names()) <= {"local", "dask"}
    assert set(KITS) == {
        "allocators",
        "topologies",
        "executors",
        "error_handlers",
        "optimizers",
        "mitigators",
        "hardware_profiles",
    }


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW_ALLOCATORS else n for n in _ALLOCATORS],
)
def test_builtin_allocator_conforms(plugins: LoadedPlugins, name: str) -> None:
    if name not in plugins.registries.allocators:
        pytest.skip(f"{name} is not registered here (optional extra)")
    options = {"plugins": plugins} if name == "ensemble" else {}
    capabilities = {"optimizes": name not in _BASELINES, "migrates": name == "temporal"}
    _report_ok(
        check_plugin(
            "allocators", name, plugins=plugins, options=options, capabilities=capabilities
        )
    )


_TOPOLOGY_NAMES = [
    "all_to_all",
    "custom",
    "grid",
    "hypercube",
    "line",
    "ring",
    "small_world",
    "star",
    "torus",
    "tree",
]


@pytest.mark.parametrize("name", _TOPOLOGY_NAMES)
def test_builtin_topology_conforms(plugins: LoadedPlugins, name: str) -> None:
    report = check_plugin("topologies", name, plugins=plugins, capabilities=_TOPOLOGIES.get(name))
    _report_ok(report)
    assert not report.skipped


_OPTIMIZERS = ["burst_merge", "route_choice", "transpile"]


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_builtin_optimizer_conforms(plugins: LoadedPlugins, name: str) -> None:
    _report_ok(check_plugin("optimizers", name, plugins=plugins))


_HANDLERS = ["communication", "hardware", "resource", "unrecoverable"]


@pytest.mark.parametrize("name", _HANDLERS)
def test_builtin_error_handler_conforms(plugins: LoadedPlugins, name: str) -> None:
    report = check_plugin("error_handlers", name, plugins=plugins)
    _report_ok(report)
    assert not report.skipped


_MITIGATORS = ["readout", "zne"]


@pytest.mark.parametrize("name", _MITIGATORS)
def test_builtin_mitigator_conforms(plugins: LoadedPlugins, name: str) -> None:
    report = check_plugin("mitigators", name, plugins=plugins)
    _report_ok(report)
    assert len(report.passed) >= 3


def test_builtin_hardware_profiles_conform(plugins: LoadedPlugins) -> None:
    from qdframe_hal import builtin_profiles

    names = plugins.registries.hardware_profiles.names()
    assert names
    for name in names:
        _report_ok(check_plugin("hardware_profiles", name, plugins=plugins))
    for profile in builtin_profiles():  # the HAL's generic profiles name no CPU brand
        report = HardwareProfileKit(
            profile, name=profile.system_type, plugins=plugins, capabilities={"matchable": False}
        ).run()
        _report_ok(report)


@pytest.mark.parametrize(
    "options", [{}, {"kind": "processes"}], ids=["local-threads", "local-processes"]
)
def test_local_executor_conforms(plugins: LoadedPlugins, options: dict[str, Any]) -> None:
    report = check_plugin("executors", "local", plugins=plugins, options=options)
    _report_ok(report)
    assert not report.skipped


def test_dask_executor_conforms(plugins: LoadedPlugins) -> None:
    pytest.importorskip("distributed")
    report = check_plugin("executors", "dask", plugins=plugins, options={"processes": False})
    _report_ok(report)


# ------------------------------------------------------------ broken plugins


def _failed(report: Any) -> set[str]:
    return {r.check for r in report.failures}


class _Overfill:
    """Puts every qubit on node 0, whatever its capacity."""

    name = "overfill"

    def allocate(self, problem: Any, *, seed: int | None = None) -> Allocation:
        return Allocation.static(np.zeros(problem.num_qubits, dtype=int))


class _Unseeded:
    """Ignores the seed: each call shuffles the slots differently (by a call counter)."""

    name = "unseeded"
    calls = 0

    def allocate(self, problem: Any, *, seed: int | None = None) -> Allocation:
        _Unseeded.calls += 1
        slots = np.repeat(np.arange(problem.num_nodes), problem.capacities)
        order = np.random.default_rng(_Unseeded.calls).permutation(slots)
        return Allocation.static(order[: problem.num_qubits])


class _FillInOrder:
    name = "fill-in-order"

    def allocate(self, problem: Any, *, seed: int | None = None) -> Allocation:
        slots = np.repeat(np.arange(problem.num_nodes), problem.capacities)
        return Allocation.static(slots[: problem.num_qubits])


def test_allocator_kit_rejects_broken_allocators() -> None:
    overfill = AllocatorKit(_Overfill, capabilities={"optimizes": False}).run()
    assert {
        "check_assigns_every_qubit_within_capacity",
        "check_result_is_priced_by_the_cost_model",
    } <= _failed(overfill)
    assert "check_one_node_holds_everything" not in _failed(overfill)
    unseeded = AllocatorKit(_Unseeded).run()
    assert {"check_same_seed_same_allocation", "check_finds_a_free_partition"} <= _failed(unseeded)
    assert "check_assigns_every_qubit_within_capacity" not in _failed(unseeded)


def _one_qubit_ring(num_nodes: int, *, qubits_per_node: int, **kw: Any) -> Topology:
    # Ignores qubits_per_node, and takes unknown parameters silently.
    kw.pop("link", None)
    edges = [(i, (i + 1) % num_nodes) for i in range(num_nodes)]
    return Topology("ring", num_nodes, edges, data_qubits=1)


def _wrong_hops(num_nodes: int, *, qubits_per_node: int, comm_qubits_per_node: int, **kw: Any):
    from qdframe.errors import ConfigError as _ConfigError

    if kw.keys() - {"link"}:
        raise _ConfigError(f"unknown parameter(s) {sorted(kw.keys() - {'link'})}")
    edges = [(i, (i + 1) % num_nodes) for i in range(num_nodes)]
    return Topology(
        "ring",
        num_nodes,
        edges,
        data_qubits=qubits_per_node,
        comm_qubits=comm_qubits_per_node,
        link=kw.get("link"),
        hop_function=lambda a, b: np.minimum(np.abs(np.asarray(a) - np.asarray(b)), 1),
    )


def test_topology_kit_rejects_broken_builders() -> None:
    ignores = TopologyKit(_one_qubit_ring).run()
    assert {
        "check_node_count_and_capacities_as_declared",
        "check_unknown_parameter_is_rejected",
        "check_default_link_is_used",
    } <= _failed(ignores)
    assert "check_connected" not in _failed(ignores)
    lying = TopologyKit(_wrong_hops).run()
    assert "check_hop_distances_match_the_links" in _failed(lying)
    assert "check_node_count_and_capacities_as_declared" not in _failed(lying)


class _SerialBase:
    name = "broken"

    def __init__(self, **options: Any) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reversed(_SerialBase):
    """Runs jobs in reverse and returns them in that order; never retries."""

    def map(self, fn: Any, jobs: Any, *, max_retries: int = 0, progress: Any = None) -> list[Any]:
        return [fn(job) for job in reversed(list(jobs))]


class _Swallowing(_SerialBase):
    """Turns failures into None and keeps running after close."""

    def map(self, fn: Any, jobs: Any, *, max_retries: int = 0, progress: Any = None) -> list[Any]:
        results = []
        for job in jobs:
            try:
                results.append(fn(job))
            except Exception:
                results.append(None)
        return results


def test_executor_kit_rejects_broken_executors() -> None:
    reversed_ = ExecutorKit(_Reversed).run()
    assert {
        "check_results_come_back_in_submission_order",
        "check_failed_jobs_are_retried",
        "check_progress_is_reported",
        "check_closed_executor_refuses_work",
    } <= _failed(reversed_)
    assert "check_job_errors_propagate" not in _failed(reversed_)
    swallowing = ExecutorKit(_Swallowing).run()
    assert {
        "check_job_errors_propagate",
        "check_retries_are_bounded",
        "check_a_failed_batch_cancels_waiting_jobs",
    } <= _failed(swallowing)
    assert "check_results_come_back_in_submission_order" not in _failed(swallowing)


class _AnswersText:
    handles = (CommunicationError,)

    def handle(self, error: BaseException, context: Any, attempt: int) -> Any:
        return "retry"


class _RetriesForever:
    handles = (TimeoutError,)

    def handle(self, error: BaseException, context: Any, attempt: int) -> RecoveryAction:
        return RecoveryAction(RecoveryKind.RETRY, "always worth another go", delay_s=0.1)


def test_error_handler_kit_rejects_broken_handlers() -> None:
    text = ErrorHandlerKit(_AnswersText()).run()
    assert "check_answers_a_recovery_action_or_none" in _failed(text)
    forever = ErrorHandlerKit(_RetriesForever()).run()
    assert _failed(forever) == {"check_no_retry_once_retries_are_used_up"}


class _DropsLastGate:
    name = "drop-last"
    stage = "intake"

    def optimize(self, circuit: QuantumCircuit, context: Any) -> tuple[QuantumCircuit, Any]:
        out = circuit.copy_empty_like()
        for instruction in circuit.data[:-1]:
            out.append(instruction)
        return out, type("R", (), {"name": self.name, "saved": {"gates": 1}})()


class _WrongStage:
    name = "wrong-stage"
    stage = "schedule"

    def optimize(self, subject: Any, context: Any) -> tuple[Any, Any]:
        return subject, type("R", (), {"name": self.name, "saved": {}})()


class _RoutesAsDict:
    name = "routes-as-dict"
    stage = "lower"

    def optimize(self, table: Any, context: Any) -> tuple[Any, Any]:
        return dict(table.fixed()), type("R", (), {"name": self.name, "saved": {}})()


def test_optimizer_kit_rejects_broken_optimizers() -> None:
    dropping = OptimizerKit(_DropsLastGate).run()
    assert "check_circuit_keeps_its_unitary" in _failed(dropping)
    assert "check_declares_name_and_stage" not in _failed(dropping)
    assert _failed(OptimizerKit(_WrongStage).run()) >= {"check_declares_name_and_stage"}
    assert "check_routes_stay_valid" in _failed(OptimizerKit(_RoutesAsDict).run())


class _Normalises:
    """A counts mitigator that only normalises: it corrects nothing."""

    name = "normalise"
    kind = "counts"

    def calibrate(self, run_fn: Any, qubits_by_node: Any, **kw: Any) -> None:
        run_fn([], shots=1, seed=0)

    def apply(self, counts: Any, **kw: Any) -> dict[str, float]:
        total = sum(counts.values())
        return {k: v / total for k, v in counts.items()}

    def summary(self) -> dict[str, Any]:
        return {}


class _RawValue:
    """An expectation mitigator that returns the unmitigated value."""

    name = "raw"
    kind = "expectation"

    def estimate(self, circuit: QuantumCircuit, observable: str, run_fn: Any, **kw: Any) -> Any:
        measured = circuit.copy()
        measured.measure_all()
        counts = run_fn([measured], shots=kw["shots"], seed=kw["seed"])[0]
        total = sum(counts.values())
        wanted = [i for i, p in enumerate(reversed(observable)) if p == "Z"]
        value = sum(n * (-1) ** sum(int(key[::-1][i]) for i in wanted) for key, n in counts.items())
        result = value / total
        return type(
            "Result", (), {"value": result, "raw_value": result, "to_dict": lambda self: {}}
        )()


def test_mitigator_kit_rejects_broken_mitigators() -> None:
    normalising = MitigatorKit(_Normalises).run()
    assert _failed(normalising) == {"check_readout_mitigation_improves_counts"}
    raw = MitigatorKit(_RawValue).run()
    assert _failed(raw) == {"check_expectation_moves_toward_the_ideal"}


def test_profile_kit_rejects_a_profile_that_cannot_be_found(plugins: LoadedPlugins) -> None:
    from qdframe_hal import HardwareProfile

    profile = HardwareProfile(
        system_type="acme_box",
        vendor="ACME",
        family="acme",
        cpu_arch="x86_64",
        cpu_model="ACME 9000",
        performance_cores=8,
        cores=8,
        memory_bytes=64 * 1024**3,
        os="linux",
        brand_patterns=("Intel(R) Xeon(R) Platinum 8*",),
        setting_overrides={"resources.executor_workers": 0},
    )
    report = HardwareProfileKit(profile, name="acme_box", plugins=plugins).run()
    assert "check_recommended_settings_apply" in _failed(report)
    assert "check_is_a_valid_profile" not in _failed(report)
    elsewhere = profile.model_copy(update={"system_type": "acme_box"})
    renamed = HardwareProfileKit(elsewhere, name="other_name").run()
    assert "check_is_a_valid_profile" in _failed(renamed)


def test_profile_kit_finds_a_pattern_that_matches_another_profile(
    plugins: LoadedPlugins,
) -> None:
    from qdframe_hal import HardwareProfile

    base = plugins.registries.hardware_profiles.get("apple_silicon_m3_pro")
    data = base.model_dump(exclude=set(type(base).model_computed_fields))
    # The same machine under a second name: hosts keep finding the first one.
    copycat = HardwareProfile.model_validate({**data, "system_type": "zz_copycat"})
    report = HardwareProfileKit(copycat, name="zz_copycat", plugins=plugins).run()
    assert _failed(report) == {"check_a_host_like_it_matches_it"}


# ------------------------------------------------------------- the machinery


def test_report_lists_every_failure_and_raises() -> None:
    report = AllocatorKit(_Overfill, name="overfill").run()
    with pytest.raises(ConformanceError, match="overfill") as caught:
        report.raise_for_failures()
    for failure in report.failures:
        assert failure.check in str(caught.value)
    data = report.to_dict()
    assert data["ok"] is False and len(data["results"]) == len(AllocatorKit.checks())


def test_bad_requests_are_named() -> None:
    with pytest.raises(ConfigError, match="backends"):
        kit_for("backends")
    assert kit_for("allocator") is AllocatorKit
    with pytest.raises(ValueError, match="optimizes"):
        AllocatorKit(_Overfill, capabilities={"optimises": True})
    with pytest.raises(ConfigError, match="check_assigns_every_qubit_within_capacity"):
        check_plugin("allocators", subject=_Overfill, checks=["check_nothing"])
    with pytest.raises(ConfigError, match="registered name"):
        check_plugin("allocators")
    with pytest.raises(RegistryError, match="no-such"):
        check_plugin("allocators", "no-such", plugins=qdframe.load_plugins(autoload=False))


def test_checks_are_listed_in_definition_order() -> None:
    checks = TopologyKit.checks()
    assert checks[0] == "check_is_a_topology_builder"
    assert checks[-1] == "check_impossible_size_is_a_config_error"
    assert all(c.startswith("check_") for c in checks)


# ------------------------------------------------------------ command line


def _module(*args: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "qdframe.testing", "kit", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_line_runs_a_kit_and_says_how_it_went() -> None:
    import json

    passed = _module("topologies", "ring", "--json")
    assert passed.returncode == 0, passed.stderr
    report = json.loads(passed.stdout)
    assert report["ok"] and report["subject"] == "topology 'ring'"
    # A torus of 5 nodes cannot be built: the declared size fails the kit.
    failed = _module("topologies", "torus", "--capability", "sizes=(5,)")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "fails" in failed.stdout and "check_connected: failed" in failed.stdout
    usage = _module("topologies", "ring", "--capability", "colour=1")
    assert usage.returncode == 2 and "allowed: params, sizes" in usage.stderr
    unknown = _module("spaceships", "ring")
    assert unknown.returncode == 2 and "no conformance kit" in unknown.stderr
