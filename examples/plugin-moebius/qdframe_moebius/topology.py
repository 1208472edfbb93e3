"""Build the Moebius ladder."""

from __future__ import annotations

from typing import Any

from qdframe.plugin import ConfigError, LinkSpec, Topology


def build_moebius(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int,
    link: LinkSpec | None = None,
    **params: Any,
) -> Topology:
    """Nodes ``0..n-1`` in a ring, plus a chord from ``i`` to ``i + n/2``."""
    if params:
        raise ConfigError(
            f"moebius topology: unknown parameter(s) {', '.join(sorted(params))}",
            key_path="distributed.topology_params",
            allowed="link",
        )
    if num_nodes < 4 or num_nodes % 2:
        sizes = ", ".join(str(s) for s in (4, 6, 8, num_nodes + (num_nodes % 2)) if s >= 4)
        raise ConfigError(f"a moebius ladder needs an even number of nodes >= 4 (e.g. {sizes})")
    ring = [(i, (i + 1) % num_nodes) for i in range(num_nodes)]
    chords = [(i, i + num_nodes // 2) for i in range(num_nodes // 2)]
    return Topology(
        "moebius",
        num_nodes,
        ring + chords,
        data_qubits=qubits_per_node,
        comm_qubits=comm_qubits_per_node,
        link=link,
    )
