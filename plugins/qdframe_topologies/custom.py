"""Topologies given as data (``custom``) or drawn at random (``small_world``)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qdframe.plugin import ConfigError, LinkSpec, Topology
from qdframe_topologies._common import finish, reject_unknown, require_positive, resolve_link

__all__ = ["build_custom", "build_small_world", "read_edges_file"]

LinkArg = LinkSpec | Mapping[str, Any] | None
Edge = tuple[int, int, dict[str, Any]]


def _parse_edge(item: Any, position: str) -> Edge:
    if isinstance(item, Mapping):
        fields = dict(item)
        try:
            u, v = fields.pop("u"), fields.pop("v")
        except KeyError:
            raise ConfigError(f"{position}: an edge table needs keys 'u' and 'v'") from None
        return int(u), int(v), fields
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (2, 3):
        extra = item[2] if len(item) == 3 else {}
        if not isinstance(extra, Mapping):
            raise ConfigError(
                f"{position}: the third entry of an edge must be a table of link fields"
            )
        try:
            return int(item[0]), int(item[1]), dict(extra)
        except (TypeError, ValueError):
            pass
    raise ConfigError(
        f"{position}: cannot read edge {item!r}; write [u, v], [u, v, {{latency_us = 50}}] "
        "or {u = 0, v = 1, latency_us = 50}"
    )


def read_edges_file(path: str | Path) -> list[Edge]:
    """Read an edge list from a file.

    ``.json``: a list of edges (or ``{"edges": [...]}``); ``.toml``: an
    ``edges`` array; anything else: one edge per line, ``u v`` followed by
    optional ``field=value`` link overrides, ``#`` starts a comment.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read edges file {file}: {exc}") from None
    if file.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file}: invalid JSON: {exc}") from None
        items = data.get("edges") if isinstance(data, Mapping) else data
        if not isinstance(items, list):
            raise ConfigError(f"{file}: expected a list of edges")
        return [_parse_edge(item, f"{file} edge {i}") for i, item in enumerate(items)]
    if file.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: malformed TOML: {exc}") from None
        items = data.get("edges")
        if not isinstance(items, list):
            raise ConfigError(f"{file}: expected an 'edges' array")
        return [_parse_edge(item, f"{file} edge {i}") for i, item in enumerate(items)]
    edges: list[Edge] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].split()
        if not content:
            continue
        if len(content) < 2:
            raise ConfigError(f"{file}:{number}: expected 'u v [field=value ...]'")
        fields: dict[str, Any] = {}
        for token in content[2:]:
            key, sep, value = token.partition("=")
            if not sep:
                raise ConfigError(f"{file}:{number}: expected field=value, got {token!r}")
            fields[key] = value
        try:
            edges.append((int(content[0]), int(content[1]), fields))
        except ValueError:
            raise ConfigError(f"{file}:{number}: node labels must be integers") from None
    return edges


def build_custom(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    edges: Sequence[Any] | None = None,
    edges_file: str | None = None,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A topology from an explicit edge list (``edges``) or a file (``edges_file``).

    Each edge may carry its own link fields, overriding the defaults.

    :raises ConfigError: neither or both sources given, a malformed edge, a
        node label out of range, or a disconnected graph (naming the nodes
        without links, or those unreachable from node 0).
    """
    reject_unknown("custom", unknown, ("edges", "edges_file"))
    require_positive("custom", num_nodes)
    if (edges is None) == (edges_file is None):
        raise ConfigError(
            "custom topology needs exactly one of topology_params.edges (a list of "
            "[u, v] pairs) or topology_params.edges_file (a path)",
            key_path="distributed.topology_params",
        )
    parsed = (
        read_edges_file(edges_file)
        if edges_file is not None
        else [_parse_edge(item, f"edge {i}") for i, item in enumerate(edges or [])]
    )
    base = resolve_link(link)
    overrides: dict[tuple[int, int], LinkSpec] = {}
    touched: set[int] = set()
    for u, v, fields in parsed:
        if not (0 <= u < num_nodes and 0 <= v < num_nodes):
            raise ConfigError(
                f"custom edge {u}-{v} names a node outside 0 .. {num_nodes - 1}; "
                f"distributed.num_nodes is {num_nodes}"
            )
        touched.update((u, v))
        if fields:
            overrides[(min(u, v), max(u, v))] = base.with_overrides(fields)
    if num_nodes > 1:
        isolated = [n for n in range(num_nodes) if n not in touched]
        if isolated:
            shown = ", ".join(str(n) for n in isolated[:20])
            more = f" and {len(isolated) - 20} more" if len(isolated) > 20 else ""
            raise ConfigError(
                f"custom topology is disconnected: node(s) {shown}{more} have no links; "
                "add edges to them or lower distributed.num_nodes"
            )
    return finish(
        "custom",
        num_nodes,
        [(u, v) for u, v, _ in parsed],
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=base,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        link_overrides=overrides,
        params={"edges_file": edges_file} if edges_file else {},
    )


def build_small_world(
    num_nodes: int,
    *,
    qubits_per_node: int,
    comm_qubits_per_node: int = 2,
    link: LinkArg = None,
    neighbours: int = 4,
    rewire_probability: float = 0.1,
    seed: int = 0,
    node_qubits: Sequence[int] | None = None,
    node_comm_qubits: Sequence[int] | None = None,
    **unknown: Any,
) -> Topology:
    """A connected Watts-Strogatz small-world graph, reproducible from ``seed``.

    Each node starts linked to its ``neighbours`` nearest nodes on a ring; each
    link is rewired with ``rewire_probability``.
    """
    import networkx as nx

    reject_unknown("small_world", unknown, ("neighbours", "rewire_probability", "seed"))
    require_positive("small_world", num_nodes)
    k = int(neighbours)
    if k < 2:
        raise ConfigError(f"small_world neighbours must be >= 2, got {neighbours}")
    if num_nodes <= k:
        raise ConfigError(
            f"small_world with neighbours={k} needs more than {k} nodes, got {num_nodes}; "
            f"sizes that fit: {k + 1} or more (or lower neighbours)"
        )
    if not 0.0 <= float(rewire_probability) <= 1.0:
        raise ConfigError(f"small_world rewire_probability={rewire_probability}", allowed="0 .. 1")
    try:
        graph = nx.connected_watts_strogatz_graph(
            num_nodes, k, float(rewire_probability), tries=200, seed=int(seed)
        )
    except nx.NetworkXError as exc:
        raise ConfigError(f"small_world: {exc}; try another seed") from None
    return finish(
        "small_world",
        num_nodes,
        [(int(u), int(v)) for u, v in graph.edges()],
        qubits_per_node=qubits_per_node,
        comm_qubits_per_node=comm_qubits_per_node,
        link=link,
        node_qubits=node_qubits,
        node_comm_qubits=node_comm_qubits,
        params={"neighbours": k, "rewire_probability": float(rewire_probability), "seed": seed},
    )
