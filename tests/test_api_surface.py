"""Python API edges: short reprs, load_config overrides, DistributedSystem in dir(qdframe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from qiskit import QuantumCircuit

import qdframe as qd

RING4 = Path(__file__).resolve().parents[1] / "examples" / "ring4.toml"


def _ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n, name="ghz")
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def test_distributed_system_is_listed() -> None:
    assert "DistributedSystem" in dir(qd)
    assert "RunResult" in dir(qd)


def test_plan_and_result_print_short() -> None:
    with qd.DistributedSystem() as system:
        plan = system.plan(_ghz(4))
        result = system.run(_ghz(4), shots=20, seed=3)
    text = repr(plan)
    assert text.startswith("Plan('ghz': 4 qubits on 4 nodes (ring)")
    assert f"ebits={plan.ebits}" in text
    assert len(text) < 200 and "array" not in text
    assert str(plan) == text
    assert "<table>" in plan._repr_html_()
    shown = repr(result)
    assert "backend='numpy'" in shown and "seed=3" in shown and "shots=20" in shown
    assert len(shown) < 300
    html = result._repr_html_()
    assert html.startswith("<table>") and "<th style='text-align:left'>seed</th><td>3</td>" in html
    assert f"ebits</th><td>{plan.ebits}" in html
    assert len(html) < 2000 and "array" not in html


def test_a_wide_result_prints_short() -> None:
    from qdframe.stages.result import RunResult

    counts = {format(i, "030b"): 1 for i in range(5000)}
    result = RunResult("r", counts, shots=5000, seed=366_012_345, backend="numpy")
    text = repr(result)
    assert len(text) < 300 and "+4996 more" in text and "seed=366012345" in text
    assert "+4992 more outcomes" in result._repr_html_()


def test_load_config_overrides_win_over_the_file() -> None:
    config = qd.load_config(
        RING4, distributed__num_nodes=8, communication={"latency_us": 5.0}, environ={}
    )
    assert config.distributed.num_nodes == 8
    assert config.distributed.qubits_per_node == 4  # from the file
    assert config.communication.latency_us == 5.0


def test_load_config_overrides_win_over_the_environment() -> None:
    env = {"QDFRAME_DISTRIBUTED__NUM_NODES": "16"}
    assert qd.load_config(None, environ=env).distributed.num_nodes == 16
    assert qd.load_config(None, environ=env, distributed__num_nodes=2).distributed.num_nodes == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nope": 1}, "unknown override 'nope'"),
        ({"distributed": 3}, "must be a mapping"),
        ({"distributed__num_nodes": 0}, "num_nodes"),
    ],
)
def test_bad_overrides_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(qd.ConfigError, match=message):
        qd.load_config(None, environ={}, **kwargs)


def test_a_program_prints_as_one_short_line() -> None:
    from qdframe.config import config_from_mapping
    from qdframe.distribute import compile_distributed
    from qdframe.families import qft_no_swaps
    from qdframe.planning import make_plan
    from qdframe.plugins import load_plugins

    config = config_from_mapping(
        {"distributed": {"num_nodes": 2, "qubits_per_node": 3, "network_topology": "ring"}}
    )
    circuit = qft_no_swaps(6)
    program = compile_distributed(
        circuit, make_plan(circuit, config, plugins=load_plugins()), config
    )
    text = repr(program)
    assert "\n" not in text and len(text) < 200
    assert f"ebits={program.ebits}" in text and program.ebits > 0
    assert f"swaps={program.swaps}" in text
