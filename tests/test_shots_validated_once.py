"""A shot count is checked in one place, with one exception type.

Every way in (``DistributedSystem.run``, a backend's ``run``, the Qiskit
backend and sampler, the mitigators, the verifier) goes through
:func:`qdframe.backend.validate_shots` and raises
:class:`qdframe.backend.ShotsError` with the same message, and no other
module of ``qdframe``, ``hal`` or ``plugins`` compares a ``shots`` argument
to a bound and raises on its own.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from qiskit import QuantumCircuit

import qdframe
from qdframe.backend import MAX_SHOTS, InvalidCircuitError, ShotsError, validate_shots
from qdframe.config import config_from_mapping
from qdframe.errors import EXIT_USAGE, ConfigError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("qdframe", "hal", "plugins")
_SHOT_NAMES = {"shots", "default_shots"}
_BOUNDS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _ghz(n: int = 2) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def _config():
    return config_from_mapping(
        {"distributed": {"num_nodes": 2, "qubits_per_node": 1, "network_topology": "ring"}}
    )


def _system_run(shots: object) -> object:
    with qdframe.DistributedSystem(_config()) as system:
        return system.run(_ghz(), shots=shots, seed=1)  # type: ignore[arg-type]


def _numpy_run(shots: object) -> object:
    return qdframe.get_backend("numpy").run(_ghz(), shots=shots)  # type: ignore[arg-type]


def _qiskit_backend_run(shots: object) -> object:
    from qdframe.qiskit import DistributedBackend

    return DistributedBackend(_config()).run(_ghz(), shots=shots)


def _sampler(shots: object) -> object:
    from qdframe.qiskit import Sampler

    return Sampler(_config(), default_shots=shots)  # type: ignore[arg-type]


def _readout_option(shots: object) -> object:
    return qdframe.default_plugins().registries.mitigators.get("readout")(shots=shots)


def _readout_calibrate(shots: object) -> object:
    readout = qdframe.default_plugins().registries.mitigators.get("readout")()
    return readout.calibrate(lambda circuits, **kw: [], {0: [0]}, shots=shots)


def _zne_option(shots: object) -> object:
    return qdframe.default_plugins().registries.mitigators.get("zne")(shots=shots)


def _verify(shots: object) -> object:
    from qdframe.verification import verify

    return verify(_ghz(), _ghz(), method="sampled", shots=shots)  # type: ignore[arg-type]


#: (entry point, minimum it allows, name in the message)
ENTRY_POINTS: list[tuple[Callable[[object], object], int, str]] = [
    (_system_run, 1, "shots"),
    (_numpy_run, 0, "shots"),
    (_qiskit_backend_run, 1, "shots"),
    (_sampler, 1, "default_shots"),
    (_readout_option, 1, "readout mitigator option shots"),
    (_readout_calibrate, 1, "shots"),
    (_zne_option, 1, "zne option shots"),
    (_verify, 1, "shots"),
]


@pytest.mark.parametrize(
    ("call", "minimum", "name"), ENTRY_POINTS, ids=lambda v: getattr(v, "__name__", None)
)
@pytest.mark.parametrize("bad", ["below", 2.5, True, MAX_SHOTS + 1])
def test_every_entry_point_refuses_a_bad_count_the_same_way(
    call: Callable[[object], object], minimum: int, name: str, bad: object
) -> None:
    shots = minimum - 1 if bad == "below" else bad
    with pytest.raises(ShotsError) as caught:
        call(shots)
    error = caught.value
    assert str(error) == (
        f"{name}: must be an integer from {minimum} to {MAX_SHOTS}"
        + (" (0 asks for the exact statevector)" if minimum == 0 else "")
        + f", got {shots!r}"
    )
    assert error.key_path == name and error.exit_code == EXIT_USAGE


def test_the_one_exception_is_caught_by_every_earlier_way() -> None:
    # Callers caught a bad count as ConfigError (runs), InvalidCircuitError
    # (backends) or ValueError (Qiskit primitives); each still does.
    with pytest.raises(ShotsError) as caught:
        validate_shots(-1)
    assert isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, InvalidCircuitError)
    assert isinstance(caught.value, ValueError)


def test_good_counts_pass_through_as_ints() -> None:
    import numpy as np

    assert validate_shots(0) == 0
    assert validate_shots(np.int64(7), minimum=1) == 7 and type(validate_shots(np.int64(7))) is int
    assert validate_shots(MAX_SHOTS, minimum=1) == MAX_SHOTS
    with pytest.raises(ShotsError, match="from 1 to"):
        validate_shots(0, minimum=1)


def _own_shot_checks(source: str, where: str) -> list[str]:
    """``if <shots argument> <bound>: raise`` checks in ``source``, outside validate_shots."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = function.args
        params = {
            a.arg
            for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            if a.arg in _SHOT_NAMES
        }
        if not params:
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.If):
                continue
            raises = any(isinstance(n, ast.Raise) for n in node.body)
            for compare in ast.walk(node.test):
                if not (raises and isinstance(compare, ast.Compare)):
                    continue
                sides = [compare.left, *compare.comparators]
                named = any(isinstance(s, ast.Name) and s.id in params for s in sides)
                bound = any(isinstance(s, ast.Constant) for s in sides)
                if named and bound and any(isinstance(op, _BOUNDS) for op in compare.ops):
                    found.append(f"{where}:{node.lineno} in {function.name}()")
    return found


def test_no_module_checks_a_shot_count_on_its_own() -> None:
    files = [p for folder in SOURCES for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 100
    found = []
    for path in files:
        found += _own_shot_checks(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "use qdframe.backend.validate_shots instead:\n" + "\n".join(found)


def test_the_scan_finds_a_check_of_its_own() -> None:
    source = (
        "def run(circuit, shots=1):\n"
        "    if shots < 1:\n"
        "        raise ValueError('no')\n"
        "def fine(circuit, shots=1):\n"
        "    if shots > 1:\n"
        "        return 2\n"
        "    total = sum([])\n"
        "    if total <= 0:\n"
        "        raise ValueError('empty')\n"
    )
    assert _own_shot_checks(source, "m.py") == ["m.py:2 in run()"]
