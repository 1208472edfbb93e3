"""The report's plots as inline SVG: topology, utilisation, timeline, counts.

Each function returns a :class:`Plot` (the ``<svg>`` markup and notes about
what was left out to keep the page readable), or ``None`` when the report has
nothing to draw. Limits are module constants.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qdframe.report.model import ScheduleSummary, TimelineItem, TopologySummary
from qdframe.report.svg import Svg, fmt, nice_ticks, viridis

__all__ = [
    "MAX_BARS",
    "MAX_LANES",
    "MAX_OUTCOMES",
    "MAX_TIMELINE_ITEMS",
    "MAX_TOPOLOGY_NODES",
    "Plot",
    "counts_plot",
    "timeline_plot",
    "topology_plot",
    "utilisation_plot",
]

#: Most nodes drawn in the topology (larger networks are described, not drawn).
MAX_TOPOLOGY_NODES = 2048
#: Nodes up to which the topology uses a force-directed layout (a circle beyond).
_SPRING_LAYOUT_NODES = 300
#: Most nodes shown in the utilisation chart (the busiest).
MAX_BARS = 48
#: Most nodes (lanes) shown on the timeline (the busiest).
MAX_LANES = 48
#: Most intervals drawn on the timeline (the earliest).
MAX_TIMELINE_ITEMS = 4000
#: Most outcomes shown in the counts histogram (the most frequent).
MAX_OUTCOMES = 32

_WIDTH = 720
_GREY = "#9aa0a6"
_FAILED = "#d62728"
_KIND_COLOURS = {
    "gate": "#4e79a7",
    "epr": "#f28e2b",
    "swap": "#e15759",
    "measure": "#76b7b2",
    "classical": "#59a14f",
    "teleport": "#edc948",
}
_OTHER_KIND = "#b07aa1"


@dataclass(frozen=True)
class Plot:
    """One plot: its ``<svg>`` element and notes on what it leaves out."""

    svg: str
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# Topology
# --------------------------------------------------------------------------


def _layout(topology: TopologySummary) -> dict[int, tuple[float, float]]:
    """Node positions in ``[0, 1]^2``: given ones, else a deterministic layout."""
    if topology.nodes and all(n.x is not None and n.y is not None for n in topology.nodes):
        raw = {n.id: (float(n.x or 0.0), float(n.y or 0.0)) for n in topology.nodes}
    elif len(topology.nodes) <= _SPRING_LAYOUT_NODES and topology.edges:
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(n.id for n in topology.nodes)
        graph.add_edges_from((e.u, e.v) for e in topology.edges)
        found = nx.spring_layout(graph, seed=7)
        raw = {int(k): (float(v[0]), float(v[1])) for k, v in found.items()}
    else:
        count = max(1, len(topology.nodes))
        raw = {
            n.id: (math.cos(2 * math.pi * i / count), math.sin(2 * math.pi * i / count))
            for i, n in enumerate(topology.nodes)
        }
    xs = [p[0] for p in raw.values()]
    ys = [p[1] for p in raw.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    return {k: ((x - min(xs)) / span_x, (y - min(ys)) / span_y) for k, (x, y) in raw.items()}


def topology_plot(topology: TopologySummary, allocation: Sequence[int] = ()) -> Plot | None:
    """The network, links coloured and thickened by usage, nodes by hosted qubits.

    :param allocation: node of each circuit qubit, to mark the nodes in use.
    """
    if not topology.nodes:
        return None
    if len(topology.nodes) > MAX_TOPOLOGY_NODES:
        return Plot(
            Svg(_WIDTH, 40, plot_id="plot-topology", title="Network topology").render(),
            (
                f"{len(topology.nodes)} nodes are too many to draw "
                f"(limit {MAX_TOPOLOGY_NODES}); report.json lists every link's usage.",
            ),
        )
    height, margin, legend = 480, 24, 46
    positions = _layout(topology)
    hosted = Counter(allocation)
    top_usage = max((e.usage for e in topology.edges), default=0.0)
    svg = Svg(_WIDTH, height + legend, plot_id="plot-topology", title="Network topology")

    def at(node: int) -> tuple[float, float]:
        x, y = positions[node]
        return margin + x * (_WIDTH - 2 * margin), margin + y * (height - 2 * margin)

    for edge in sorted(topology.edges, key=lambda e: e.usage):
        (x1, y1), (x2, y2) = at(edge.u), at(edge.v)
        share = edge.usage / top_usage if top_usage > 0 else 0.0
        used = edge.usage > 0
        svg.element(
            "line",
            x1=x1,
            y1=y1,
            x2=x2,
            y2=y2,
            class_="link",
            stroke=_FAILED if edge.failed else (viridis(share) if used else _GREY),
            stroke_width=1.0 + 4.0 * share,
            stroke_dasharray="5 3" if edge.failed else None,
            tooltip=f"link {edge.u}-{edge.v}: {fmt(edge.usage)} EPR pairs"
            + (" (failed)" if edge.failed else ""),
        )
    radius = max(2.5, min(11.0, 160.0 / math.sqrt(len(topology.nodes))))
    for node in topology.nodes:
        x, y = at(node.id)
        count = hosted.get(node.id, 0)
        fill = _FAILED if node.failed else ("#1f4e79" if count else "#c9d3dd")
        svg.circle(
            x,
            y,
            radius,
            class_="node",
            fill=fill,
            stroke="#ffffff",
            stroke_width=1,
            tooltip=f"node {node.id}: {node.data_qubits} data qubits, hosts {count} circuit "
            f"qubit(s)" + (" (failed)" if node.failed else ""),
        )
        if len(topology.nodes) <= 64:
            svg.text(x, y - radius - 3, node.id, text_anchor="middle", font_size=10)
    _usage_legend(svg, height, top_usage)
    return Plot(svg.render())


def _usage_legend(svg: Svg, top: float, maximum: float) -> None:
    steps = 24
    x0, width = 24, 240
    for i in range(steps):
        svg.rect(x0 + i * width / steps, top + 8, width / steps + 0.5, 12, fill=viridis(i / steps))
    svg.text(x0, top + 34, "0")
    svg.text(x0 + width, top + 34, fmt(maximum), text_anchor="end")
    svg.text(x0 + width + 12, top + 19, "link usage (EPR pairs); grey: unused", font_size=11)
    svg.circle(x0 + width + 260, top + 14, 5, fill="#1f4e79")
    svg.text(x0 + width + 270, top + 18, "hosts circuit qubits")


# --------------------------------------------------------------------------
# Utilisation
# --------------------------------------------------------------------------


def utilisation_plot(schedule: ScheduleSummary) -> Plot | None:
    """One horizontal bar per node: the fraction of the makespan it is busy."""
    if not schedule.node_utilisation:
        return None
    items = sorted(schedule.node_utilisation.items())
    notes: tuple[str, ...] = ()
    if len(items) > MAX_BARS:
        busiest = sorted(items, key=lambda kv: (-kv[1], kv[0]))[:MAX_BARS]
        items = sorted(busiest)
        notes = (
            f"showing the {MAX_BARS} busiest of {len(schedule.node_utilisation)} nodes; "
            "report.json has them all",
        )
    row, left, top = 16, 70, 22
    bar_width = _WIDTH - left - 60
    svg = Svg(
        _WIDTH, top + row * len(items) + 10, plot_id="plot-utilisation", title="Node utilisation"
    )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * bar_width
        svg.line(x, top - 4, x, top + row * len(items), stroke="#e0e0e0")
        svg.text(x, top - 8, f"{tick:.0%}", text_anchor="middle", font_size=10)
    for i, (node, value) in enumerate(items):
        y = top + i * row
        svg.text(left - 6, y + 11, f"node {node}", text_anchor="end")
        svg.rect(
            left,
            y + 2,
            max(0.5, value * bar_width),
            row - 4,
            fill=viridis(value),
            class_="bar",
            tooltip=f"node {node}: {value:.1%} busy",
        )
        svg.text(left + value * bar_width + 4, y + 11, f"{value:.0%}", font_size=10)
    return Plot(svg.render(), notes)


# --------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------


def _kind_colour(kind: str) -> str:
    return _KIND_COLOURS.get(kind, _OTHER_KIND)


def timeline_plot(schedule: ScheduleSummary) -> Plot | None:
    """A Gantt chart: one lane per node, one bar per busy interval."""
    if not schedule.timeline:
        return None
    notes: list[str] = []
    busy: dict[int, float] = {}
    for item in schedule.timeline:
        busy[item.node] = busy.get(item.node, 0.0) + item.end_us - item.start_us
    lanes = sorted(busy)
    if len(lanes) > MAX_LANES:
        lanes = sorted(sorted(busy, key=lambda n: (-busy[n], n))[:MAX_LANES])
        notes.append(f"showing the {MAX_LANES} busiest of {len(busy)} nodes")
    lane_of = {node: i for i, node in enumerate(lanes)}
    items: list[TimelineItem] = [it for it in schedule.timeline if it.node in lane_of]
    if len(items) > MAX_TIMELINE_ITEMS:
        items = sorted(items, key=lambda it: (it.start_us, it.node))[:MAX_TIMELINE_ITEMS]
        notes.append(
            f"showing the first {MAX_TIMELINE_ITEMS} of {len(schedule.timeline)} intervals"
        )
    end = max(schedule.makespan_us, max(it.end_us for it in schedule.timeline))
    ticks = nice_ticks(end)
    span = ticks[-1] or 1.0
    row, left, top, right = 18, 70, 16, 20
    plot_width = _WIDTH - left - right
    kinds = sorted({it.kind for it in items})
    height = top + row * len(lanes) + 30 + 18 * math.ceil(len(kinds) / 5)
    svg = Svg(_WIDTH, height, plot_id="plot-timeline", title="Schedule timeline")
    axis_y = top + row * len(lanes)
    for tick in ticks:
        x = left + tick / span * plot_width
        svg.line(x, top, x, axis_y, stroke="#e0e0e0")
        svg.text(x, axis_y + 14, f"{fmt(tick)}", text_anchor="middle", font_size=10)
    svg.text(left + plot_width, axis_y + 26, "time (µs)", text_anchor="end", font_size=10)
    for node, lane in lane_of.items():
        svg.text(left - 6, top + lane * row + 13, f"node {node}", text_anchor="end")
    for it in items:
        x = left + it.start_us / span * plot_width
        w = max(0.75, (it.end_us - it.start_us) / span * plot_width)
        label = f"{it.label} " if it.label else ""
        svg.rect(
            x,
            top + lane_of[it.node] * row + 2,
            w,
            row - 4,
            fill=_kind_colour(it.kind),
            class_="interval",
            tooltip=f"node {it.node}: {label}({it.kind}) {fmt(it.start_us)}–{fmt(it.end_us)} µs",
        )
    for i, kind in enumerate(kinds):
        x = left + (i % 5) * 120
        y = axis_y + 36 + 18 * (i // 5)
        svg.rect(x, y, 12, 10, fill=_kind_colour(kind))
        svg.text(x + 16, y + 9, kind)
    return Plot(svg.render(), tuple(notes))


# --------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------


def counts_plot(
    counts: Mapping[str, int], mitigated: Mapping[str, float] | None = None
) -> Plot | None:
    """The most frequent outcomes as probabilities, with mitigated ones beside them."""
    total = sum(counts.values())
    if total <= 0:
        return None
    raw = {k: v / total for k, v in counts.items()}
    keys = sorted(set(raw) | set(mitigated or {}), key=lambda k: (-raw.get(k, 0.0), k))
    notes: tuple[str, ...] = ()
    if len(keys) > MAX_OUTCOMES:
        notes = (f"showing the {MAX_OUTCOMES} most frequent of {len(keys)} outcomes",)
        keys = keys[:MAX_OUTCOMES]
    series: list[tuple[str, Mapping[str, float], str]] = [("measured", raw, "#4e79a7")]
    if mitigated:
        series.append(("mitigated", mitigated, "#f28e2b"))
    longest = max(len(k) for k in keys)
    shown = [k if len(k) <= 24 else k[:23] + "…" for k in keys]
    left, top, right = 48, 26, 16
    bottom = 16 + 6.2 * min(longest, 24)
    plot_height = 220
    svg = Svg(_WIDTH, top + plot_height + bottom, plot_id="plot-counts", title="Counts histogram")
    peak = max(max(s.get(k, 0.0) for k in keys) for _, s, _ in series)
    ticks = nice_ticks(peak, 4)
    scale = ticks[-1] or 1.0
    base = top + plot_height
    plot_width = _WIDTH - left - right
    for tick in ticks:
        y = base - tick / scale * plot_height
        svg.line(left, y, left + plot_width, y, stroke="#e0e0e0")
        svg.text(left - 4, y + 4, fmt(tick), text_anchor="end", font_size=10)
    slot = plot_width / len(keys)
    bar = slot * 0.8 / len(series)
    for i, key in enumerate(keys):
        for j, (name, values, colour) in enumerate(series):
            p = values.get(key, 0.0)
            h = p / scale * plot_height
            svg.rect(
                left + i * slot + slot * 0.1 + j * bar,
                base - h,
                bar,
                h,
                fill=colour,
                class_="bar",
                tooltip=f"{key} ({name}): {p:.4f}",
            )
        cx = left + (i + 0.5) * slot
        svg.text(
            cx,
            base + 12,
            shown[i],
            font_family="monospace",
            font_size=10,
            text_anchor="end",
            transform=f"rotate(-60 {cx:.1f} {base + 12:.1f})",
        )
    for j, (name, _, colour) in enumerate(series):
        svg.rect(left + j * 110, 6, 12, 10, fill=colour)
        svg.text(left + j * 110 + 16, 15, name)
    return Plot(svg.render(), notes)
