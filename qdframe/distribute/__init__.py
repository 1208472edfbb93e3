"""Distributed compilation: a planned circuit becomes per-node programs.

* :func:`compile_distributed` - circuit + plan + configuration → :class:`DistributedProgram`
  (quantum or hybrid communication mode);
* :func:`lower` - the quantum-mode lowering itself, from an allocation problem
  and an allocation (a Qiskit circuit is optional: without one the program
  covers the gate rows, for planning at scale);
* :class:`DistributedProgram` - per-node operations, EPR pairs on links,
  classical messages; ``to_circuit()`` gives the Qiskit circuit;
* :class:`RouteTable` - which links an EPR pair between two nodes uses;
* :func:`choose_cuts` - the hybrid mode's choice of bursts to cut;
* :func:`run_mode` - runs a circuit through a registered communication mode
  (``classical`` and ``hybrid`` come from the cutting plugin).

See ``docs/distribution.md``.
"""

from __future__ import annotations

from qdframe.distribute.circuit import EPRGate, count_epr_pairs
from qdframe.distribute.compile import compile_distributed
from qdframe.distribute.hybrid import HybridChoice, HybridWeights, choose_cuts
from qdframe.distribute.lower import EbitAccount, ebit_account, lower
from qdframe.distribute.plan import LoweringPlan, PlanLike, plan_from_allocation
from qdframe.distribute.program import (
    DistributedProgram,
    Message,
    NetworkOperation,
    Operation,
    OpKind,
    ProtocolKind,
)
from qdframe.distribute.routing import RouteTable

__all__ = [
    "DistributedProgram",
    "EPRGate",
    "EbitAccount",
    "HybridChoice",
    "HybridWeights",
    "LoweringPlan",
    "Message",
    "NetworkOperation",
    "OpKind",
    "Operation",
    "PlanLike",
    "ProtocolKind",
    "RouteTable",
    "choose_cuts",
    "compile_distributed",
    "count_epr_pairs",
    "ebit_account",
    "lower",
    "plan_from_allocation",
]
