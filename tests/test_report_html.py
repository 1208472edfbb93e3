"""The HTML page: well-formed, self-contained, escaped, with every plot drawn from the data."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from qiskit import QuantumCircuit

from qdframe.config import SystemConfig
from qdframe.report import (
    CircuitSummary,
    ConfigSummary,
    ExecutionSummary,
    RunReport,
    TopologySummary,
    render_html,
)
from qdframe.report.example import example_report
from qdframe.report.plots import MAX_BARS, MAX_LANES, MAX_OUTCOMES
from qdframe.report.svg import viridis

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "source", "wbr"}
EXTERNAL_TAGS = {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"}
MALICIOUS = '</title><script>alert("x")</script><img src=x onerror=alert(1)> & "q"'


class Page(HTMLParser):
    """Parses a page, checking that every element is closed in order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str], tuple[str, ...]]] = []
        self.text: list[str] = []
        self.doctype = False
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def in_plot(self, plot_id: str, tag: str, css_class: str) -> list[dict[str, str]]:
        """Elements ``tag.css_class`` inside ``svg#plot_id``."""
        svg_index = next(
            (
                i
                for i, (t, a, _) in enumerate(self.elements)
                if t == "svg" and a.get("id") == plot_id
            ),
            None,
        )
        if svg_index is None:
            return []
        depth = len(self.elements[svg_index][2])
        found = []
        for t, attrs, ancestors in self.elements[svg_index + 1 :]:
            if len(ancestors) <= depth:
                break
            if t == tag and css_class in attrs.get("class", "").split():
                found.append(attrs)
        return found


@pytest.fixture(scope="module")
def report() -> RunReport:
    return example_report(seed=5)


@pytest.fixture(scope="module")
def page(report: RunReport) -> Page:
    return Page(render_html(report))


def test_the_page_is_well_formed(page: Page) -> None:
    assert page.doctype
    assert page.problems == []
    assert [t for t, _, _ in page.elements[:3]] == ["html", "head", "meta"]


def test_the_page_needs_nothing_from_outside(report: RunReport, page: Page) -> None:
    text = render_html(report)
    assert not {t for t, _, _ in page.elements} & EXTERNAL_TAGS
    for tag, attrs, _ in page.elements:
        assert not {"src", "href", "xlink:href", "srcset", "action"} & attrs.keys(), tag
        assert not any(k.startswith("on") for k in attrs), tag
    assert "@import" not in text and "url(" not in text


def test_every_plot_is_drawn_from_the_data(report: RunReport, page: Page) -> None:
    assert report.topology is not None and report.schedule is not None
    assert report.execution is not None
    assert len(page.in_plot("plot-topology", "circle", "node")) == len(report.topology.nodes)
    links = page.in_plot("plot-topology", "line", "link")
    assert len(links) == len(report.topology.edges)
    bars = page.in_plot("plot-utilisation", "rect", "bar")
    assert len(bars) == len(report.schedule.node_utilisation)
    intervals = page.in_plot("plot-timeline", "rect", "interval")
    assert len(intervals) == len(report.schedule.timeline)
    outcomes = set(report.execution.counts) | set(report.execution.mitigated or {})
    counts_bars = page.in_plot("plot-counts", "rect", "bar")
    assert len(counts_bars) == 2 * min(len(outcomes), MAX_OUTCOMES)  # measured and mitigated


def test_links_are_coloured_and_sized_by_usage(report: RunReport, page: Page) -> None:
    assert report.topology is not None
    top = max(e.usage for e in report.topology.edges)
    strokes = Counter(a["stroke"] for a in page.in_plot("plot-topology", "line", "link"))
    used = [e for e in report.topology.edges if e.usage > 0]
    assert strokes[viridis(1.0)] == sum(1 for e in used if e.usage == top)
    assert strokes["#9aa0a6"] == len(report.topology.edges) - len(used)  # unused: grey
    widths = {float(a["stroke-width"]) for a in page.in_plot("plot-topology", "line", "link")}
    assert max(widths) > min(widths)


def test_utilisation_bars_are_proportional(report: RunReport, page: Page) -> None:
    assert report.schedule is not None
    widths = [float(a["width"]) for a in page.in_plot("plot-utilisation", "rect", "bar")]
    values = [v for _, v in sorted(report.schedule.node_utilisation.items())]
    scale = widths[0] / values[0]
    assert widths == pytest.approx([v * scale for v in values], abs=0.6)


def test_user_strings_are_escaped() -> None:
    report = example_report(circuit_name=MALICIOUS)
    report.notes.append(MALICIOUS)
    assert report.schedule is not None
    report.schedule.timeline[0].label = MALICIOUS
    text = render_html(report)
    page = Page(text)
    assert page.problems == []
    tags = {t for t, _, _ in page.elements}
    assert "script" not in tags and "img" not in tags
    assert "<script" not in text.lower()
    # The name is shown as text, intact, in the title, the heading and the notes.
    shown = "".join(page.text)
    assert shown.count(MALICIOUS) >= 3


def test_large_runs_are_summarised_with_a_note() -> None:
    report = example_report(num_nodes=60, qubits_per_node=1, seed=2)
    assert report.execution is not None
    report.execution.counts = {format(i, "07b"): i + 1 for i in range(100)}
    report.execution.mitigated = None
    page = Page(render_html(report))
    assert len(page.in_plot("plot-utilisation", "rect", "bar")) == MAX_BARS
    lanes = {a["y"] for a in page.in_plot("plot-timeline", "rect", "interval")}
    assert len(lanes) == MAX_LANES
    assert len(page.in_plot("plot-counts", "rect", "bar")) == MAX_OUTCOMES
    notes = " ".join(page.text)
    assert f"showing the {MAX_BARS} busiest of 60 nodes" in notes
    assert f"showing the {MAX_OUTCOMES} most frequent of 100 outcomes" in notes
    # The most frequent outcome is the first bar and the tallest.
    heights = [float(a["height"]) for a in page.in_plot("plot-counts", "rect", "bar")]
    assert heights[0] == max(heights)


def test_a_failed_run_with_only_circuit_and_config_still_renders() -> None:
    circuit = QuantumCircuit(2, name="tiny")
    report = RunReport(
        run_id="failed-1",
        status="failed",
        error="ResourceError: node 3 failed; retries are exhausted",
        circuit=CircuitSummary.from_circuit(circuit),
        config=ConfigSummary.from_config(SystemConfig()),
    )
    page = Page(render_html(report))
    assert page.problems == []
    assert not [a for t, a, _ in page.elements if t == "svg"]
    assert "retries are exhausted" in " ".join(page.text)


def test_a_fallback_result_is_marked() -> None:
    report = example_report()
    report.execution = ExecutionSummary(
        backend="numpy",
        shots=10,
        counts={"0": 10},
        fallback=True,
        fallback_reason="backend 'aer' failed",
    )
    text = " ".join(Page(render_html(report)).text)
    assert "Fallback: this result comes from the local simulator (backend 'aer' failed)" in text


def test_failed_nodes_and_links_are_drawn_in_red() -> None:
    report = example_report()
    assert report.topology is not None
    data = report.topology.model_dump()
    data["nodes"][2]["failed"] = True
    data["edges"][0]["failed"] = True
    report.topology = TopologySummary.model_validate(data)
    page = Page(render_html(report))
    nodes = page.in_plot("plot-topology", "circle", "node")
    links = page.in_plot("plot-topology", "line", "link")
    assert [a["fill"] for a in nodes].count("#d62728") == 1
    assert [a.get("stroke-dasharray") for a in links].count("5 3") == 1
