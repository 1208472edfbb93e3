"""From a QASM file and a TOML configuration to a verified, scheduled distributed program."""

from __future__ import annotations

from pathlib import Path

import pytest

from qdframe.circuits import load_circuit
from qdframe.config import config_from_mapping, load_config
from qdframe.distribute import compile_distributed, count_epr_pairs
from qdframe.families import qft_no_swaps
from qdframe.planning import make_plan
from qdframe.plugins import load_plugins
from qdframe.schedule import schedule
from qdframe.verification import verify

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_qft8_on_a_ring_of_four_from_the_example_files() -> None:
    circuit = load_circuit(EXAMPLES / "qft8.qasm")
    config = load_config(EXAMPLES / "ring4.toml", environ={})
    config.distributed.qubits_per_node = 2  # eight qubits on four nodes: every node is full
    plan = make_plan(circuit, config, plugins=load_plugins(), seed=1, time_budget_s=2.0)
    program = compile_distributed(circuit, plan, config)
    # EPR pairs in the lowered circuit == the plan's ebits (+ any re-opened bursts).
    assert count_epr_pairs(program.to_circuit()) == program.ebits
    assert program.ebits == plan.ebits == plan.planned_ebits + program.split_ebits
    result = verify(circuit, program)
    assert result.verified, result
    timed = schedule(program, config)
    assert timed.makespan_us > 0
    assert 0 < timed.fidelity_estimate <= 1
    assert sum(u.pairs for u in timed.links) == program.ebits
    # Every node shows up with its work.
    assert all(len(program.node_operations(n)) > 0 for n in range(4))


@pytest.mark.parametrize("mode", ["quantum", "hybrid"])
def test_qft10_with_migrations_allowed(mode: str) -> None:
    circuit = qft_no_swaps(10)
    config = config_from_mapping(
        {
            "distributed": {
                "num_nodes": 4,
                "qubits_per_node": 3,
                "network_topology": "ring",
                "communication_mode": mode,
            }
        }
    )
    plan = make_plan(circuit, config, plugins=load_plugins(), seed=2, time_budget_s=2.0)
    program = compile_distributed(circuit, plan, config)
    assert program.ebits == program.plan_ebits + program.split_ebits
    if mode == "quantum":
        assert program.plan_ebits == plan.planned_ebits and program.ebits == plan.ebits
    else:
        assert program.plan_ebits <= plan.planned_ebits
    assert verify(circuit, program).verified
