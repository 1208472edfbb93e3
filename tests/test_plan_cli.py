"""``qdframe plan`` and :func:`qdframe.planning.make_plan`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from qiskit import QuantumCircuit, qasm2
from typer.testing import CliRunner

from qdframe.allocation import GateArray
from qdframe.cli.plan import register
from qdframe.config import config_from_mapping
from qdframe.errors import CapacityError, RegistryError
from qdframe.families import qft_no_swaps
from qdframe.planning import make_plan
from qdframe.plugins import load_plugins

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """Test root so that ``plan`` stays a sub-command."""

    return app


@pytest.fixture
def qft8(tmp_path: Path) -> Path:
    path = tmp_path / "qft8.qasm"
    path.write_text(qasm2.dumps(qft_no_swaps(8)))
    return path


def _config(**distributed: object):  # type: ignore[no-untyped-def]
    return config_from_mapping({"distributed": distributed})


def test_make_plan_reports_allocation_cost_and_reason() -> None:
    config = _config(num_nodes=2, qubits_per_node=4, network_topology="all_to_all")
    plan = make_plan(qft_no_swaps(8), config, plugins=load_plugins(), seed=0, time_budget_s=2)
    # The QFT on 2 x 4: each high qubit's sweep crosses once -> 4 ebits.
    assert plan.ebits == 4
    assert plan.allocator == "temporal"
    assert "temporal" in plan.reason and "8 qubits" in plan.reason
    assert plan.circuit is not None and set(plan.circuit.count_ops()) <= {"u", "cp"}
    assert plan.cost.bursts is not None and len(plan.cost.bursts) == plan.cost.num_bursts
    # Burst records point at CP instructions of the normalised circuit.
    for burst in plan.cost.bursts:
        for index in burst.instructions:
            assert plan.circuit.data[index].operation.name == "cp"
    assert {"allocate", "cost", "total"} <= set(plan.timings)
    summary = plan.summary()
    assert summary["cost"]["ebits"] == 4 and summary["allocation"]["nodes"]


def test_make_plan_with_a_named_allocator_and_a_gate_array() -> None:
    config = _config(
        num_nodes=4, qubits_per_node=2, network_topology="ring", allocator="sequential"
    )
    gates = GateArray.from_pairs(8, np.array([[0, 7], [1, 2]]))
    plan = make_plan(gates, config, plugins=load_plugins())
    assert plan.circuit is None and plan.allocator == "sequential"
    assert plan.reason == "sequential: set in the configuration"
    # Nodes fill in breadth-first order 0, 1, 3, 2 (two qubits each), so
    # qubit 7 sits on node 2, two hops from qubit 0 on node 0; qubits 1 and 2
    # sit on nodes 0 and 1, one hop apart: 2 + 1 ebits, 1 swap.
    assert plan.allocation.nodes(0).tolist() == [0, 0, 1, 1, 3, 3, 2, 2]
    assert (plan.ebits, plan.cost.swaps) == (3, 1)


def test_make_plan_capacity_error_names_both_numbers() -> None:
    config = _config(num_nodes=2, qubits_per_node=3, network_topology="all_to_all")
    with pytest.raises(CapacityError, match=r"needs 8 qubits.*only 6 data qubits"):
        make_plan(qft_no_swaps(8), config, plugins=load_plugins())


def test_unknown_allocator_is_a_registry_error() -> None:
    config = _config(
        num_nodes=2, qubits_per_node=4, network_topology="all_to_all", allocator="magic"
    )
    with pytest.raises(RegistryError, match="unknown allocator 'magic'"):
        make_plan(qft_no_swaps(8), config, plugins=load_plugins())


def test_cli_json_output(qft8: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        [
            "plan",
            str(qft8),
            "--nodes",
            "2",
            "--qubits-per-node",
            "4",
            "--topology",
            "all_to_all",
            "--allocator",
            "fm",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["allocator"] == "fm"
    assert data["cost"]["ebits"] == 4
    assert data["circuit"] == {
        "name": "qft8",
        "qubits": 8,
        "two_qubit_gates": 28,
        "burst_breaking_gates": 8,
    }
    assert sorted(data["allocation"]["nodes"]) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert data["topology"]["num_nodes"] == 2


def test_cli_text_output_with_a_config_file(qft8: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["plan", str(qft8), "--config", str(EXAMPLES / "ring4.toml")]
    )
    assert result.exit_code == 0, result.output
    for word in ("ebits", "swaps", "classical bits", "allocator", "ring"):
        assert word in result.output
    assert "why" not in result.output
    explained = CliRunner().invoke(
        _app(), ["plan", str(qft8), "--config", str(EXAMPLES / "ring4.toml"), "--explain"]
    )
    assert explained.exit_code == 0, explained.output
    assert "why" in explained.output


def test_cli_capacity_error_exits_2(qft8: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["plan", str(qft8), "--nodes", "2", "--qubits-per-node", "3", "--topology", "line"],
    )
    assert result.exit_code == 2
    assert "needs 8 qubits" in result.output and "6 data qubits" in result.output


def test_cli_bad_topology_size_exits_2(qft8: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["plan", str(qft8), "--nodes", "7", "--qubits-per-node", "4", "--topology", "torus"],
    )
    assert result.exit_code == 2
    assert "cannot form a 2D torus" in result.output


def test_cli_missing_circuit_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["plan", str(tmp_path / "none.qasm")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_cli_no_migration_keeps_a_static_allocation(tmp_path: Path) -> None:
    qc = QuantumCircuit(4)
    for _ in range(5):
        for a, b in ((0, 1), (2, 3)):
            qc.cp(0.3, a, b)
            qc.h(a)
            qc.h(b)
    for _ in range(5):
        for a, b in ((0, 2), (1, 3)):
            qc.cp(0.3, a, b)
            qc.h(a)
            qc.h(b)
    path = tmp_path / "phases.qasm"
    path.write_text(qasm2.dumps(qc))
    args = [
        "plan",
        str(path),
        "--nodes",
        "2",
        "--qubits-per-node",
        "2",
        "--topology",
        "all_to_all",
        "--json",
    ]
    moving = json.loads(CliRunner().invoke(_app(), args).stdout)
    fixed = json.loads(CliRunner().invoke(_app(), [*args, "--no-migration"]).stdout)
    assert moving["cost"]["teleportations"] > 0
    assert fixed["cost"]["teleportations"] == 0
    assert moving["cost"]["ebits"] < fixed["cost"]["ebits"]


def test_plan_ebits_are_what_the_lowered_program_consumes(tmp_path: Path) -> None:
    from qdframe.distribute import lower
    from qdframe.families import family_circuit

    circuit = family_circuit("cp_fraction", 32, seed=0)
    config = _config(
        num_nodes=2, qubits_per_node=16, network_topology="all_to_all", comm_qubits_per_node=2
    )
    plan = make_plan(circuit, config, plugins=load_plugins(), seed=0, time_budget_s=2)
    program = lower(plan.problem, plan.allocation, cost=plan.cost)
    # Two communication qubits per node re-open bursts: the plan counts them.
    assert plan.ebits == program.ebits == plan.planned_ebits + plan.split_ebits
    assert plan.split_ebits > 0 and plan.comm_splits == program.comm_splits
    text = plan.ebits_text()
    assert f"{plan.planned_ebits} planned + {plan.split_ebits}" in text and str(plan.ebits) in text
    summary = plan.summary()
    assert summary["ebits"] == {
        "planned": plan.planned_ebits,
        "split": plan.split_ebits,
        "comm_splits": plan.comm_splits,
        "consumed": program.ebits,
    }
    assert summary["lowering_problem"] == ""

    path = tmp_path / "cpf32.qasm"
    path.write_text(qasm2.dumps(circuit))
    result = CliRunner().invoke(
        _app(),
        [
            *("plan", str(path), "--nodes", "2", "--qubits-per-node", "16"),
            *("--topology", "all_to_all", "--comm-qubits", "2", "--seed", "0"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ebits consumed" in result.output and "consumed" in result.output


def test_plan_warns_when_its_program_cannot_be_built() -> None:
    from qdframe.families import family_circuit

    # Full nodes with one communication qubit: teleportations between them
    # wait on each other, which only lowering finds.
    config = _config(
        num_nodes=2, qubits_per_node=6, network_topology="all_to_all", comm_qubits_per_node=1
    )
    plan = make_plan(
        family_circuit("qv", 12), config, plugins=load_plugins(), seed=0, time_budget_s=2
    )
    assert "communication qubit" in plan.lowering_problem
    assert plan.summary()["lowering_problem"] == plan.lowering_problem
    # A roomier network lowers the same circuit.
    roomy = _config(
        num_nodes=2, qubits_per_node=6, network_topology="all_to_all", comm_qubits_per_node=2
    )
    assert (
        make_plan(family_circuit("qv", 12), roomy, plugins=load_plugins(), seed=0).lowering_problem
        == ""
    )


def test_a_run_counts_split_ebits_from_the_program_it_lowers() -> None:
    import qdframe as qd
    from qdframe.families import family_circuit

    circuit = family_circuit("cp_fraction", 8, seed=1)
    circuit.measure_all()
    config = _config(
        num_nodes=2, qubits_per_node=4, network_topology="all_to_all", comm_qubits_per_node=1
    )
    planned = make_plan(circuit, config, plugins=load_plugins(), seed=0)
    assert planned.split_ebits > 0  # one communication qubit re-opens a burst
    with qd.DistributedSystem(config, plugins=load_plugins()) as system:
        result = system.run(circuit, shots=64, seed=0)
    plan, program = result.plan, result.program_summary
    assert plan is not None
    # The allocate stage did not lower the plan a second time ...
    assert "ebit_account" not in plan.timings
    # ... and the plan still reports what the program consumes.
    assert plan.split_ebits == program["split_ebits"] == planned.split_ebits
    assert plan.ebits == program["ebits"] == plan.planned_ebits + plan.split_ebits
