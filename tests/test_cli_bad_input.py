"""Bad input to the real command line: exit 2, one short line, no traceback, nothing written.

Each case runs ``python -m qdframe`` in a fresh directory that holds only the
case's input files; afterwards the directory must hold exactly those files
(no run directory, no report, no checkpoint).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

GOOD = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\n'
    "h q[0];\ncx q[0],q[1];\ncx q[1],q[2];\nmeasure q -> c;\n"
)
SECRET = "TOPSECRET-TOKEN"
RING_OF_TWO = '[distributed]\nnum_nodes = 2\nqubits_per_node = 1\nnetwork_topology = "ring"\n'
#: Generous: a case that hangs (as the unbounded ones did) fails here, not in CI's job limit.
HANG_GUARD_S = 120


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    says: str = ""  # a phrase the message must contain
    never: tuple[str, ...] = ()  # text that must not appear anywhere in the output


def _qasm(body: str) -> str:
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\n{body}'


CASES = [
    Case("empty file", ("run", "c.qasm"), {"c.qasm": ""}, says="the file is empty"),
    Case("zero qubits", ("run", "c.qasm"), {"c.qasm": _qasm("qreg q[0];\n")}, says="no qubits"),
    Case("no qreg", ("run", "c.qasm"), {"c.qasm": _qasm("creg c[2];\n")}, says="no qubits"),
    Case(
        "bare OPENQASM",
        ("run", "c.qasm"),
        {"c.qasm": "OPENQASM\nqreg q[1];\n"},
        says="must name version 2 or 3",
    ),
    Case(
        "opaque gate",
        ("run", "c.qasm"),
        {"c.qasm": _qasm("opaque magic a;\nqreg q[2];\nmagic q[0];\nh q[1];\n")},
        says="gate 'magic' is opaque",
    ),
    Case(
        "huge register",
        ("run", "c.qasm"),
        {"c.qasm": _qasm("qreg q[1000000000];\nh q[0];\n")},
        says="declares 1000000000 qubits",
    ),
    Case(
        "huge classical register",
        ("plan", "c.qasm"),
        {"c.qasm": _qasm("qreg q[2];\ncreg c[1000000000];\n")},
        says="1000000000 classical bits",
    ),
    Case(
        "malformed OpenQASM 3 names the position",
        ("run", "c.qasm"),
        {"c.qasm": "OPENQASM 3.0;\nqubit[2] q;\nfoo bar baz;\n"},
        says="syntax error at line 3",
    ),
    Case(
        "absolute include",
        ("run", "c.qasm"),
        {"c.qasm": 'OPENQASM 2.0;\ninclude "/etc/passwd";\nqreg q[2];\n'},
        says="include '/etc/passwd' is refused",
        never=("root",),
    ),
    Case(
        "include outside the circuit's directory",
        ("run", "sub/c.qasm"),
        {
            "sub/c.qasm": 'OPENQASM 2.0;\ninclude "../secret.inc";\nqreg q[2];\n',
            "secret.inc": f"{SECRET} q;\n",
        },
        says="is refused",
        never=(SECRET,),
    ),
    Case("shots too many", ("run", "c.qasm", "--shots", "1000000000000"), says="shots"),
    Case("shots as a float", ("run", "c.qasm", "--shots", "1e30"), says="--shots"),
    Case("zero shots", ("run", "c.qasm", "--shots", "0"), says="shots"),
    Case("negative seed", ("run", "c.qasm", "--seed", "-1"), says="seed"),
    Case(
        "circuit too wide for the network",
        ("run", "c.qasm", "--nodes", "1", "--qubits-per-node", "2"),
        says="needs 3 qubits",
    ),
    Case(
        "circuit too wide for a configured ring",
        ("run", "c.qasm", "--config", "net.toml"),
        {"net.toml": RING_OF_TWO},
        says="needs 3 qubits",
    ),
    Case(
        "environment override honoured by run without --config",
        ("run", "c.qasm"),
        env={"QDFRAME_DISTRIBUTED__NUM_NODES": "abc"},
        says="distributed.num_nodes",
    ),
    Case(
        "environment override honoured by plan without --config",
        ("plan", "c.qasm"),
        env={"QDFRAME_DISTRIBUTED__NUM_NODES": "abc"},
        says="distributed.num_nodes",
    ),
    Case(
        "num_nodes beyond a 64-bit integer",
        ("run", "c.qasm", "--config", "big.toml"),
        {"big.toml": "[distributed]\nnum_nodes = 99999999999999999999\n"},
        says="<= 16384",
    ),
    Case(
        "a billion nodes of a billion qubits",
        ("plan", "c.qasm", "--config", "big.toml"),
        {"big.toml": "[distributed]\nnum_nodes = 1000000000\nqubits_per_node = 1000000000\n"},
        says="distributed.qubits_per_node",
    ),
    Case(
        "too many checkpoints",
        ("run", "c.qasm", "--shots", "100000000", "--config", "r.toml"),
        {"r.toml": "[recovery]\ncheckpoint_interval = 1\n"},
        says="checkpoint_interval to at least 1000",
    ),
    Case("unknown option", ("run", "c.qasm", "--bogus"), says="No such option"),
]


def _listing(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QDFRAME_")}
    env.update(extra)
    env["COLUMNS"] = "200"  # so that one message is one line whatever the terminal
    return env


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_a_one_line_usage_error_that_writes_nothing(
    case: Case, tmp_path: Path
) -> None:
    files = {"c.qasm": GOOD, **case.files}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    before = _listing(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", *case.args],
        cwd=tmp_path,
        env=_environment(case.env),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), output
    # One line, or a short list of the invalid keys under one heading.
    assert len(lines) <= 3, output
    message = " ".join(lines)
    assert len(message) < 400, message
    assert case.says in message
    # No empty complaint after a prefix ("...: invalid OpenQASM 3: ").
    assert not message.rstrip().endswith(":")
    for text in case.never:
        assert text not in output
    assert _listing(tmp_path) == before, "a refused request wrote files"


def test_a_file_name_that_is_not_utf8_runs_and_is_shown_escaped(tmp_path: Path) -> None:
    name = os.fsdecode(b"bell-\xff.qasm")
    (tmp_path / name).write_text(GOOD)
    proc = subprocess.run(
        [sys.executable, "-m", "qdframe", "run", name, "--shots", "50", "--seed", "1", "--json"],
        cwd=tmp_path,
        env=_environment({}),
        capture_output=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    import json

    data = json.loads(proc.stdout)
    assert sum(data["counts"].values()) == 50
    assert "bell-" in data["run_id"]


def test_an_include_in_the_circuit_directory_still_works(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mine.inc").write_text("gate flip a { x a; }\n")
    (tmp_path / "c.qasm").write_text(
        _qasm('include "lib/mine.inc";\nqreg q[2];\ncreg c[2];\nflip q[1];\nmeasure q -> c;\n')
    )
    from qdframe.circuits import load_circuit

    circuit = load_circuit(tmp_path / "c.qasm")
    assert circuit.num_qubits == 2
    assert circuit.data[0].operation.name == "flip"
