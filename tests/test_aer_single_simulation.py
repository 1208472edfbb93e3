"""The Aer backend runs a distributed circuit once and draws every shot from it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qdframe_aer import plugin as aer_plugin
from qdframe_aer.deferred import deferred_form
from qdframe_aer.single import single_simulation
from qdframe_topologies import build_ring, build_torus
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from scipy.stats import chi2_contingency

import qdframe as qd
from qdframe.allocation import Allocation
from qdframe.backend import MemoryBudget
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.plugins import LoadedPlugins
from qdframe.topology import Topology

SHOTS = 4000


@pytest.fixture(scope="module")
def plugins() -> LoadedPlugins:
    return qd.load_plugins(autoload=False, plugins=[("aer", aer_plugin)])


def _source(n: int) -> QuantumCircuit:
    """Rotated inputs, so that every CP gate of the QFT changes the distribution."""
    circuit = QuantumCircuit(n, name=f"rqft{n}")
    rng = np.random.default_rng(5)
    for q in range(n):
        circuit.ry(float(rng.uniform(0.3, 2.8)), q)
    circuit.compose(qft_no_swaps(n), inplace=True)
    circuit.measure_all()
    return circuit


def _distributed(source: QuantumCircuit, topology: Topology) -> QuantumCircuit:
    n, k = source.num_qubits, topology.num_nodes
    plan = plan_from_allocation(source, topology, Allocation.static([i * k // n for i in range(n)]))
    return compile_distributed(source, plan).to_circuit()


def _source_counts(counts: dict[str, int], built: QuantumCircuit) -> dict[str, int]:
    clbits = built.metadata["qdframe"]["source_clbits"]
    out: dict[str, int] = {}
    for key, value in counts.items():
        bits = "".join(key[len(key) - 1 - b] for b in reversed(clbits))
        out[bits] = out.get(bits, 0) + value
    return out


def _p_value(a: dict[str, int], b: dict[str, int]) -> float:
    """Two-sample chi-square; outcomes seen fewer than 10 times in all are pooled."""
    keys = sorted(set(a) | set(b))
    big = [k for k in keys if a.get(k, 0) + b.get(k, 0) >= 10]
    small = [k for k in keys if k not in big]
    rows = [[a.get(k, 0) for k in big], [b.get(k, 0) for k in big]]
    if small:
        rows[0].append(sum(a.get(k, 0) for k in small))
        rows[1].append(sum(b.get(k, 0) for k in small))
    return float(chi2_contingency(np.array(rows))[1])


def _without_first_x_correction(built: QuantumCircuit) -> QuantumCircuit:
    mutant = built.copy_empty_like()
    removed = False
    for instruction in built.data:
        operation = instruction.operation
        if (
            not removed
            and operation.name == "if_else"
            and operation.blocks[0].data[0].operation.name == "x"
        ):
            removed = True
            continue
        mutant.append(instruction)
    assert removed
    return mutant


@pytest.mark.parametrize(
    ("topology", "n"),
    [(build_ring(4, qubits_per_node=2), 8), (build_torus(6, qubits_per_node=1), 6)],
    ids=["ring-4x2", "torus-2x3"],
)
def test_distributed_run_matches_aer_on_the_original(
    plugins: LoadedPlugins, topology: Topology, n: int
) -> None:
    source = _source(n)
    built = _distributed(source, topology)
    assert any(i.operation.name == "if_else" for i in built.data)
    result = qd.get_backend("aer", plugins=plugins).run(built, shots=SHOTS, seed=7)
    assert result.metadata["sampler"] == "single-simulation"
    # Idle communication qubits share wires: fewer qubits than the program has.
    assert result.metadata["single_simulation"]["width"] < built.num_qubits
    assert result.metadata["single_simulation"]["resets_checked"] > 0
    assert sum(result.counts.values()) == SHOTS
    reference = AerSimulator().run(source, shots=SHOTS, seed_simulator=8).result().get_counts()
    reference = {k.replace(" ", ""): v for k, v in reference.items()}
    assert _p_value(_source_counts(result.counts, built), reference) > 1e-4


def test_a_missing_correction_is_caught_and_runs_shot_by_shot(plugins: LoadedPlugins) -> None:
    source = _source(4)
    built = _distributed(source, build_ring(4, qubits_per_node=1))
    mutant = _without_first_x_correction(built)
    backend = qd.get_backend("aer", plugins=plugins)
    result = backend.run(mutant, shots=SHOTS, seed=7)
    assert result.metadata["sampler"] == "per-shot"
    assert "entangled" in result.metadata["single_simulation_refused"]
    reference = AerSimulator().run(source, shots=SHOTS, seed_simulator=8).result().get_counts()
    reference = {k.replace(" ", ""): v for k, v in reference.items()}
    # The shot-by-shot counts are the mutant's, which differ from the original's.
    assert _p_value(_source_counts(result.counts, mutant), reference) < 1e-6
    correct = backend.run(built, shots=SHOTS, seed=7)
    assert _p_value(_source_counts(correct.counts, built), reference) > 1e-4


def test_memory_lists_each_shot_in_agreement_with_counts(plugins: LoadedPlugins) -> None:
    built = _distributed(_source(4), build_ring(4, qubits_per_node=1))
    result = qd.get_backend("aer", plugins=plugins).run(built, shots=50, seed=2, memory=True)
    assert result.memory is not None and len(result.memory) == 50
    tally: dict[str, int] = {}
    for key in result.memory:
        tally[key] = tally.get(key, 0) + 1
    assert tally == result.counts
    again = qd.get_backend("aer", plugins=plugins).run(built, shots=50, seed=2, memory=True)
    assert again.memory == result.memory


def test_a_mid_circuit_measurement_of_the_source_runs_shot_by_shot() -> None:
    source = QuantumCircuit(4, 5)
    source.h(0)
    source.measure(0, 4)
    source.cx(0, 3)
    source.measure(range(4), range(4))
    built = _distributed(source, build_ring(4, qubits_per_node=1))
    assert deferred_form(built) == "the source circuit measures mid-circuit"


def test_a_plain_circuit_is_not_rewritten(plugins: LoadedPlugins) -> None:
    source = _source(3)
    assert deferred_form(source) == "not a distributed circuit"
    result = qd.get_backend("aer", plugins=plugins).run(source, shots=10, seed=1)
    assert result.metadata["sampler"] == "per-shot"
    assert result.metadata["single_simulation_refused"] == "not a distributed circuit"


def test_over_the_memory_budget_the_single_simulation_is_refused() -> None:
    built = _distributed(_source(4), build_ring(4, qubits_per_node=1))
    outcome = single_simulation(
        built,
        shots=10,
        seed=1,
        memory=False,
        prepare=lambda c: c,
        execute=lambda c, o: pytest.fail("must not run"),
        budget=MemoryBudget(1000, "max_memory_bytes=1000"),
        precision="complex128",
        backend="aer",
        run_options={},
    )
    assert isinstance(outcome, str)
    assert outcome.startswith("refused for memory")
    assert "max_memory_bytes=1000" in outcome
