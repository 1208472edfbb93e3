"""The pytket-dqc side of ``benchmarks/dqc/quality.py``: the KaHyPar weight fix
and the checks on the pytket-dqc Python (no pytket-dqc needed here)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "dqc"
INI = Path(__file__).resolve().parents[1] / "plugins" / "qdframe_allocators" / "data"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# Two qubit vertices (0, 1) and two gate vertices (2, 3) of weight 0, as
# pytket-dqc builds them; each qubit's hyperedge holds both gates.
_SCRIPT = """
import sys
sys.path.insert(0, {bench!r})
import kahypar
from _pytket_dqc_runner import _WeightedKahypar
api = _WeightedKahypar() if {fixed} else kahypar
graph = api.Hypergraph(4, 2, [0, 3, 6], [0, 2, 3, 1, 2, 3], 2, [1, 1], [1, 1, 0, 0])
context = api.Context()
context.loadINIconfiguration({ini!r})
context.setK(2)
context.setCustomTargetBlockWeights([1, 1])
context.suppressOutput(True)
context.setSeed(0)
kahypar.partition(graph, getattr(context, "_context", context))
print(" ".join(str(graph.blockID(v)) for v in range(4)))
"""


def _partition(fixed: bool) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("kahypar")
    code = _SCRIPT.format(bench=str(BENCH), fixed=fixed, ini=str(INI / "kahypar_km1.ini"))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_kahypar_rejects_weight_zero_gate_vertices_without_the_fix() -> None:
    done = _partition(fixed=False)
    assert done.returncode != 0
    assert "weight 0" in done.stdout + done.stderr


def test_the_weight_fix_partitions_and_keeps_one_qubit_per_server() -> None:
    done = _partition(fixed=True)
    assert done.returncode == 0, done.stdout + done.stderr
    blocks = [int(b) for b in done.stdout.split()]
    assert sorted(blocks[:2]) == [0, 1]  # capacity 1 each: the qubits are split


def test_a_python_without_pytket_dqc_is_named_and_refused() -> None:
    quality = _load("quality")
    problem = quality.check_pytket_dqc(sys.executable)
    assert problem is not None and "pytket_dqc" in problem
    assert quality.check_pytket_dqc("/nonexistent/python") is not None
    assert quality.main(["--compare", "--pytket-dqc-python", sys.executable]) == 2


def test_unknown_distributors_and_allocators_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    quality = _load("quality")
    assert quality.main(["--compare", "--pytket-dqc-distributors", "Nope"]) == 2
    assert "allowed: PartitioningAnnealing" in capsys.readouterr().err
    assert quality.main(["--allocators", "nope"]) == 2
    assert "registered:" in capsys.readouterr().err
