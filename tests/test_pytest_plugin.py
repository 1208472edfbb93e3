"""qdframe's pytest plugin, used by a plugin author's own test suite (a real
inner pytest run through ``pytester``)."""

from __future__ import annotations

import textwrap
from importlib import metadata

import pytest

pytest_plugins = ["pytester"]

_PLUGIN = '''
import numpy as np
import qdframe
from qdframe.allocation import Allocation


class FirstFit:
    name = "first-fit"

    def __init__(self, **options):
        pass

    def allocate(self, problem, *, seed=None):
        nodes = np.repeat(np.arange(problem.num_nodes), problem.capacities)
        return Allocation.static(nodes[: problem.num_qubits], allocator=self.name)


class Overfill:
    """Every qubit on node 0: breaks capacities."""

    name = "overfill"

    def __init__(self, **options):
        pass

    def allocate(self, problem, *, seed=None):
        return Allocation.static(np.zeros(problem.num_qubits, dtype=int), allocator=self.name)


@qdframe.hookimpl
def qdframe_register_allocators(registry):
    registry.add("first-fit", FirstFit)
    registry.add("overfill", Overfill)
'''

_TESTS = """
from qiskit import QuantumCircuit

from qdframe.testing.pytest_plugin import AllocatorConformance


def test_my_plugin_is_loaded(qdframe_plugins):
    assert "first-fit" in qdframe_plugins.registries.allocators
    assert "ring" in qdframe_plugins.registries.topologies  # installed plugins too


def test_kit_in_one_call(qdframe_conformance):
    report = qdframe_conformance("allocator", "first-fit", capabilities={"optimizes": False})
    assert report.ok and "check_same_seed_same_allocation" in report.passed


def test_broken_allocator_fails_the_kit(qdframe_conformance):
    qdframe_conformance("allocators", "overfill", capabilities={"optimizes": False})


def test_system_runs_my_allocator(qdframe_system):
    qdframe_system.config.distributed.allocator = "first-fit"
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    result = qdframe_system.run(circuit, shots=100, seed=2)
    assert result.plan.allocator == "first-fit"
    assert set(result.counts) == {"000", "111"}


class TestFirstFit(AllocatorConformance):
    plugin_name = "first-fit"
    capabilities = {"optimizes": False}


class TestOverfill(AllocatorConformance):
    plugin_name = "overfill"
    capabilities = {"optimizes": False}
"""


def test_the_entry_point_registers_the_plugin() -> None:
    [entry] = [e for e in metadata.entry_points(group="pytest11") if e.name == "qdframe"]
    assert entry.value == "qdframe.testing.pytest_plugin"


@pytest.mark.slow
def test_an_author_suite_uses_the_fixtures_and_the_kits(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(my_plugin=textwrap.dedent(_PLUGIN))
    pytester.makepyfile(test_mine=textwrap.dedent(_TESTS))
    pytester.makeini("[pytest]\nqdframe_plugins = my_plugin\n")
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rfs")
    out = result.stdout.str()
    checks = 8  # AllocatorKit's checks, one test each
    failed = {
        line.split("::")[-1].split()[0] for line in result.stdout.lines if line.startswith("FAILED")
    }
    assert "test_broken_allocator_fails_the_kit" in failed, out
    # The broken allocator fails exactly the checks that see its overfull node.
    assert "test_conformance[check_assigns_every_qubit_within_capacity]" in failed, out
    assert "check_assigns_every_qubit_within_capacity" in out and "overfill" in out
    assert (
        not {"test_my_plugin_is_loaded", "test_kit_in_one_call", "test_system_runs_my_allocator"}
        & failed
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 4 + checks - 2  # first-fit passes all but skipped ones
    assert outcomes["failed"] == len(failed)


def test_a_plugin_that_fails_to_load_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        bad_plugin="import qdframe\n\n@qdframe.hookimpl\ndef qdframe_no_such_hook(registry):\n"
        "    pass\n"
    )
    pytester.makepyfile(test_bad="def test_it(qdframe_plugins):\n    pass\n")
    pytester.makeini("[pytest]\nqdframe_plugins = bad_plugin\nqdframe_autoload = false\n")
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["qdframe plugins failed to load:", "*bad_plugin*unknown hook*qdframe_no_such_hook*"]
    )


def test_an_unimportable_module_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_it(qdframe_plugins):\n    pass\n")
    pytester.makeini("[pytest]\nqdframe_plugins = no_such_module_xyz\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*no_such_module_xyz*cannot be imported*"])
