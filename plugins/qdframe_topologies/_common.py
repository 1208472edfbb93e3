"""Parameter handling shared by the topology builders."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qdframe.plugin import ConfigError, HopFunction, LinkSpec, Topology

__all__ = [
    "COMMON_PARAMS",
    "factor_pairs",
    "finish",
    "nearby_sizes",
    "reject_unknown",
    "require_positive",
    "resolve_link",
]

#: Parameters every builder accepts besides its shape parameters.
COMMON_PARAMS = ("link", "node_qubits", "node_comm_qubits")


def reject_unknown(kind: str, unknown: Mapping[str, Any], shape: Sequence[str]) -> None:
    """Raise :class:`ConfigError` naming parameters the builder does not know."""
    if unknown:
        allowed = ", ".join([*shape, *COMMON_PARAMS])
        raise ConfigError(
            f"{kind} topology: unknown parameter(s) {', '.join(sorted(unknown))}",
            key_path="distributed.topology_params",
            allowed=allowed,
        )


def resolve_link(link: LinkSpec | Mapping[str, Any] | None) -> LinkSpec:
    """The default link: a :class:`LinkSpec`, a table of overrides, or the defaults."""
    if link is None:
        return LinkSpec()
    if isinstance(link, LinkSpec):
        return link
    if isinstance(link, Mapping):
        return LinkSpec().with_overrides(link)
    raise ConfigError(f"link must be a table of link fields, got {type(link).__name__}")


def finish(
    kind: str,
    num_nodes: int,
    edges: Iterable[tuple[int, int]],
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int,
    link: LinkSpec | Mapping[str, Any] | None,
    node_qubits: Sequence[int] | None,
    node_comm_qubits: Sequence[int] | None,
    hop_function: HopFunction | None = None,
    params: Mapping[str, Any] | None = None,
    link_overrides: Mapping[tuple[int, int], LinkSpec] | None = None,
) -> Topology:
    """Build the :class:`Topology` with capacities and link defaults applied."""
    if qubits_per_node < 0 or comm_qubits_per_node < 0:
        raise ConfigError("qubits per node must be >= 0")
    return Topology(
        kind,
        num_nodes,
        edges,
        data_qubits=list(node_qubits) if node_qubits is not None else qubits_per_node,
        comm_qubits=(
            list(node_comm_qubits) if node_comm_qubits is not None else comm_qubits_per_node
        ),
        link=resolve_link(link),
        link_overrides=link_overrides,
        hop_function=hop_function,
        params=params,
    )


def factor_pairs(n: int, minimum: int = 1) -> list[tuple[int, int]]:
    """Factorisations ``n = a * b`` with ``minimum <= a <= b``."""
    return [(a, n // a) for a in range(minimum, math.isqrt(n) + 1) if n % a == 0]


def nearby_sizes(n: int, fits: Any, count: int = 4) -> list[int]:
    """Up to ``count`` sizes closest to ``n`` for which ``fits(size)`` is true."""
    found: list[int] = []
    for delta in range(1, 4 * n + 64):
        for size in (n - delta, n + delta):
            if size >= 1 and fits(size) and size not in found:
                found.append(size)
        if len(found) >= count:
            break
    return sorted(found[:count])


def require_positive(kind: str, num_nodes: int) -> None:
    if num_nodes < 1:
        raise ConfigError(f"{kind} topology needs at least 1 node, got {num_nodes}")
