"""Start-up cost: what `qdframe --version`, `import qdframe` and intake load."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import MCXGate, PermutationGate, UnitaryGate
from qiskit.quantum_info import random_clifford, random_unitary

import qdframe
from qdframe.basis import translate_to_basis


def _modules_after(code: str) -> list[str]:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def _heavy(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in roots]


def test_version_loads_no_framework() -> None:
    modules = _modules_after(
        "import sys\nsys.argv = ['qdframe', '--version']\nfrom qdframe.cli import main\nmain()"
    )
    assert not _heavy(modules, ("typer", "pydantic", "numpy", "qiskit", "rich", "pluggy"))


def test_version_prints_the_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "qdframe", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == f"qdframe {qdframe.__version__}"


def test_import_qdframe_is_light() -> None:
    modules = _modules_after("import qdframe")
    assert not _heavy(modules, ("pydantic", "numpy", "qiskit"))


def test_lazy_names_are_listed_and_resolve() -> None:
    names = dir(qdframe)
    for name in ("DistributedSystem", "SystemConfig", "load_config", "hookimpl", "get_backend"):
        assert name in names
        assert getattr(qdframe, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = qdframe.nope  # type: ignore[attr-defined]


def test_planning_does_not_load_transpiler_plugins() -> None:
    # transpile() imports every installed transpiler plugin (qiskit_ibm_runtime
    # among them when qiskit-addon-cutting is installed); intake must not.
    modules = _modules_after(
        "from qdframe.planning import make_plan\n"
        "from qdframe.config import SystemConfig\n"
        "cfg = SystemConfig.model_validate({'distributed': {'num_nodes': 2,"
        " 'qubits_per_node': 4, 'network_topology': 'ring'}})\n"
        "from qdframe.plugins import default_plugins\n"
        "make_plan('examples/qft8.qasm', cfg, plugins=default_plugins())"
    )
    assert "qdframe.planning" in modules
    assert not _heavy(modules, ("qiskit_ibm_runtime",))


def _circuits() -> list[QuantumCircuit]:
    a = QuantumCircuit(3, 3)
    a.h(0)
    a.cx(0, 1)
    a.ccx(0, 1, 2)
    a.swap(1, 2)
    a.barrier()
    a.rzz(0.3, 0, 2)
    a.measure(range(3), range(3))
    b = QuantumCircuit(3)
    b.append(UnitaryGate(random_unitary(4, seed=1)), [0, 2])
    b.append(PermutationGate([2, 0, 1]), [0, 1, 2])
    c = QuantumCircuit(4)
    c.append(MCXGate(3), [0, 1, 2, 3])
    c.append(random_clifford(2, seed=3), [1, 3])
    sub = QuantumCircuit(2, name="mine")
    sub.h(0)
    sub.cx(0, 1)
    sub.t(1)
    d = QuantumCircuit(3)
    d.append(sub.to_gate(), [2, 0])
    d.reset(1)
    return [a, b, c, d]


@pytest.mark.parametrize("index", range(4))
def test_translation_matches_transpile_level_0(index: int) -> None:
    circuit = _circuits()[index]
    expected = transpile(circuit, basis_gates=["u", "cp"], optimization_level=0)
    got = translate_to_basis(circuit, ("u", "cp"))
    assert set(got.count_ops()) <= {"u", "cp", "measure", "reset", "barrier"}
    assert got.data == expected.data
    assert got.global_phase == pytest.approx(expected.global_phase)
