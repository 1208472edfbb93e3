"""Seed features behind keys that once did nothing: spilling to disk, static
versus dynamic allocation, and a limit on the nodes a plan may use."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit, qasm2
from typer.testing import CliRunner

import qdframe as qd
from qdframe.config import config_from_mapping
from qdframe.errors import CapacityError, ResourceError
from qdframe.planning import make_plan
from qdframe.plugins import load_plugins

# Small kernel buffers, so that a 16-qubit state (1 MiB) is most of what a run needs.
_SMALL_BUFFERS = {"chunk_qubits": 10, "threads": 1}
_BUDGET = 256 * 1024


def _spilling_backend(spill_dir: Path) -> Any:
    """A numpy backend whose tiny memory budget makes 16-qubit states spill."""
    return qd.get_backend(
        "numpy",
        max_memory_bytes=_BUDGET,
        spill_to_disk=True,
        spill_dir=str(spill_dir),
        **_SMALL_BUFFERS,
    )


def _entangled(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    for q in range(n):
        circuit.rx(0.3 * (q + 1), q)
    circuit.measure_all()
    return circuit


def _mid_circuit(n: int) -> QuantumCircuit:
    """Mid-circuit measurements, so shots part into groups that wait for their turn."""
    circuit = QuantumCircuit(n, 3)
    circuit.h(range(n))
    circuit.measure(0, 0)
    circuit.cx(0, 1)
    circuit.h(0)
    circuit.measure(1, 1)
    circuit.ry(0.7, 2)
    circuit.measure(2, 2)
    return circuit


# ------------------------------------------------------------ spill to disk


@pytest.mark.parametrize("make", [_entangled, _mid_circuit])
def test_a_state_over_the_memory_budget_spills_to_disk_with_the_same_counts(
    make: Any, tmp_path: Path
) -> None:
    circuit = make(16)
    in_memory = qd.get_backend("numpy", **_SMALL_BUFFERS).run(circuit, shots=300, seed=4).single()
    spilling = _spilling_backend(tmp_path)
    spilled = spilling.run(circuit, shots=300, seed=4).single()
    assert spilled.counts == in_memory.counts
    spill = spilled.metadata["spill"]
    assert spill["bytes"] >= 2**16 * 16 and spill["files"] == 1
    assert Path(spill["dir"]).parent == tmp_path
    # What the process itself holds stays within the budget; the state was on disk.
    assert spilled.metadata["peak_bytes"] <= _BUDGET
    assert list(tmp_path.iterdir()) == []  # the spill folder is gone


def test_without_spilling_the_same_state_is_refused_naming_the_numbers(tmp_path: Path) -> None:
    backend = qd.get_backend("numpy", max_memory_bytes=_BUDGET, **_SMALL_BUFFERS)
    with pytest.raises(ResourceError, match=r"16-qubit complex128 statevector.*262144 bytes"):
        backend.run(_entangled(16), shots=10, seed=1)


def test_a_state_that_fits_in_memory_does_not_spill(tmp_path: Path) -> None:
    backend = qd.get_backend("numpy", spill_to_disk=True, spill_dir=str(tmp_path))
    result = backend.run(_entangled(8), shots=10, seed=1).single()
    assert "spill" not in result.metadata


def test_a_spill_that_does_not_fit_the_disk_is_refused(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    qubits = max(free // 16, 1).bit_length() + 1  # twice the free space or more
    circuit = QuantumCircuit(qubits)
    circuit.h(0)
    circuit.measure_all()
    backend = _spilling_backend(tmp_path)
    with pytest.raises(ResourceError, match=r"on disk to spill but .* free"):
        backend.preflight(circuit)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_spill_dir_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    backend = _spilling_backend(missing)
    with pytest.raises(ResourceError, match=r"nowhere.*is not an existing folder"):
        backend.run(_entangled(16), shots=10, seed=1)


def test_a_spilled_state_is_not_returned_as_an_exact_statevector(tmp_path: Path) -> None:
    circuit = _entangled(16)
    circuit.remove_final_measurements()
    backend = _spilling_backend(tmp_path)
    with pytest.raises(ResourceError, match=r"shots=0 .* kept on disk"):
        backend.run(circuit, shots=0)
    assert list(tmp_path.iterdir()) == []


def test_spilling_raises_the_widest_circuit_the_backend_reports(tmp_path: Path) -> None:
    plain = qd.get_backend("numpy", max_memory_bytes=_BUDGET, **_SMALL_BUFFERS)
    spilling = _spilling_backend(tmp_path)
    assert (
        spilling.capabilities.max_qubits["complex128"]
        > plain.capabilities.max_qubits["complex128"] + 4
    )


def _spill_run(tmp_path: Path, spill: bool) -> Any:
    config = config_from_mapping(
        {
            "distributed": {"num_nodes": 2, "qubits_per_node": 8, "network_topology": "line"},
            "resources": {"executor": "local", "executor_workers": 1},
            "acceleration": {
                "backend": "numpy",
                "backend_options": {"numpy": dict(_SMALL_BUFFERS)},
            },
            "memory": {
                "max_memory_bytes": 1024**2,
                "spill_to_disk": spill,
                "spill_dir": str(tmp_path),
            },
            "recovery": {"max_retries": 0},
        }
    )
    circuit = QuantumCircuit(16)
    circuit.h(0)
    for q in range(15):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    with qd.DistributedSystem(config, plugins=load_plugins()) as system:
        return system.run(circuit, shots=100, seed=2)


def test_memory_spill_to_disk_lets_a_run_over_its_budget_finish(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="may be used"):
        _spill_run(tmp_path, spill=False)
    result = _spill_run(tmp_path, spill=True)
    assert sum(result.counts.values()) == 100
    assert set(result.counts) <= {"0" * 16, "1" * 16}
    assert list(tmp_path.iterdir()) == []


def test_spill_options_are_checked() -> None:
    with pytest.raises(qd.ConfigError, match="spill_to_disk"):
        qd.get_backend("numpy", spill_to_disk="yes")
    with pytest.raises(qd.ConfigError, match="spill_dir"):
        config_from_mapping({"memory": {"spill_dir": ""}})


# ------------------------------------------------------------ static / dynamic


def _phases() -> QuantumCircuit:
    """Pairs that interact first within, then across two halves: moving a qubit pays."""
    qc = QuantumCircuit(4)
    for pairs in (((0, 1), (2, 3)), ((0, 2), (1, 3))):
        for _ in range(5):
            for a, b in pairs:
                qc.cp(0.3, a, b)
                qc.h(a)
                qc.h(b)
    return qc


def _network(**resources: Any) -> Any:
    return config_from_mapping(
        {
            "distributed": {
                "num_nodes": 2,
                "qubits_per_node": 2,
                "network_topology": "all_to_all",
            },
            "resources": resources,
        }
    )


def test_allocation_strategy_static_keeps_every_qubit_on_one_node() -> None:
    plugins = load_plugins()
    dynamic = make_plan(_phases(), _network(allocation_strategy="dynamic"), plugins=plugins)
    static = make_plan(_phases(), _network(allocation_strategy="static"), plugins=plugins)
    assert len(dynamic.cost.teleportations) > 0
    assert len(static.cost.teleportations) == 0 and static.allocation.num_slices == 1
    # The default is dynamic; an explicit argument wins over the key.
    assert len(make_plan(_phases(), _network(), plugins=plugins).cost.teleportations) > 0
    forced = make_plan(
        _phases(), _network(allocation_strategy="dynamic"), plugins=plugins, allow_migration=False
    )
    assert len(forced.cost.teleportations) == 0


def test_allocation_strategy_and_no_migration_agree_on_the_command_line(tmp_path: Path) -> None:
    from qdframe.cli.main import app

    circuit = tmp_path / "phases.qasm"
    circuit.write_text(qasm2.dumps(_phases()))

    def plan(config: str, *extra: str) -> dict[str, Any]:
        path = tmp_path / "c.toml"
        path.write_text(
            '[distributed]\nnum_nodes = 2\nqubits_per_node = 2\nnetwork_topology = "all_to_all"\n'
            + config,
            encoding="utf-8",
        )
        result = CliRunner().invoke(
            app, ["plan", str(circuit), "--config", str(path), "--json", *extra]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    static = plan('[resources]\nallocation_strategy = "static"\n')
    flag = plan("", "--no-migration")
    dynamic = plan('[resources]\nallocation_strategy = "dynamic"\n')
    assert static["cost"] == flag["cost"]
    assert static["cost"]["teleportations"] == 0
    assert dynamic["cost"]["teleportations"] > 0


def test_a_static_run_teleports_nothing() -> None:
    def run(strategy: str) -> Any:
        config = config_from_mapping(
            {
                "distributed": {
                    "num_nodes": 2,
                    "qubits_per_node": 2,
                    "network_topology": "all_to_all",
                },
                "resources": {
                    "executor": "local",
                    "executor_workers": 1,
                    "allocation_strategy": strategy,
                },
            }
        )
        circuit = _phases()
        circuit.measure_all()
        with qd.DistributedSystem(config, plugins=load_plugins()) as system:
            return system.run(circuit, shots=20, seed=0)

    assert run("dynamic").program_summary["teleportations"] > 0
    assert run("static").program_summary["teleportations"] == 0


def test_allocation_strategy_allows_only_static_or_dynamic() -> None:
    with pytest.raises(qd.ConfigError, match=r"static.*dynamic"):
        config_from_mapping({"resources": {"allocation_strategy": "greedy"}})


# ------------------------------------------------------------ max_nodes


def _wide(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    for q in range(n):
        circuit.cx(q, (q + 1) % n)
    return circuit


def _eight(**resources: Any) -> Any:
    return config_from_mapping(
        {
            "distributed": {"num_nodes": 8, "qubits_per_node": 4, "network_topology": "ring"},
            "resources": resources,
        }
    )


def test_max_nodes_limits_the_nodes_a_plan_uses() -> None:
    plugins = load_plugins()
    spread = make_plan(_wide(16), _eight(), plugins=plugins, seed=0)
    limited = make_plan(_wide(16), _eight(max_nodes=4), plugins=plugins, seed=0)
    assert spread.topology.num_nodes == 8
    assert limited.topology.num_nodes == 4
    assert len(set(limited.allocation.assignment.ravel().tolist())) == 4


def test_max_nodes_too_few_for_the_circuit_names_the_numbers() -> None:
    with pytest.raises(
        CapacityError, match=r"needs 20 qubits but the 4 node\(s\).*max_nodes = 4.*16 data qubits"
    ):
        make_plan(_wide(20), _eight(max_nodes=4), plugins=load_plugins(), seed=0)


def test_max_nodes_keeps_a_connected_set_and_maps_back_to_network_ids() -> None:
    from qdframe.resources import ResourceManager
    from qdframe.topology import build_topology

    config = _eight(max_nodes=3)
    topology = build_topology(config, plugins=load_plugins())
    manager = ResourceManager.from_config(config, topology)
    manager.mark_node_down(0)
    available = manager.available_topology()
    assert available.topology.num_nodes == 3
    assert 0 not in available.original
    # On a ring, three connected nodes are consecutive.
    ids = sorted(available.original)
    assert ids[2] - ids[0] == 2


def test_a_run_with_max_nodes_places_qubits_on_that_many_nodes() -> None:
    config = config_from_mapping(
        {
            "distributed": {"num_nodes": 8, "qubits_per_node": 2, "network_topology": "ring"},
            "resources": {"executor": "local", "executor_workers": 1, "max_nodes": 3},
        }
    )
    circuit = _wide(6)
    circuit.measure_all()
    with qd.DistributedSystem(config, plugins=load_plugins()) as system:
        result = system.run(circuit, shots=20, seed=0)
    assert result.plan is not None and result.plan.topology.num_nodes == 3


def test_a_removed_seed_key_names_the_key_that_now_does_what_it_meant() -> None:
    from qdframe.config import RemovedConfigKeyWarning

    with pytest.warns(RemovedConfigKeyWarning, match="'memory.spill_to_disk' does what it meant"):
        config_from_mapping({"memory": {"enable_swapping": True}})
    with pytest.warns(RemovedConfigKeyWarning, match="'resources.max_nodes' does what it meant"):
        config_from_mapping({"resources": {"max_resources": 1024}})


def test_the_spill_folder_is_removed_when_the_run_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qdframe_numpy.engine as engine

    seen: list[list[str]] = []

    def failing_sample(*args: Any, **kwargs: Any) -> Any:
        # Sampling comes after the whole circuit ran on the spilled state.
        seen.append(sorted(p.name for p in tmp_path.rglob("*") if p.is_file()))
        raise OSError("the disk went away")

    monkeypatch.setattr(engine, "sample_indices", failing_sample)
    backend = _spilling_backend(tmp_path)
    with pytest.raises(OSError, match="the disk went away"):
        backend.run(_entangled(16), shots=10, seed=1)
    (during,) = seen
    assert during == ["state-0.bin"]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ load_balancing


def _twelve() -> QuantumCircuit:
    """Twelve qubits, every pair joined by a CP gate: packing saves ebits."""
    circuit = QuantumCircuit(12)
    for a in range(12):
        for b in range(a + 1, 12):
            circuit.cp(0.1 * (a + 1), a, b)
    return circuit


def _roomy(topology: str = "ring", **resources: Any) -> Any:
    """Four nodes of eight data qubits: room to pack twelve qubits on two nodes."""
    return config_from_mapping(
        {
            "distributed": {"num_nodes": 4, "qubits_per_node": 8, "network_topology": topology},
            "resources": resources,
        }
    )


def _counted_load(plan: Any) -> tuple[int, int]:
    """Most qubits and most two-qubit gates on one node, counted gate by gate."""
    allocation = plan.allocation
    qubits = max(
        max(row.count(node) for node in set(row)) for row in allocation.assignment.tolist()
    )
    gates: dict[int, int] = {}
    for g, (a, b) in enumerate(plan.problem.gates.qubits.tolist()):
        if b < 0:
            continue
        t = int(allocation.slice_of_gate(g))
        for node in {allocation.node_of(a, t), allocation.node_of(b, t)}:
            gates[node] = gates.get(node, 0) + 1
    return qubits, max(gates.values())


@pytest.mark.parametrize("topology", ["ring", "all_to_all"])
def test_spread_puts_at_most_an_even_share_on_every_node(topology: str) -> None:
    plugins = load_plugins()
    pack = make_plan(_twelve(), _roomy(topology), plugins=plugins, seed=0)
    spread = make_plan(
        _twelve(), _roomy(topology, load_balancing="spread"), plugins=plugins, seed=0
    )
    pack_qubits, pack_gates = _counted_load(pack)
    spread_qubits, spread_gates = _counted_load(spread)
    assert pack_qubits > 3
    assert spread_qubits <= 3
    assert spread_gates <= pack_gates
    # Packing is what saves ebits; spreading pays for the shorter per-node queue.
    assert spread.ebits > pack.ebits
    assert pack.summary()["load"] == {
        "max_qubits_per_node": pack_qubits,
        "max_gates_per_node": pack_gates,
        "qubit_cap_per_node": None,
    }
    assert spread.summary()["load"] == {
        "max_qubits_per_node": spread_qubits,
        "max_gates_per_node": spread_gates,
        "qubit_cap_per_node": 3,
    }
    # The cap was the allocator's view only: the plan keeps the real network.
    assert spread.topology.data_qubits.tolist() == [8, 8, 8, 8]
    spread.allocation.check(spread.problem)


def test_the_default_is_pack() -> None:
    plugins = load_plugins()
    default = make_plan(_twelve(), _roomy(), plugins=plugins, seed=0)
    pack = make_plan(_twelve(), _roomy(load_balancing="pack"), plugins=plugins, seed=0)
    assert default.allocation.assignment.tolist() == pack.allocation.assignment.tolist()
    assert default.load() == pack.load()


def test_spread_shares_among_the_max_nodes_a_plan_may_use() -> None:
    config = config_from_mapping(
        {
            "distributed": {"num_nodes": 8, "qubits_per_node": 8, "network_topology": "ring"},
            "resources": {"max_nodes": 4, "load_balancing": "spread"},
        }
    )
    plan = make_plan(_twelve(), config, plugins=load_plugins(), seed=0)
    assert plan.topology.num_nodes == 4
    assert plan.load()["qubit_cap_per_node"] == 3
    assert plan.allocation.loads(4).max() == 3


def test_spread_gives_larger_nodes_the_share_smaller_ones_cannot_hold() -> None:
    from qdframe.topology import Topology

    # 12 qubits on nodes of 8, 8, 2 and 2: an even share of 3 leaves 2 qubits
    # without a place, so the cap rises to 4 (4 + 4 + 2 + 2 = 12).
    network = Topology("line", 4, [(0, 1), (1, 2), (2, 3)], data_qubits=[8, 8, 2, 2], comm_qubits=2)
    plugins = load_plugins()
    config = _roomy(load_balancing="spread")
    plan = make_plan(_twelve(), config, plugins=plugins, seed=0, topology=network)
    assert plan.load()["qubit_cap_per_node"] == 4
    assert plan.allocation.loads(4)[0].tolist() == [4, 4, 2, 2]
    pack = make_plan(_twelve(), _roomy(), plugins=plugins, seed=0, topology=network)
    assert pack.allocation.loads(4).max() > 4


def test_load_counts_a_remote_gate_on_both_nodes_and_a_local_one_once() -> None:
    from qdframe.allocation import Allocation

    circuit = QuantumCircuit(4)
    circuit.cp(0.1, 0, 1)  # local to node 0
    circuit.cp(0.2, 1, 2)  # nodes 0 and 1
    circuit.cp(0.3, 2, 3)  # local to node 1
    circuit.cp(0.4, 0, 3)  # nodes 0 and 1
    circuit.cp(0.5, 0, 2)  # nodes 0 and 1
    config = _roomy()
    plan = make_plan(
        circuit, config, plugins=load_plugins(), allocation=Allocation.static([0, 0, 1, 1])
    )
    # Node 0: gates 1, 2, 4, 5; node 1: gates 2, 3, 4, 5.
    assert plan.load() == {
        "max_qubits_per_node": 2,
        "max_gates_per_node": 4,
        "qubit_cap_per_node": None,
    }
    # A given allocation is kept as it is, so spread caps nothing.
    spread = make_plan(
        circuit,
        _roomy(load_balancing="spread"),
        plugins=load_plugins(),
        allocation=Allocation.static([0, 0, 0, 1]),
    )
    assert spread.load()["max_qubits_per_node"] == 3
    assert spread.load()["qubit_cap_per_node"] is None


def test_load_balancing_key_and_flag_agree_on_the_command_line(tmp_path: Path) -> None:
    from qdframe.cli.main import app

    circuit = tmp_path / "twelve.qasm"
    circuit.write_text(qasm2.dumps(_twelve()))
    network = '[distributed]\nnum_nodes = 4\nqubits_per_node = 8\nnetwork_topology = "ring"\n'

    def plan(config: str, *extra: str) -> Any:
        path = tmp_path / "c.toml"
        path.write_text(network + config, encoding="utf-8")
        return CliRunner().invoke(app, ["plan", str(circuit), "--config", str(path), *extra])

    def as_json(config: str, *extra: str) -> dict[str, Any]:
        result = plan(config, "--json", *extra)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    key = as_json('[resources]\nload_balancing = "spread"\n')
    flag = as_json("", "--load-balancing", "spread")
    pack = as_json("")
    assert key["allocation"] == flag["allocation"] and key["load"] == flag["load"]
    assert key["load"]["max_qubits_per_node"] <= 3 < pack["load"]["max_qubits_per_node"]
    # The flag wins over the file.
    over = as_json('[resources]\nload_balancing = "spread"\n', "--load-balancing", "pack")
    assert over["allocation"] == pack["allocation"] and over["load"] == pack["load"]
    text = plan("", "--load-balancing", "spread")
    assert text.exit_code == 0, text.output
    assert "busiest node" in text.stdout and "at most 3 qubits per node" in text.stdout
    bad = plan("", "--load-balancing", "even")
    assert bad.exit_code == 2
    assert "load_balancing" in bad.output and "'pack' or 'spread'" in bad.output


def test_a_spread_run_keeps_every_node_to_its_share() -> None:
    config = config_from_mapping(
        {
            "distributed": {"num_nodes": 4, "qubits_per_node": 4, "network_topology": "ring"},
            "resources": {
                "executor": "local",
                "executor_workers": 1,
                "load_balancing": "spread",
            },
        }
    )
    circuit = QuantumCircuit(8)
    circuit.h(0)
    for q in range(7):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    with qd.DistributedSystem(config, plugins=load_plugins()) as system:
        result = system.run(circuit, shots=50, seed=0)
    assert result.plan is not None
    assert result.plan.load()["max_qubits_per_node"] == 2
    # A GHZ-type state: only all-zeros and all-ones come out.
    assert set(result.counts) <= {"0" * 8, "1" * 8}


def test_load_balancing_allows_only_pack_or_spread() -> None:
    with pytest.raises(qd.ConfigError, match=r"pack.*spread"):
        config_from_mapping({"resources": {"load_balancing": "round_robin"}})


def test_enable_load_balancing_names_the_key_that_now_does_it() -> None:
    from qdframe.config import RemovedConfigKeyWarning

    with pytest.warns(
        RemovedConfigKeyWarning, match="'resources.load_balancing' does what it meant"
    ):
        config = config_from_mapping({"distributed": {"enable_load_balancing": True}})
    assert config.resources.load_balancing == "pack"
