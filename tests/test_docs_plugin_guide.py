"""The plugin guide's examples work: each category's snippet registers and runs."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.config import config_from_mapping

pytest_plugins = ["pytester"]

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
_SKIP = ("BackendConformance", "qdframe_moebius", "context.metrics[")


def _guide_plugin() -> types.ModuleType:
    module = types.ModuleType("guide_plugin")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    for block in re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S):
        if any(marker in block for marker in _SKIP):
            continue  # snippets that need another distribution or a running pipeline
        exec(compile(block, str(GUIDE), "exec"), module.__dict__)
    return module


def test_every_category_snippet_registers():
    loaded = qdframe.load_plugins(plugins=[("guide", _guide_plugin())])
    registered = loaded.registered_by("guide")
    assert loaded.failures == []
    assert registered == {
        "backends": ["exact"],
        "topologies": ["moebius"],
        "allocators": ["first-fit"],
        "optimizers": ["drop-barriers"],
        "error_handlers": ["retry-timeouts"],
        "executors": ["serial"],
        "hardware_profiles": ["acme_qpu_host"],
        "tunable_settings": ["backend.exact.precision"],
    }


def test_guide_plugins_run_a_circuit_end_to_end():
    loaded = qdframe.load_plugins(plugins=[("guide", _guide_plugin())])
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": 3,
                "qubits_per_node": 1,
                "network_topology": "ring",
                "allocator": "first-fit",
            },
            "resources": {"executor": "serial"},
        }
    )
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    with qdframe.DistributedSystem(config, plugins=loaded) as system:
        result = system.run(circuit, shots=200, seed=1, verify=True)
    assert result.plan.allocator == "first-fit"
    assert set(result.counts) == {"000", "111"}
    assert result.verified
    exact = loaded.registries.backends.get("exact")()
    assert exact.run(circuit, shots=0).statevector.shape == (8,)


def _guide_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


_KIT_CASES = [
    ("topologies", "moebius", None),
    ("allocators", "first-fit", {"optimizes": False}),
    ("optimizers", "drop-barriers", None),
    ("error_handlers", "retry-timeouts", None),
    ("executors", "serial", None),
    ("hardware_profiles", "acme_qpu_host", None),
]


def test_every_guide_example_passes_its_conformance_kit():
    from qdframe.testing.kits import check_plugin

    module = _guide_plugin()
    loaded = qdframe.load_plugins(plugins=[("guide", module)])
    for category, name, capabilities in _KIT_CASES:
        report = check_plugin(category, name, plugins=loaded, capabilities=capabilities)
        assert report.ok, report.raise_for_failures()
    # The page's own plain-Python use of a kit.
    report = module.first_fit_report()
    assert "check_assigns_every_qubit_within_capacity" in report.passed


@pytest.mark.slow
def test_the_testing_section_runs_under_pytest(pytester: pytest.Pytester) -> None:
    blocks = _guide_blocks()
    [tests] = [b for b in blocks if b.startswith("# tests/test_moebius.py")]
    plugin = "\n\n".join(b for b in blocks if not any(m in b for m in _SKIP))
    pytester.makepyfile(guide_plugin=plugin, test_moebius=tests)
    pytester.makeini("[pytest]\nqdframe_plugins = guide_plugin\n")
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    from qdframe.testing.kits import AllocatorKit, TopologyKit

    # Every topology check, the allocator checks but two (capabilities first-fit
    # does not declare), and the two plain tests.
    expected = len(TopologyKit.checks()) + len(AllocatorKit.checks()) - 2 + 2
    assert outcomes["passed"] == expected and outcomes["skipped"] == 2, outcomes


def test_the_pipeline_hook_example_reports_its_metric(tmp_path: Path) -> None:
    import json

    [block] = [b for b in _guide_blocks() if "context.metrics[" in b]
    hook = types.ModuleType("guide_hook")
    exec(compile("import qdframe\n" + block, str(GUIDE), "exec"), hook.__dict__)
    loaded = qdframe.load_plugins(plugins=[("guide_hook", hook)])
    assert loaded.failures == []
    config = config_from_mapping(
        {"distributed": {"num_nodes": 3, "qubits_per_node": 1, "network_topology": "ring"}}
    )
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    with qdframe.DistributedSystem(config, plugins=loaded) as system:
        result = system.run(circuit, shots=20, seed=1, report_dir=tmp_path / "run")
    report = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    # What the hook put in context.metrics reaches the report.
    assert report["metrics"]["extra"]["my_plugin.ebits"] == result.plan.ebits > 0


# The page's plugin code (not its test snippets) follows the rule it states:
# import qdframe, qdframe.plugin, your own package and third-party ones only.
_OWN_PACKAGE = "qdframe_moebius"


def _surface_violations(source: str) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            top = module.split(".")[0]
            private = top == "qdframe" and module not in ("qdframe", "qdframe.plugin")
            if private or (top.startswith("qdframe_") and top != _OWN_PACKAGE):
                found.append(module)
    return found


def test_the_guide_examples_import_only_the_plugin_surface() -> None:
    plugin_code = [
        b for b in _guide_blocks() if "qdframe.testing" not in b and not b.startswith("# tests/")
    ]
    assert len(plugin_code) >= 9
    found = [v for block in plugin_code for v in _surface_violations(block)]
    assert found == [], f"the guide's examples import private modules: {found}"
    assert _surface_violations("from qdframe.backend import X\nimport qdframe_hal\n") == [
        "qdframe.backend",
        "qdframe_hal",
    ]


@pytest.mark.slow
def test_the_backend_example_passes_the_backend_conformance_suite(
    pytester: pytest.Pytester,
) -> None:
    blocks = _guide_blocks()
    [suite] = [b for b in blocks if "BackendConformance" in b]
    plugin = "\n\n".join(b for b in blocks if not any(m in b for m in _SKIP))
    pytester.makepyfile(guide_plugin=plugin, test_conformance=suite)
    # The backend is not installed: the ini option is all that names it.
    pytester.makeini("[pytest]\nqdframe_plugins = guide_plugin\n")
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    # Tests of capabilities ExactSim does not declare (noise, ...) are skipped.
    assert outcomes["passed"] >= 30 and "failed" not in outcomes, outcomes


EXAMPLE = GUIDE.parents[1] / "examples" / "plugin-moebius"


@pytest.fixture
def moebius_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``examples/plugin-moebius`` importable, as if it were installed."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    _forget_moebius()
    yield
    _forget_moebius()


def _forget_moebius() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "qdframe_moebius"]:
        del sys.modules[name]


def _run_block(block: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(block, str(GUIDE), "exec"), module.__dict__)
    return module


@pytest.mark.usefixtures("moebius_package")
def test_the_packaging_and_lazy_registration_examples_register_the_example_topology() -> None:
    blocks = [b for b in _guide_blocks() if b.startswith("# qdframe_moebius/plugin.py")]
    assert len(blocks) == 2  # the plain registration and the lazy one
    for index, block in enumerate(blocks):
        _forget_moebius()
        plugin = _run_block(block, f"guide_moebius_{index}")
        loaded = qdframe.load_plugins(autoload=False, plugins=[("moebius", plugin)])
        assert loaded.failures == []
        lazy = "lazy_factory" in block
        # The lazy registration imports the builder's module only when it is used.
        assert ("qdframe_moebius.topology" in sys.modules) is not lazy
        builder = loaded.registries.topologies.get("moebius")
        topology = builder(6, qubits_per_node=2, comm_qubits_per_node=1)
        assert topology.name == "moebius" and topology.num_links == 6 + 3


@pytest.mark.usefixtures("moebius_package")
def test_the_test_without_installing_example_finds_the_builder() -> None:
    [block] = [b for b in _guide_blocks() if "from qdframe_moebius import plugin" in b]
    found = _run_block(block, "guide_without_installing")
    assert found.loaded.failures == [] and found.loaded.plugins[0].name == "moebius"
    assert found.builder(4, qubits_per_node=1, comm_qubits_per_node=1).num_nodes == 4
