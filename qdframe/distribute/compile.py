"""``compile_distributed``: a circuit and its plan in, a distributed program out.

The communication mode comes from ``[distributed] communication_mode``:

* ``quantum`` - every remote burst is a cat-entanglement, every migration a
  teleportation (:func:`qdframe.distribute.lower.lower`);
* ``hybrid`` - each burst is either cat-entangled or cut, by the weighted
  cost of :mod:`qdframe.distribute.hybrid`; cut gates appear as ``CUT``
  operations and the program's ``sampling_overhead`` says what they cost;
* ``classical`` - the whole circuit is cut (no EPR pairs at all); this does
  not produce a program of EPR protocols, so it is run through the
  ``classical`` communication mode (:func:`qdframe.distribute.modes.run_mode`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qdframe.config import CommunicationMode, SystemConfig
from qdframe.distribute.hybrid import HybridWeights, choose_cuts
from qdframe.distribute.lower import lower
from qdframe.distribute.plan import PlanLike, matching_circuit, plan_cost
from qdframe.errors import DistributionError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qdframe.distribute.program import DistributedProgram
    from qdframe.distribute.routing import RouteTable

__all__ = ["compile_distributed"]


def compile_distributed(
    circuit: QuantumCircuit | None,
    plan: PlanLike,
    config: SystemConfig | None = None,
    *,
    routes: RouteTable | None = None,
    hoist: bool = True,
    hybrid: HybridWeights | None = None,
) -> DistributedProgram:
    """Lower ``circuit`` as ``plan`` places it, in the configured communication mode.

    :param circuit: the circuit (as given, or normalised as the plan has it);
        ``None`` lowers the plan's own circuit, or only its gate rows when the
        plan was made from a gate array (no Qiskit circuit then).
    :param plan: anything with ``problem`` and ``allocation`` (and optionally
        ``cost`` and ``circuit``), e.g. the planner's ``Plan``.
    :param config: the system configuration (defaults when omitted).
        Communication qubits per node come from the plan's topology, which
        the planner builds from ``[distributed] comm_qubits_per_node``.
    :param routes: EPR routes (e.g. from the ``route_choice`` optimizer).
    :param hoist: group burst gates to shorten bursts (see ``lower``).
    :param hybrid: weights of the hybrid cost; from the configuration when omitted.
    :raises DistributionError: the plan does not match the circuit, or the
        mode is ``classical``.
    :raises ResourceError: a node lacks the communication qubits a protocol needs.
    """
    config = config if config is not None else SystemConfig()
    mode = config.distributed.communication_mode
    if mode is CommunicationMode.CLASSICAL:
        raise DistributionError(
            "communication_mode 'classical' cuts the circuit instead of lowering it to EPR "
            "protocols; run it with qdframe.distribute.run_mode('classical', ...) (needs the "
            "cutting extra: pip install 'qdframe[cutting]')"
        )
    source = (
        matching_circuit(circuit, plan) if circuit is not None else getattr(plan, "circuit", None)
    )
    cost = plan_cost(plan)
    cut: frozenset[int] = frozenset()
    overhead = 1.0
    if mode is CommunicationMode.HYBRID:
        weights = hybrid if hybrid is not None else HybridWeights.from_config(config)
        choice = choose_cuts(source, plan.problem, cost, weights)
        cut, overhead = choice.cut_bursts, choice.sampling_overhead
    program = lower(
        plan.problem,
        plan.allocation,
        cost=cost,
        circuit=source,
        routes=routes,
        hoist=hoist,
        cut_bursts=cut,
        sampling_overhead=overhead,
    )
    program.notes["communication_mode"] = mode.value
    return program
