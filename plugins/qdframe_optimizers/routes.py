"""Route choice: the entanglement-swapping path of each node pair.

An EPR pair between nodes ``h`` hops apart is built from one raw pair per
link of its path. Among the candidate paths (every fewest-hops path, and
with ``max_extra_hops > 0`` paths up to that many hops longer) the pass
keeps the one with the best *fidelity-latency product*

    F(path) * exp(-L(path) / T2)

where ``F`` is the Werner-composed fidelity of the path's links and ``L``
the time to deliver the pair (slowest link's generation time plus the
classical latency of the path, as :meth:`qdframe.topology.Topology.pair_cost`
defines it): the fidelity of the pair once it has waited ``L`` in a memory
with dephasing time ``T2``. On a network of identical links every
fewest-hops path scores the same and nothing changes; longer paths cost
extra ebits, which the report states.

The subject is a :class:`qdframe.distribute.RouteTable`; its ``demands``
(from :meth:`RouteTable.for_plan`) say which node pairs matter and how
often, and weight the reported averages.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, ClassVar

from qdframe.plugin import ConfigError, RouteTable, TimingModel, werner_fidelity
from qdframe_optimizers.report import OptimizationReport

if TYPE_CHECKING:
    from qdframe.plugin import RunContext, Topology

__all__ = ["RouteChoiceOptimizer", "path_score"]


def path_score(
    topology: Topology, path: tuple[int, ...], t2_us: float
) -> tuple[float, float, float]:
    """``(score, fidelity, latency_us)`` of a node path."""
    links = [topology.link(u, v) for u, v in itertools.pairwise(path)]
    fidelity = werner_fidelity(s.epr_fidelity for s in links)
    latency = max((1e6 / s.epr_rate_hz for s in links), default=0.0) + sum(
        s.latency_us for s in links
    )
    return fidelity * math.exp(-latency / t2_us), fidelity, latency


class RouteChoiceOptimizer:
    """Picks the best-scoring path per node pair (see the module docstring).

    :param max_extra_hops: how much longer than the fewest hops a path may be.
    :param candidates: most paths compared per node pair.
    :param t2_us: memory dephasing time; the configuration's timing when omitted.
    """

    name: ClassVar[str] = "route_choice"
    stage: ClassVar[str] = "lower"

    def __init__(
        self, max_extra_hops: int = 0, candidates: int = 64, t2_us: float | None = None
    ) -> None:
        if max_extra_hops < 0 or candidates < 1:
            raise ConfigError(
                f"max_extra_hops must be >= 0 and candidates >= 1, got {max_extra_hops}, "
                f"{candidates}"
            )
        if t2_us is not None and t2_us <= 0:
            raise ConfigError(f"t2_us must be > 0, got {t2_us}")
        self.max_extra_hops = max_extra_hops
        self.candidates = candidates
        self.t2_us = t2_us

    def _candidates(self, table: RouteTable, a: int, b: int) -> list[tuple[int, ...]]:
        paths = table.all_shortest_paths(a, b, limit=self.candidates)
        if self.max_extra_hops:
            import networkx as nx

            hops = table.topology.hop_distance(a, b)
            graph = table.topology.to_networkx()
            for path in nx.all_simple_paths(graph, a, b, cutoff=hops + self.max_extra_hops):
                if len(paths) >= self.candidates:
                    break
                candidate = tuple(int(x) for x in path)
                swap_ok = all(table.comm_qubits[x] >= 2 for x in candidate[1:-1])
                if swap_ok and candidate not in paths:
                    paths.append(candidate)
        return paths

    def optimize(
        self, subject: RouteTable, context: RunContext | None = None
    ) -> tuple[RouteTable, OptimizationReport]:
        if not isinstance(subject, RouteTable):
            raise ConfigError(f"route_choice optimizes a RouteTable, got {type(subject).__name__}")
        t2 = self.t2_us
        if t2 is None:
            config = context.config if context is not None else None
            t2 = TimingModel.from_config(config).default.t2_us
        table = subject.copy()
        topology = table.topology
        demands = table.demands or {
            (a, b): 1 for a in range(topology.num_nodes) for b in range(a + 1, topology.num_nodes)
        }
        totals = {"weight": 0.0, "f0": 0.0, "f1": 0.0, "l0": 0.0, "l1": 0.0, "h0": 0.0, "h1": 0.0}
        changed = 0
        for (a, b), weight in sorted(demands.items()):
            if a == b:
                continue
            current = table.path(a, b)
            base_score, base_f, base_l = path_score(topology, current, t2)
            best, best_score, best_f, best_l = current, base_score, base_f, base_l
            for path in self._candidates(table, a, b):
                score, fidelity, latency = path_score(topology, path, t2)
                if score > best_score * (1 + 1e-12):
                    best, best_score, best_f, best_l = path, score, fidelity, latency
            if best != current:
                table.set(a, b, best)
                changed += 1
            totals["weight"] += weight
            totals["f0"] += weight * base_f
            totals["f1"] += weight * best_f
            totals["l0"] += weight * base_l
            totals["l1"] += weight * best_l
            totals["h0"] += weight * (len(current) - 1)
            totals["h1"] += weight * (len(best) - 1)
        w = max(totals["weight"], 1.0)
        before = {
            "mean_pair_infidelity": 1 - totals["f0"] / w,
            "mean_pair_latency_us": totals["l0"] / w,
            "ebits": totals["h0"],
        }
        after = {
            "mean_pair_infidelity": 1 - totals["f1"] / w,
            "mean_pair_latency_us": totals["l1"] / w,
            "ebits": totals["h1"],
        }
        report = OptimizationReport.compare(
            self.name, before, after, routes_changed=changed, pairs=len(demands), t2_us=t2
        )
        return table, report
