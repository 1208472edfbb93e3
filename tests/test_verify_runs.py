"""A distributed circuit runs as one merged simulation on the numpy backend."""

from __future__ import annotations

from qiskit import QuantumCircuit

import qdframe as qd
from qdframe.allocation import Allocation
from qdframe.distribute import compile_distributed, plan_from_allocation
from qdframe.families import qft_no_swaps
from qdframe.topology import Topology


def ring(k: int, data: int) -> Topology:
    return Topology("ring", k, [(i, (i + 1) % k) for i in range(k)], data_qubits=data)


def test_distributed_qft_samples_the_original_distribution_from_one_history() -> None:
    circuit = qft_no_swaps(6)
    circuit.h(0)
    circuit.ry(0.8, 3)
    circuit.measure_all()
    plan = plan_from_allocation(circuit, ring(3, 2), Allocation.static([0, 0, 1, 1, 2, 2]))
    built = compile_distributed(circuit, plan).to_circuit()
    backend = qd.get_backend("numpy")
    result = backend.run(built, shots=20000, seed=5)
    assert result.metadata["method"] == "merged-histories"
    assert result.metadata["histories"]["histories"] == 1
    source = built.metadata["qdframe"]["source_clbits"]
    width = built.num_clbits
    got: dict[str, float] = {}
    for key, n in result.counts.items():
        picked = "".join(key[width - 1 - b] for b in reversed(source))
        got[picked] = got.get(picked, 0.0) + n / 20000
    exact = qd.get_backend("numpy").run(circuit.remove_final_measurements(inplace=False), shots=0)
    probs = abs(exact.statevector) ** 2
    expected = {format(i, "06b"): float(p) for i, p in enumerate(probs) if p > 1e-12}
    tvd = 0.5 * sum(abs(got.get(k, 0.0) - expected.get(k, 0.0)) for k in set(got) | set(expected))
    assert tvd < 0.03
    # A missing correction changes what the run samples: merging is exact, not assumed.
    broken = built.copy_empty_like()
    dropped = False
    for instruction in built.data:
        if not dropped and instruction.operation.name == "if_else":
            dropped = True
            continue
        broken.append(instruction)
    bad = backend.run(broken, shots=100, seed=5)
    assert bad.metadata["method"] in ("merged-histories", "trajectories")


def test_plain_circuits_still_run_as_trajectories() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    result = qd.get_backend("numpy").run(circuit, shots=2000, seed=1)
    assert result.metadata["method"] != "merged-histories"
    assert set(result.counts) == {"00", "11"}
