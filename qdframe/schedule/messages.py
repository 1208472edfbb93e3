"""Classical messages: their payload, compression and travel time.

A message is a 19-byte frame: kind and flags (one byte each), source and
target node (two bytes each), protocol number, sequence number on its
channel and the measuring operation's number (four bytes each), then one
byte of outcome bits (little-endian). With compression on,
every directed channel (source node → target node) keeps one zstd stream and
flushes it after each message, so a receiver can decode each message as it
arrives while later messages profit from the earlier ones; a message is
sent compressed only when that is shorter (a header flag says which).
Programs with very many messages compress a fixed sample of whole channels
and scale the rest by the sample's ratio (reported as ``sampled_messages``).
Protocol messages are a few bytes, so the saving is usually small; the
figures are reported either way. Entanglement swaps send one two-bit message
each from the swapping node to the far end of the delivery; they are implied
by the routes and counted here like the others.

A message travels the path of least latency; each link adds its latency and
its serialisation time ``8 * bytes / bandwidth_bps``.
"""

from __future__ import annotations

import importlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from qdframe.distribute.program import DistributedProgram
    from qdframe.schedule._deliveries import DeliveryGeometry
    from qdframe.topology import Topology

__all__ = ["CompressionReport", "message_delays", "message_sizes"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_HEADER = struct.Struct("<BBHHIII")


@dataclass(frozen=True)
class CompressionReport:
    """Classical payload totals (messages between different nodes only)."""

    enabled: bool
    messages: int
    raw_bytes: int
    sent_bytes: int
    compressed_messages: int
    level: int
    sampled_messages: int = 0

    @property
    def saved_bytes(self) -> int:
        return self.raw_bytes - self.sent_bytes

    @property
    def saving(self) -> float:
        """Fraction of the raw bytes saved."""
        return self.saved_bytes / self.raw_bytes if self.raw_bytes else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "messages": self.messages,
            "raw_bytes": self.raw_bytes,
            "sent_bytes": self.sent_bytes,
            "saved_bytes": self.saved_bytes,
            "saving": self.saving,
            "compressed_messages": self.compressed_messages,
            "level": self.level,
            "sampled_messages": self.sampled_messages,
        }


def _payload(
    source: int, target: int, protocol: int, sequence: int, producer: int, bits: int
) -> bytes:
    header = _HEADER.pack(
        1, 0, source & 0xFFFF, target & 0xFFFF, protocol & 0xFFFFFFFF,
        sequence & 0xFFFFFFFF, producer & 0xFFFFFFFF,
    )  # fmt: skip
    return header + bytes([bits])


def message_sizes(
    program: DistributedProgram,
    geometry: DeliveryGeometry,
    *,
    compress: bool,
    level: int = 3,
    sample_limit: int = 20000,
) -> tuple[IntArray, IntArray, CompressionReport]:
    """Bytes each message occupies on the wire - the stored ones, then one per
    entanglement swap (implied by the routes) - and the compression totals.

    Above ``sample_limit`` messages, whole channels are compressed until that
    many messages are covered and the others get their average ratio (the
    report's ``sampled_messages`` says how many were compressed for real).
    """
    stored = len(program.message_bits)
    rows = geometry.rows[geometry.interior_delivery]
    sources = np.concatenate([program.message_source, geometry.interior_node]).astype(np.int64)
    targets = np.concatenate([program.message_target, geometry.interior_end]).astype(np.int64)
    protocols = np.concatenate([program.message_protocol, program.protocol[rows]]).astype(np.int64)
    producers = np.concatenate([program.message_producers[:, 0], rows]).astype(np.int64)
    sent_mask = sources != targets
    count = len(sources)
    raw = np.full(count, _HEADER.size + 1, dtype=np.int64)
    raw[~sent_mask] = 0
    wire = raw.copy()
    compressed_messages = 0
    sampled = 0
    if compress and count:
        import zstandard

        compressor = zstandard.ZstdCompressor(level=level)
        streams: dict[tuple[int, int], Any] = {}
        sequence: dict[tuple[int, int], int] = {}
        # Measurement outcomes are uniformly random; a fixed seed keeps the
        # reported sizes reproducible.
        outcomes = np.random.default_rng(0).integers(0, 4, size=count)
        chosen = _sample_channels(sources, targets, sent_mask, sample_limit, program.num_nodes)
        for m in chosen.tolist():
            a, b = int(sources[m]), int(targets[m])
            channel = (a, b)
            stream = streams.get(channel)
            if stream is None:
                stream = compressor.compressobj()
                streams[channel] = stream
            seq = sequence.get(channel, 0)
            sequence[channel] = seq + 1
            chunk = stream.compress(
                _payload(a, b, int(protocols[m]), seq, int(producers[m]), int(outcomes[m]))
            )
            chunk += stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            if len(chunk) < raw[m]:
                wire[m] = len(chunk)
                compressed_messages += 1
        rest = np.flatnonzero(sent_mask)
        if len(chosen) < len(rest):
            # Channels left out get the sampled channels' average size.
            ratio = wire[chosen].sum() / max(raw[chosen].sum(), 1)
            rest = np.setdiff1d(rest, chosen, assume_unique=True)
            wire[rest] = np.ceil(raw[rest] * ratio).astype(np.int64)
            compressed_messages = round(compressed_messages * len(rest) / len(chosen))
            compressed_messages += int(np.count_nonzero(wire[chosen] < raw[chosen]))
            sampled = len(chosen)
    report = CompressionReport(
        enabled=compress,
        messages=int(sent_mask.sum()),
        raw_bytes=int(raw.sum()),
        sent_bytes=int(wire.sum()),
        compressed_messages=compressed_messages,
        level=level,
        sampled_messages=sampled,
    )
    return wire[:stored], wire[stored:], report


def _sample_channels(
    sources: IntArray, targets: IntArray, sent_mask: npt.NDArray[np.bool_], limit: int, nodes: int
) -> IntArray:
    """Messages of whole channels, in a fixed order, until ``limit`` are covered."""
    sent = np.flatnonzero(sent_mask)
    if len(sent) <= limit:
        return sent
    key = sources[sent] * (nodes + 1) + targets[sent]
    span = (nodes + 1) ** 2
    if span <= 4 * len(key) + 4096:
        # Counting instead of sorting: the same channels, ascending, as np.unique.
        per_key = np.bincount(key, minlength=span)
        channels = np.flatnonzero(per_key)
        counts = per_key[channels]
        rank = np.cumsum(per_key > 0) - 1
        inverse = rank[key]
    else:
        channels, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    order = np.random.default_rng(1).permutation(len(channels))
    covered = np.cumsum(counts[order])
    keep = order[: int(np.searchsorted(covered, limit)) + 1]
    mask = np.zeros(len(channels), dtype=bool)
    mask[keep] = True
    picked: IntArray = sent[mask[inverse.reshape(-1)]]
    return picked


def message_delays(
    topology: Topology,
    source: npt.NDArray[np.integer[Any]],
    target: npt.NDArray[np.integer[Any]],
    wire_bytes: IntArray,
) -> FloatArray:
    """Travel time (microseconds) of every message; 0 for same-node messages."""
    count = len(wire_bytes)
    delays = np.zeros(count, dtype=np.float64)
    sent = np.flatnonzero(source != target)
    if not len(sent):
        return delays
    src = source[sent].astype(np.int64)
    dst = target[sent].astype(np.int64)
    size = wire_bytes[sent].astype(np.float64)
    links = topology.links
    latencies = np.asarray([s.latency_us for s in links])
    bandwidths = np.asarray([s.bandwidth_bps for s in links])
    if np.all(latencies == latencies[0]) and np.all(bandwidths == bandwidths[0]):
        hops = topology.hops(src, dst).astype(np.float64)
        delays[sent] = hops * (latencies[0] + 8e6 * size / bandwidths[0])
        return delays
    # Heterogeneous links: least-latency paths, then the serialisation along them,
    # once per node pair.
    # Imported by name: scipy ships without type information.
    csr_matrix = importlib.import_module("scipy.sparse").csr_matrix
    dijkstra = importlib.import_module("scipy.sparse.csgraph").dijkstra
    edges = topology.edges
    n = topology.num_nodes
    weight = csr_matrix(
        (np.concatenate([latencies, latencies]) + 1e-12,
         (np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]]))),
        shape=(n, n),
    )  # fmt: skip
    inverse = np.concatenate([1.0 / bandwidths, 1.0 / bandwidths])
    per_byte = csr_matrix(
        (inverse, (np.concatenate([edges[:, 0], edges[:, 1]]),
                   np.concatenate([edges[:, 1], edges[:, 0]]))), shape=(n, n),
    )  # fmt: skip
    pairs, inverse_pair = np.unique(src * n + dst, return_inverse=True)
    pair_src, pair_dst = np.divmod(pairs, n)
    sources = np.unique(pair_src)
    latency, parents = dijkstra(weight, indices=sources, return_predecessors=True)
    row_of = {int(s): i for i, s in enumerate(sources)}
    pair_latency = np.empty(len(pairs))
    pair_per_bit = np.empty(len(pairs))
    for k, (a, b) in enumerate(zip(pair_src.tolist(), pair_dst.tolist(), strict=True)):
        row = row_of[a]
        seconds_per_bit = 0.0
        node = b
        while node != a:
            parent = int(parents[row, node])
            seconds_per_bit += float(per_byte[parent, node])
            node = parent
        pair_latency[k] = float(latency[row, b])
        pair_per_bit[k] = seconds_per_bit
    inverse_pair = inverse_pair.reshape(-1)
    delays[sent] = pair_latency[inverse_pair] + 8e6 * size * pair_per_bit[inverse_pair]
    return delays
