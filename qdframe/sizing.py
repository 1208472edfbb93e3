"""The default network, and sizing a network that is only partly given.

Every command and :class:`~qdframe.system.DistributedSystem` use one rule: a
configuration that leaves the network size unset gets **four nodes on a
ring, each just large enough for the circuit** (``ceil(qubits / 4)`` data
qubits). Set only ``num_nodes`` (``--nodes``) and each node gets
``ceil(qubits / num_nodes)`` data qubits; set only ``qubits_per_node``
(``--qubits-per-node``) and there are ``ceil(qubits / qubits_per_node)`` nodes.
The topology is a ring unless it is set. Set both and the network is used as
given, after checking that the circuit fits, so that "8 qubits do not fit in
4" is the message rather than a complaint about the topology's shape.

The configuration model's own defaults (1,024 nodes of 64 qubits on a torus)
describe the planning scale of the seed; they apply when the size is set
to them explicitly, e.g. with ``examples/torus_1024x64.toml``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from qdframe.errors import CapacityError

if TYPE_CHECKING:
    from qdframe.config import SystemConfig

__all__ = [
    "DEFAULT_NUM_NODES",
    "DEFAULT_TOPOLOGY",
    "check_capacity",
    "network_size",
    "sized_config",
]

#: Nodes of the default network.
DEFAULT_NUM_NODES = 4
#: Topology of the default network (any node count forms a ring).
DEFAULT_TOPOLOGY = "ring"


def check_capacity(num_qubits: int, num_nodes: int, qubits_per_node: int) -> None:
    """Raise when ``num_nodes`` x ``qubits_per_node`` cannot hold ``num_qubits``.

    :raises CapacityError: naming both sizes and the smallest fixes.
    """
    have = num_nodes * qubits_per_node
    if num_qubits <= have:
        return
    nodes, per_node = math.ceil(num_qubits / qubits_per_node), math.ceil(num_qubits / num_nodes)
    raise CapacityError(
        f"the circuit needs {num_qubits} qubits but {num_nodes} node(s) x {qubits_per_node} "
        f"hold only {have} data qubits; use at least {nodes} nodes "
        f"(--nodes, distributed.num_nodes) or {per_node} qubits "
        "per node (--qubits-per-node, distributed.qubits_per_node)"
    )


def network_size(
    num_qubits: int, *, num_nodes: int | None = None, qubits_per_node: int | None = None
) -> tuple[int, int]:
    """``(num_nodes, qubits_per_node)`` for a circuit, filling in what is not given.

    :raises CapacityError: both are given and hold fewer than ``num_qubits``.
    """
    need = max(1, num_qubits)
    if num_nodes is None and qubits_per_node is None:
        num_nodes = DEFAULT_NUM_NODES
    if qubits_per_node is None:
        assert num_nodes is not None
        return num_nodes, max(1, math.ceil(need / num_nodes))
    if num_nodes is None:
        return max(1, math.ceil(need / qubits_per_node)), qubits_per_node
    check_capacity(num_qubits, num_nodes, qubits_per_node)
    return num_nodes, qubits_per_node


def sized_config(config: SystemConfig | None, num_qubits: int) -> SystemConfig:
    """``config`` with its unset network size filled in for a ``num_qubits`` circuit.

    Only keys the configuration did not set (in its file, environment or
    overrides) are filled in; the result records them as set, so sizing it
    again changes nothing.

    :raises CapacityError: the size is given and the circuit does not fit.
    """
    from qdframe.config import SystemConfig

    if config is None:
        config = SystemConfig()
    block = config.distributed
    given = block.model_fields_set
    nodes, per_node = network_size(
        num_qubits,
        num_nodes=block.num_nodes if "num_nodes" in given else None,
        qubits_per_node=block.qubits_per_node if "qubits_per_node" in given else None,
    )
    update: dict[str, object] = {"num_nodes": nodes, "qubits_per_node": per_node}
    if "network_topology" not in given:
        update["network_topology"] = DEFAULT_TOPOLOGY
    if all(getattr(block, key) == value for key, value in update.items()) and set(update) <= given:
        return config
    data = block.model_dump(exclude_unset=True)
    data.update(update)
    distributed = type(block).model_validate(data)
    # Keep every other block exactly as given, with its own set-fields record.
    return config.model_copy(update={"distributed": distributed})
