"""A plugin given through the API alone runs whole distributed circuits.

Each example plugin of ``docs/plugins.md`` (backend, topology, allocator,
optimizer, error handler) is written to a module on ``sys.path`` and loaded
with ``qdframe.load_plugins(autoload=False, plugins=[...])``: no entry point
knows it, so every stage, job and worker must receive the run's plugin set.
It runs on the local executor (threads and processes) and on a real Dask
LocalCluster, whose worker processes rebuild the set from its recipe; the
error handler recovers a run on both. Outside the API edge no module takes
the process-wide ``default_plugins()``.
"""

from __future__ import annotations

import importlib
import pickle
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.config import config_from_mapping
from qdframe.errors import RegistryError
from qdframe.plugins import LoadedPlugins

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
_SKIP = ("BackendConformance", "qdframe_moebius", "context.metrics[")
_MODULE = "qdf_guide_plugin"

# Built-in plugins the run needs besides the guide's (still given explicitly).
_BUILTINS = ("qdframe_executors.plugin", "qdframe_errors.plugin", "qdframe_dask.plugin")

_TIMEOUT_ONCE = """
import qdframe

fired = []


@qdframe.hookimpl
def qdframe_before_stage(stage, context):
    if stage == "execute" and not fired:
        fired.append(context.run_id)
        raise TimeoutError("link controller did not answer")
"""


@pytest.fixture
def guide_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The guide's snippets as one importable module (and a one-shot timeout plugin)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    source = "\n\n".join(b for b in blocks if not any(marker in b for marker in _SKIP))
    (tmp_path / f"{_MODULE}.py").write_text(source, encoding="utf-8")
    (tmp_path / "qdf_timeout_once.py").write_text(_TIMEOUT_ONCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    # Worker processes of a cluster started now import from here too.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    yield importlib.import_module(_MODULE)
    for name in (_MODULE, "qdf_timeout_once"):
        sys.modules.pop(name, None)


def _plugins(guide: Any, *extra: str) -> LoadedPlugins:
    modules = [importlib.import_module(name) for name in (*_BUILTINS, *extra)]
    loaded = qdframe.load_plugins(autoload=False, plugins=[("guide", guide), *modules])
    assert loaded.failures == []
    return loaded


def _config(executor: dict[str, Any]) -> Any:
    return config_from_mapping(
        {
            "distributed": {
                "num_nodes": 4,
                "qubits_per_node": 1,
                "network_topology": "moebius",
                "allocator": "first-fit",
                "optimizers": ["drop-barriers"],
            },
            "acceleration": {"backend": "exact"},
            "resources": executor,
            "recovery": {"checkpoint_interval": 100, "backoff_base_s": 0.0},
        }
    )


def _ghz() -> QuantumCircuit:
    circuit = QuantumCircuit(4)
    circuit.h(0)
    circuit.barrier()
    for q in range(3):
        circuit.cx(q, q + 1)
    return circuit


def _check(result: Any) -> None:
    assert result.backend == "exact"
    assert result.plan.allocator == "first-fit"
    assert result.plan.problem.topology.name == "moebius"
    assert set(result.counts) == {"0000", "1111"}
    assert sum(result.counts.values()) == 400
    assert result.plan.cost.ebits >= 3  # one qubit per node: every CX is remote
    [report] = result.metrics["optimizers"]
    # My barrier, and the one intake puts before the final measurements.
    assert report["name"] == "drop-barriers" and report["saved"]["instructions"] >= 1


EXECUTORS = [
    pytest.param({"executor": "local", "executor_workers": 2}, id="local-threads"),
    pytest.param(
        {"executor": "local", "executor_kind": "processes", "executor_workers": 2},
        id="local-processes",
    ),
]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_guide_plugins_run_on_the_local_executor(guide_module: Any, executor: Any) -> None:
    with qdframe.DistributedSystem(_config(executor), plugins=_plugins(guide_module)) as system:
        result = system.run(_ghz(), shots=400, seed=3)
    _check(result)


def test_guide_plugins_run_on_dask_worker_processes(guide_module: Any) -> None:
    pytest.importorskip("distributed")
    config = _config({"executor": "dask", "executor_workers": 2})
    with qdframe.DistributedSystem(config, plugins=_plugins(guide_module)) as system:
        result = system.run(_ghz(), shots=400, seed=3)
        executor = system.executor()
        # The batches really ran in other processes, which knew the guide's backend.
        pids = executor.client.run(lambda: __import__("os").getpid())
    _check(result)
    assert len(pids) == 2 and __import__("os").getpid() not in pids.values()


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_the_guide_error_handler_recovers_a_run(guide_module: Any, executor: str) -> None:
    if executor == "dask":
        pytest.importorskip("distributed")
    loaded = _plugins(guide_module, "qdf_timeout_once")
    config = _config({"executor": executor, "executor_workers": 1})
    with qdframe.DistributedSystem(config, plugins=loaded) as system:
        result = system.run(_ghz(), shots=400, seed=3)
    _check(result)
    [event] = result.metrics["recoveries"]
    assert event["stage"] == "execute" and "timeouts are transient" in str(event)


def test_without_the_plugin_the_run_names_the_missing_backend(guide_module: Any) -> None:
    builtins = (*_BUILTINS, "qdframe_topologies.plugin", "qdframe_allocators.plugin")
    modules = [importlib.import_module(name) for name in builtins]
    loaded = qdframe.load_plugins(autoload=False, plugins=modules)
    config = _config({"executor": "local"}).model_copy(deep=True)
    config.distributed.network_topology = "all_to_all"
    config.distributed.allocator = "sequential"
    config.distributed.optimizers = []
    with (
        qdframe.DistributedSystem(config, plugins=loaded) as system,
        pytest.raises(RegistryError, match="exact"),
    ):
        system.run(_ghz(), shots=10, seed=1)


def test_a_plugin_set_pickles_as_its_recipe_and_is_rebuilt_once(guide_module: Any) -> None:
    loaded = _plugins(guide_module)
    copy = pickle.loads(pickle.dumps(loaded))
    assert copy is not loaded
    assert copy.registries.backends.names() == loaded.registries.backends.names()
    assert "exact" in copy.registries.backends and "moebius" in copy.registries.topologies
    assert pickle.loads(pickle.dumps(loaded)) is copy  # built once per process


def test_a_module_the_worker_cannot_import_is_named() -> None:
    import types

    ghost = types.ModuleType("qdf_nowhere_to_import")
    loaded = qdframe.load_plugins(autoload=False, plugins=[ghost])
    with pytest.raises(RegistryError, match=r"qdf_nowhere_to_import.*cannot be imported"):
        pickle.loads(pickle.dumps(loaded))


def test_a_hand_built_plugin_set_refuses_to_pickle() -> None:
    import pluggy

    loaded = LoadedPlugins(manager=pluggy.PluginManager("qdframe"))
    with pytest.raises(TypeError, match="load_plugins"):
        pickle.dumps(loaded)


# Where the process-wide plugin set may be taken: the API edge only. A library
# function, stage, job or plugin gets the run's set passed in instead.
_EDGE = (
    "qdframe/backend.py",  # qd.get_backend(name) without plugins=
    "qdframe/cli/",  # each command builds the set it runs with
    "qdframe/network/",  # the sharing server and client processes
    "qdframe/testing/kits.py",  # check_plugin(...) without plugins=
)


def _default_plugin_calls(root: Path) -> list[str]:
    import ast

    found = []
    for folder in ("qdframe", "hal", "plugins"):
        for path in sorted((root / folder).rglob("*.py")):
            where = str(path.relative_to(root))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "default_plugins" and not where.startswith(_EDGE):
                    found.append(f"{where}:{node.lineno}")
    return found


def test_the_process_wide_plugin_set_is_taken_only_at_the_api_edge(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    assert _default_plugin_calls(root) == [], "pass the run's plugin set instead"
    # The scan sees a call where one is made.
    (tmp_path / "plugins" / "qdframe_x").mkdir(parents=True)
    (tmp_path / "plugins" / "qdframe_x" / "m.py").write_text(
        "import qdframe\nx = qdframe.default_plugins()\n", encoding="utf-8"
    )
    assert _default_plugin_calls(tmp_path) == ["plugins/qdframe_x/m.py:2"]
