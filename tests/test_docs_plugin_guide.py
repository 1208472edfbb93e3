"""The plugin guide's examples work: each category's snippet registers and runs."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from qiskit import QuantumCircuit

import qdframe
from qdframe.config import config_from_mapping

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
