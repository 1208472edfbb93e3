"""One default network for every command, and sizing from --nodes or --qubits-per-node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qdframe.config import SystemConfig, load_config
from qdframe.errors import CapacityError
from qdframe.sizing import network_size, sized_config

QFT8 = Path(__file__).resolve().parents[1] / "examples" / "qft8.qasm"


def _app() -> object:
    from qdframe.cli.main import app

    return app


def _plan_json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(_app(), ["plan", str(QFT8), "--json", *args])  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    ("nodes", "per_node", "expected"),
    [(None, None, (4, 2)), (3, None, (3, 3)), (None, 3, (3, 3)), (2, 5, (2, 5)), (8, None, (8, 1))],
)
def test_network_size_fills_in_what_is_missing(
    nodes: int | None, per_node: int | None, expected: tuple[int, int]
) -> None:
    assert network_size(8, num_nodes=nodes, qubits_per_node=per_node) == expected


def test_a_size_that_cannot_hold_the_circuit_says_so() -> None:
    with pytest.raises(CapacityError, match=r"needs 8 qubits but 2 node\(s\) x 2 hold only 4"):
        network_size(8, num_nodes=2, qubits_per_node=2)


def test_sized_config_keeps_what_was_set() -> None:
    given = SystemConfig.model_validate(
        {"distributed": {"qubits_per_node": 4, "network_topology": "line", "allocator": "greedy"}}
    )
    sized = sized_config(given, 8)
    assert (sized.distributed.num_nodes, sized.distributed.qubits_per_node) == (2, 4)
    assert sized.distributed.network_topology == "line"
    assert sized.distributed.allocator == "greedy"
    assert sized_config(sized, 8) is sized


def test_an_explicit_size_is_used_as_given() -> None:
    given = load_config(Path(__file__).resolve().parents[1] / "examples" / "torus_1024x64.toml")
    assert sized_config(given, 8).distributed.num_nodes == given.distributed.num_nodes


def test_plan_and_run_share_the_default_network(tmp_path: Path) -> None:
    planned = _plan_json()
    topology = planned["topology"]
    assert isinstance(topology, dict)
    assert (topology["name"], topology["num_nodes"], topology["data_qubits_per_node"]) == (
        "ring",
        4,
        2,
    )
    ran = CliRunner().invoke(
        _app(),  # type: ignore[arg-type]
        [
            "run",
            str(QFT8),
            "--shots",
            "16",
            "--seed",
            "1",
            "--json",
            "--report",
            str(tmp_path / "r"),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["plan"]["topology"]["num_nodes"] == 4


def test_nodes_alone_derives_the_capacity() -> None:
    topology = _plan_json("--nodes", "2")["topology"]
    assert isinstance(topology, dict)
    assert (topology["num_nodes"], topology["data_qubits_per_node"]) == (2, 4)


def test_capacity_is_the_first_problem_named() -> None:
    # 2 nodes cannot form the default torus of the configuration model either;
    # the message must still be about the 8 qubits that do not fit in 4.
    result = CliRunner().invoke(
        _app(),  # type: ignore[arg-type]
        ["plan", str(QFT8), "--nodes", "2", "--qubits-per-node", "2", "--topology", "torus"],
    )
    assert result.exit_code == 2
    assert "needs 8 qubits" in result.output
    assert "torus" not in result.output
