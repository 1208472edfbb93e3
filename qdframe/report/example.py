"""A complete example report, built without running anything.

Useful to see what a report page looks like and to exercise the renderer::

    python -m qdframe.report.example /tmp/example-run
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from qdframe.report.model import (
    CircuitSummary,
    ConfigSummary,
    ExecutionSummary,
    LinkUsage,
    MetricsSummary,
    MitigationSummary,
    PlanSummary,
    ReadoutQubit,
    RecoveryEvent,
    RunReport,
    ScheduleSummary,
    TimelineItem,
    TopologySummary,
    VerificationSummary,
    ZNEEstimate,
)

__all__ = ["example_report"]

_KINDS = ("gate", "gate", "gate", "epr", "swap", "measure")


def example_report(
    *, num_nodes: int = 6, qubits_per_node: int = 2, circuit_name: str = "ghz", seed: int = 0
) -> RunReport:
    """A GHZ circuit spread over a ring, with a plausible plan, schedule and result.

    :param num_nodes: nodes in the ring (the circuit has one qubit per data qubit).
    :param qubits_per_node: data qubits per node.
    :param circuit_name: the circuit's name (shown, escaped, in the page).
    :param seed: seeds the made-up timeline and counts.
    """
    from qiskit import QuantumCircuit

    from qdframe.config import SystemConfig
    from qdframe.topology import Topology

    rng = random.Random(seed)
    width = num_nodes * qubits_per_node
    circuit = QuantumCircuit(width, name=circuit_name)
    circuit.h(0)
    for q in range(width - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    config = SystemConfig.model_validate(
        {
            "distributed": {
                "num_nodes": num_nodes,
                "qubits_per_node": qubits_per_node,
                "network_topology": "ring",
            }
        }
    )
    ring = [(i, (i + 1) % num_nodes) for i in range(num_nodes)] if num_nodes > 1 else []
    topology = Topology("ring", num_nodes, ring, data_qubits=qubits_per_node)
    allocation = [q // qubits_per_node for q in range(width)]
    # One EPR pair per neighbouring pair of nodes of the GHZ chain.
    usage = {(n, n + 1): 1.0 + rng.randint(0, 3) for n in range(num_nodes - 1)}
    timeline: list[TimelineItem] = []
    for node in range(num_nodes):
        t = rng.uniform(0, 20)
        for k in range(rng.randint(3, 8)):
            duration = rng.uniform(5, 40)
            kind = rng.choice(_KINDS)
            timeline.append(
                TimelineItem(node=node, start_us=t, end_us=t + duration, label=f"op{k}", kind=kind)
            )
            t += duration + rng.uniform(0, 15)
    makespan = max(item.end_us for item in timeline)
    busy = {
        n: sum(i.end_us - i.start_us for i in timeline if i.node == n) for n in range(num_nodes)
    }
    shots = 4096
    zeros, ones = "0" * width, "1" * width
    counts = {zeros: 0, ones: 0}
    for _ in range(shots):
        roll = rng.random()
        if roll < 0.47:
            counts[zeros] += 1
        elif roll < 0.94:
            counts[ones] += 1
        else:
            key = "".join(rng.choice("01") for _ in range(width))
            counts[key] = counts.get(key, 0) + 1
    return RunReport(
        run_id=f"example-{seed}",
        circuit=CircuitSummary.from_circuit(circuit),
        config=ConfigSummary.from_config(config),
        plan=PlanSummary(
            allocator="greedy",
            reason="example plan: consecutive qubits on consecutive nodes",
            allocation=allocation,
            ebits=num_nodes - 1,
            swaps=0,
            classical_bits=2 * (num_nodes - 1),
            nonlocal_gates=num_nodes - 1,
            fidelity_estimate=0.95,
        ),
        schedule=ScheduleSummary(
            makespan_us=makespan,
            node_utilisation={n: min(1.0, b / makespan) for n, b in busy.items()},
            link_usage=[
                LinkUsage(u=u, v=v, ebits=int(x), busy_us=x * 10) for (u, v), x in usage.items()
            ],
            timeline=timeline,
        ),
        execution=ExecutionSummary(
            backend="numpy",
            shots=shots,
            seed=seed,
            counts=counts,
            verified=True,
            verification={"distance": 2e-9, "bound": 1e-6},
            proof=VerificationSummary(
                method="exact-state",
                verified=True,
                inputs="all",
                scope="all input states",
                proved="equal as channels on the data qubits for every input state",
                distance=2e-9,
                bound=1e-6,
            ),
            mitigated={zeros: 0.5, ones: 0.5},
            expectation_values={"Z" * width: 0.88},
        ),
        mitigation=MitigationSummary(
            readout=[
                ReadoutQubit(
                    node=allocation[q], qubit=q, prob_meas1_prep0=0.02, prob_meas0_prep1=0.04
                )
                for q in range(width)
            ],
            readout_shots=4096,
            zne=[
                ZNEEstimate(
                    value=0.97,
                    raw_value=0.88,
                    scales=[1, 3, 5],
                    achieved_scales=[1, 3, 5],
                    values=[0.88, 0.71, 0.57],
                    std_errors=[0.01, 0.01, 0.01],
                    method="richardson",
                    folding="global",
                    observable={"Z" * width: 1.0},
                    shots=8192,
                )
            ],
        ),
        metrics=MetricsSummary(
            stage_seconds={"intake": 0.004, "allocate": 0.02, "schedule": 0.01, "execute": 0.4},
            total_seconds=0.434,
            throughput_shots_per_s=shots / 0.4,
            error_rates={"failed_jobs": 0.0},
            recoveries=[
                RecoveryEvent(
                    stage="execute",
                    error="CommunicationError",
                    message="link 0-1 failed",
                    attempt=0,
                    action="reroute",
                    reason="link 0-1 failed; re-routing around it",
                    exclude_links=[(0, 1)],
                )
            ],
        ),
        topology=TopologySummary.from_topology(topology, usage=usage),
        notes=["This is an example report; its numbers are made up."],
    )


def _main(argv: list[str]) -> int:
    from qdframe.report.io import write_report

    target = Path(argv[0]) if argv else Path("example-run")
    json_path, html_path = write_report(target, example_report())
    print(f"wrote {json_path} and {html_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
