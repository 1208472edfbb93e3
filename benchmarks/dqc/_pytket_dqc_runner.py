"""Run pytket-dqc's distributors on circuits sent as JSON (a helper of quality.py).

Runs under the Python of an environment that has pytket-dqc and its
dependencies (pytket, kahypar, hypernetx, ...), which need not be the one
qdframe runs in; it imports nothing from qdframe. Reads one JSON document on
stdin::

    {"cases": [{"id": str, "num_qubits": n,
                "gates": [["u", q, theta, phi, lam] | ["cp", a, b, theta], ...],
                "servers": [[qubit ids of server 0], ...],
                "coupling": [[s, t], ...],
                "distributors": [name, ...], "seeds": [0, 1, 2]}]}

and prints one JSON object per (case, distributor, seed) on stdout:
``{"id", "distributor", "seed", "ebits", "seconds", "cpu_seconds"}``, or with
``"error"`` instead of ``"ebits"`` when the distributor failed.

KaHyPar rejects vertices of weight 0 (pytket-dqc issue #98), which
pytket-dqc gives to gate vertices. The partitioner module is handed a thin
proxy of ``kahypar`` that gives a gate weight 1 and a qubit ``gates + 1``,
and scales the block capacities to match (``capacity * (gates + 1) +
gates``), so the qubits still fit exactly while the gates go anywhere.
"""

from __future__ import annotations

import json
import math
import sys
import time
import types
from typing import Any

import kahypar  # type: ignore[import-not-found]

DISTRIBUTORS = (
    "PartitioningAnnealing",
    "PartitioningHeterogeneous",
    "PartitioningHeterogeneousEmbedding",
    "CoverEmbedding",
    "CoverEmbeddingSteiner",
    "CoverEmbeddingSteinerDetached",
)


class _WeightedKahypar(types.ModuleType):
    """``kahypar`` with positive vertex weights (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("kahypar")
        self._gates = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(kahypar, name)

    def Hypergraph(self, *args: Any) -> Any:
        if len(args) == 7:
            nodes, edges, index, pins, k, edge_weights, weights = args
            self._gates = sum(1 for w in weights if w == 0)
            scaled = [1 if w == 0 else w * (self._gates + 1) for w in weights]
            return kahypar.Hypergraph(nodes, edges, index, pins, k, edge_weights, scaled)
        self._gates = 0
        return kahypar.Hypergraph(*args)

    def Context(self) -> Any:
        return _ScaledContext(kahypar.Context(), self)


class _ScaledContext:
    def __init__(self, context: Any, owner: _WeightedKahypar) -> None:
        self._context = context
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def setCustomTargetBlockWeights(self, sizes: list[int]) -> None:
        g = self._owner._gates
        self._context.setCustomTargetBlockWeights([s * (g + 1) + g for s in sizes])


def _install_weight_fix() -> None:
    from pytket_dqc.allocators import hypergraph_partitioning

    proxy = _WeightedKahypar()
    real_partition = kahypar.partition

    def partition(hypergraph: Any, context: Any) -> Any:
        inner = context._context if isinstance(context, _ScaledContext) else context
        return real_partition(hypergraph, inner)

    proxy.partition = partition  # type: ignore[attr-defined]
    hypergraph_partitioning.kahypar = proxy  # type: ignore[attr-defined]


def _circuit(num_qubits: int, gates: list[list[Any]]) -> Any:
    from pytket import Circuit  # type: ignore[import-not-found]
    from pytket_dqc.utils import DQCPass  # type: ignore[import-not-found]

    circ = Circuit(num_qubits)
    for gate in gates:
        if gate[0] == "u":
            _, q, theta, phi, lam = gate
            circ.U3(theta / math.pi, phi / math.pi, lam / math.pi, int(q))
        elif gate[0] == "cp":
            _, a, b, theta = gate
            circ.CU1(theta / math.pi, int(a), int(b))
        else:
            raise ValueError(f"unknown gate {gate[0]!r}; the runner takes 'u' and 'cp'")
    DQCPass().apply(circ)
    return circ


def _run(case: dict[str, Any]) -> None:
    import pytket_dqc.distributors as distributors  # type: ignore[import-not-found]
    from pytket_dqc.networks import NISQNetwork  # type: ignore[import-not-found]

    servers = {i: list(qubits) for i, qubits in enumerate(case["servers"])}
    network = NISQNetwork([list(edge) for edge in case["coupling"]], servers)
    circ = _circuit(int(case["num_qubits"]), case["gates"])
    for name in case["distributors"]:
        for seed in case["seeds"]:
            row: dict[str, Any] = {"id": case["id"], "distributor": name, "seed": seed}
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                distribution = getattr(distributors, name)().distribute(
                    circ.copy(), network, seed=int(seed)
                )
                row["ebits"] = int(distribution.cost())
            except Exception as exc:  # report and go on with the next one
                row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            row["seconds"] = round(time.perf_counter() - wall, 3)
            row["cpu_seconds"] = round(time.process_time() - cpu, 3)
            print(json.dumps(row), flush=True)


def main() -> int:
    request = json.load(sys.stdin)
    _install_weight_fix()
    for case in request["cases"]:
        _run(case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
