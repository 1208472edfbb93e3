"""qdframe's pytest plugin: fixtures and conformance test classes for plugin authors.

Installed with qdframe (entry point ``pytest11: qdframe``), so any test suite
that has qdframe installed gets these fixtures:

``qdframe_plugin_modules``
    the plugin modules under test; from the ``qdframe_plugins`` ini option
    (import names, one per line or space-separated), or override the fixture.
``qdframe_plugins``
    a :class:`qdframe.plugins.LoadedPlugins` of the installed plugins (entry
    points; ``qdframe_autoload = false`` turns them off) plus those modules.
    A plugin that fails to load fails the test with the cause.
``qdframe_config``
    a small system: a ring of 4 nodes of 2 data qubits, the local executor.
``qdframe_system``
    a started :class:`qdframe.DistributedSystem` of that configuration over
    ``qdframe_plugins``; cleaned up after the test.
``qdframe_conformance``
    ``qdframe_conformance(category, name, *, options=None, capabilities=None,
    subject=None)`` runs that category's kit against a plugin of
    ``qdframe_plugins`` and fails the test listing every failed check.

For one test per check, subclass a conformance class and name the plugin::

    from qdframe.testing.pytest_plugin import AllocatorConformance

    class TestFirstFit(AllocatorConformance):
        plugin_name = "first-fit"
        capabilities = {"optimizes": False}
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, ClassVar

import pytest

from qdframe.testing._kit import Kit

__all__ = [
    "AllocatorConformance",
    "ConformanceTests",
    "ErrorHandlerConformance",
    "ExecutorConformance",
    "HardwareProfileConformance",
    "MitigatorConformance",
    "OptimizerConformance",
    "TopologyConformance",
    "pytest_addoption",
]

_GROUP = "qdframe"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``qdframe_plugins`` and ``qdframe_autoload`` ini options."""
    parser.addini(
        "qdframe_plugins",
        "qdframe plugin modules under test (import names) for the qdframe_plugins fixture",
        type="args",
        default=[],
    )
    parser.addini(
        "qdframe_autoload",
        "whether the qdframe_plugins fixture also loads installed qdframe entry points",
        type="bool",
        default=True,
    )


def _entry_points_for(modules: list[Any]) -> list[str]:
    # An installed plugin given again as a module would be registered twice.
    names = {getattr(m, "__name__", "") for m in modules}
    return [ep.name for ep in metadata.entry_points(group=_GROUP) if ep.value in names]


@pytest.fixture
def qdframe_plugin_modules(request: pytest.FixtureRequest) -> list[Any]:
    """The plugin modules under test (the ``qdframe_plugins`` ini option)."""
    names: list[str] = list(request.config.getini("qdframe_plugins"))
    modules: list[Any] = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as error:
            raise pytest.UsageError(
                f"ini option qdframe_plugins names {name!r}, which cannot be imported: {error}"
            ) from None
    return modules


@pytest.fixture
def qdframe_plugins(request: pytest.FixtureRequest, qdframe_plugin_modules: list[Any]) -> Any:
    """The plugin set: installed plugins (unless ``qdframe_autoload = false``) and yours."""
    import qdframe

    autoload = bool(request.config.getini("qdframe_autoload"))
    modules = list(qdframe_plugin_modules)
    loaded = qdframe.load_plugins(
        autoload=autoload,
        disabled=_entry_points_for(modules) if autoload else (),
        plugins=modules,
    )
    if loaded.failures:
        pytest.fail(
            "qdframe plugins failed to load:\n" + "\n".join(f"  {f}" for f in loaded.failures),
            pytrace=False,
        )
    return loaded


@pytest.fixture
def qdframe_config() -> Any:
    """A ring of 4 nodes of 2 data qubits on the local executor (one worker thread)."""
    from qdframe.config import config_from_mapping

    return config_from_mapping(
        {
            "distributed": {"num_nodes": 4, "qubits_per_node": 2, "network_topology": "ring"},
            "resources": {"executor": "local", "executor_workers": 1},
        }
    )


@pytest.fixture
def qdframe_system(qdframe_config: Any, qdframe_plugins: Any) -> Iterator[Any]:
    """A started DistributedSystem of ``qdframe_config`` over ``qdframe_plugins``."""
    import qdframe

    with qdframe.DistributedSystem(qdframe_config, plugins=qdframe_plugins) as system:
        yield system


@pytest.fixture
def qdframe_conformance(qdframe_plugins: Any) -> Callable[..., Any]:
    """Run a category's kit against a plugin; fail listing every failed check."""

    def run(
        category: str,
        name: str | None = None,
        *,
        options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
        subject: Any = None,
    ) -> Any:
        from qdframe.testing.kits import check_plugin

        report = check_plugin(
            category,
            name,
            plugins=qdframe_plugins,
            subject=subject,
            options=options,
            capabilities=capabilities,
        )
        report.raise_for_failures()
        return report

    return run


class ConformanceTests:
    """One test per check of ``kit`` against the plugin ``plugin_name``.

    :cvar category: the registry category whose kit runs (set by the classes below).
    :cvar plugin_name: the registered name in the ``qdframe_plugins`` fixture's set.
    :cvar plugin_options: keyword options for a factory.
    :cvar capabilities: what the plugin declares (see the kit's module).

    Override the ``conformance_subject`` fixture to check an unregistered object.
    """

    category: ClassVar[str]
    plugin_name: ClassVar[str | None] = None
    plugin_options: ClassVar[dict[str, Any]] = {}
    capabilities: ClassVar[dict[str, Any]] = {}

    @classmethod
    def kit(cls) -> type[Kit]:
        # Imported on use: the kits load Qiskit, which a plain pytest run must not pay for.
        from qdframe.testing.kits import kit_for

        return kit_for(cls.category)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "conformance_check" in metafunc.fixturenames:
            metafunc.parametrize("conformance_check", self.kit().checks())

    @pytest.fixture
    def conformance_subject(self, qdframe_plugins: Any) -> Any:
        if not self.plugin_name:
            pytest.skip("set plugin_name, or override the conformance_subject fixture")
        category = self.kit().category
        return qdframe_plugins.registries.by_category(category).get(self.plugin_name)

    @pytest.fixture
    def conformance_kit(self, conformance_subject: Any, qdframe_plugins: Any) -> Iterator[Kit]:
        kit = self.kit()(
            conformance_subject,
            name=self.plugin_name,
            plugins=qdframe_plugins,
            options=dict(self.plugin_options),
            capabilities=dict(self.capabilities),
        )
        try:
            yield kit
        finally:
            kit.close()

    def test_conformance(self, conformance_kit: Kit, conformance_check: str) -> None:
        result = conformance_kit.run_check(conformance_check)
        if result.outcome == "skipped":
            pytest.skip(result.message)
        if result.outcome == "failed":
            pytest.fail(f"{conformance_kit.name!r}: {result.message}", pytrace=False)


class AllocatorConformance(ConformanceTests):
    """The allocator kit, one test per check."""

    category = "allocators"


class TopologyConformance(ConformanceTests):
    """The topology kit, one test per check."""

    category = "topologies"


class ExecutorConformance(ConformanceTests):
    """The executor kit, one test per check (each starts its own executor)."""

    category = "executors"


class ErrorHandlerConformance(ConformanceTests):
    """The error-handler kit, one test per check."""

    category = "error_handlers"


class OptimizerConformance(ConformanceTests):
    """The optimizer kit, one test per check."""

    category = "optimizers"


class MitigatorConformance(ConformanceTests):
    """The mitigator kit, one test per check."""

    category = "mitigators"


class HardwareProfileConformance(ConformanceTests):
    """The hardware-profile kit, one test per check."""

    category = "hardware_profiles"
