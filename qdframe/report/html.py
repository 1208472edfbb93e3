"""One self-contained HTML page for a run report.

The page has inline CSS and inline SVG plots and nothing else: no scripts, no
fonts, no images, no links to other hosts, so it opens the same offline, from
an e-mail attachment or from a CI artefact. Every value taken from the report
is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from qdframe.report.model import RunReport, VerificationSummary
from qdframe.report.plots import (
    Plot,
    counts_plot,
    timeline_plot,
    topology_plot,
    utilisation_plot,
)
from qdframe.report.svg import esc, fmt

__all__ = ["render_html"]

#: Most rows of a table on the page (allocation, links); report.json has all.
MAX_TABLE_ROWS = 200

_CSS = """
:root { color-scheme: light; --ink: #1d2733; --muted: #5f6b7a; --line: #dde3ea; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 0 auto; padding: 24px; max-width: 1040px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; vertical-align: middle; margin-left: 6px; }
.badge.ok { background: #dff3e4; color: #1e6b34; }
.badge.bad { background: #fbe0e0; color: #9b1c1c; }
.badge.warn { background: #fff1d6; color: #8a5a00; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
         gap: 8px; margin: 16px 0 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 0; }
.card dt { color: var(--muted); font-size: 12px; }
.card dd { margin: 2px 0 0; font-size: 16px; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left;
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; padding: 10px; overflow: auto; font-size: 12px; }
.note { color: var(--muted); font-size: 12px; margin: 2px 0; }
.error { background: #fbe0e0; color: #9b1c1c; padding: 8px 10px; border-radius: 6px; }
svg.plot { max-width: 100%; height: auto; display: block; margin: 6px 0; }
svg.plot text { fill: var(--ink); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: int = 0) -> str:
    """A table; the last ``numeric`` columns are right-aligned numbers."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    first_numeric = len(headers) - numeric
    for row in rows:
        cells = "".join(
            f'<td class="num">{esc(_show(v))}</td>'
            if i >= first_numeric
            else f"<td>{esc(_show(v))}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _show(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else ("yes" if value else "no")
    if isinstance(value, int | float):
        return fmt(float(value))
    return str(value)


def _seed(seed: int | None) -> str | None:
    return None if seed is None else str(seed)


def _plot(plot: Plot | None, empty: str) -> str:
    if plot is None:
        return f'<p class="note">{esc(empty)}</p>'
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in plot.notes)
    return plot.svg + notes


def _card(label: str, value: object) -> str:
    return f'<div class="card"><dt>{esc(label)}</dt><dd>{esc(_show(value))}</dd></div>'


def _header(report: RunReport) -> str:
    status = report.status
    tone = "ok" if status == "succeeded" else ("warn" if status == "planned" else "bad")
    created = report.created_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f"<header><h1>Run report: {esc(report.circuit.name)}"
        f'<span class="badge {tone}">{esc(status)}</span></h1>'
        f'<p class="sub">run <code>{esc(report.run_id)}</code> · {esc(created)} · '
        f"qdframe {esc(report.qdframe_version)}</p></header>"
    )


def _summary(report: RunReport) -> str:
    c, cfg = report.circuit, report.config
    cards = [
        _card("circuit qubits", c.num_qubits),
        _card("depth", c.depth),
        _card("multi-qubit gates", c.two_qubit_gates),
        _card("network", f"{cfg.num_nodes} × {cfg.qubits_per_node} qubits"),
        _card("topology", cfg.topology),
        _card("communication", cfg.communication_mode),
    ]
    if report.plan is not None:
        cards += [_card("ebits", report.plan.ebits), _card("swaps", report.plan.swaps)]
    if report.schedule is not None:
        cards.append(_card("makespan (µs)", report.schedule.makespan_us))
    if report.execution is not None:
        e = report.execution
        cards += [_card("backend", e.backend), _card("shots", e.shots)]
        cards.append(_card("fallback", e.fallback))
        cards.append(_card("verified", e.verified))
    if report.metrics.total_seconds is not None:
        cards.append(_card("run time (s)", report.metrics.total_seconds))
    error = f'<p class="error">{esc(report.error)}</p>' if report.error else ""
    return error + f'<dl class="cards">{"".join(cards)}</dl>'


def _network(report: RunReport) -> str:
    if report.topology is None:
        return ""
    allocation = report.plan.allocation if report.plan else []
    t = report.topology
    intro = (
        f'<p class="sub">{esc(t.name)}: {len(t.nodes)} nodes, {len(t.edges)} links. '
        "Hover over a link or a node for details.</p>"
    )
    plot = topology_plot(t, allocation)
    return f'<section id="network"><h2>Network</h2>{intro}{_plot(plot, "no nodes")}</section>'


def _plan(report: RunReport) -> str:
    plan = report.plan
    if plan is None:
        return ""
    facts = _table(
        ["allocator", "reason", "ebits", "swaps", "classical bits", "migrations", "fidelity est."],
        [
            [
                plan.allocator,
                plan.reason or "—",
                plan.ebits,
                plan.swaps,
                plan.classical_bits,
                plan.migrations,
                plan.fidelity_estimate,
            ]
        ],
        numeric=5,
    )
    by_node: dict[int, list[int]] = {}
    for qubit, node in enumerate(plan.allocation):
        by_node.setdefault(node, []).append(qubit)
    rows = [[node, _ranges(qubits), len(qubits)] for node, qubits in sorted(by_node.items())]
    note = ""
    if len(rows) > MAX_TABLE_ROWS:
        note = f'<p class="note">showing {MAX_TABLE_ROWS} of {len(rows)} nodes</p>'
        rows = rows[:MAX_TABLE_ROWS]
    allocation = (
        "<h3>Allocation</h3>" + _table(["node", "circuit qubits", "count"], rows, 1) + note
        if rows
        else ""
    )
    return f'<section id="plan"><h2>Plan</h2>{facts}{allocation}</section>'


def _ranges(values: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` → ``"0–2, 5"``."""
    parts: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)


def _schedule(report: RunReport) -> str:
    s = report.schedule
    if s is None:
        return ""
    links = sorted(s.link_usage, key=lambda lu: (-lu.ebits, lu.u, lu.v))
    link_table = ""
    if links:
        shown = links[:MAX_TABLE_ROWS]
        link_table = "<h3>Link usage</h3>" + _table(
            ["link", "EPR pairs", "busy (µs)"],
            [[f"{lu.u}–{lu.v}", lu.ebits, lu.busy_us] for lu in shown],
            numeric=2,
        )
        if len(links) > len(shown):
            link_table += f'<p class="note">showing {len(shown)} of {len(links)} links</p>'
    return (
        f'<section id="schedule"><h2>Schedule</h2>'
        f'<p class="sub">makespan {esc(fmt(s.makespan_us))} µs</p>'
        f"<h3>Node utilisation</h3>{_plot(utilisation_plot(s), 'no utilisation recorded')}"
        f"<h3>Timeline</h3>{_plot(timeline_plot(s), 'no timeline recorded')}"
        f"{link_table}</section>"
    )


def _execution(report: RunReport) -> str:
    e = report.execution
    if e is None:
        return ""
    parts = [
        _table(
            ["backend", "device", "seed", "fallback", "verified", "shots", "time (s)"],
            # The seed is an identifier to copy into --seed, not a quantity to round.
            [[e.backend, e.device, _seed(e.seed), e.fallback, e.verified, e.shots, e.time_s]],
            numeric=2,
        )
    ]
    if e.fallback:
        reason = e.fallback_reason or "the backend failed"
        parts.append(
            f'<p class="error">Fallback: this result comes from the local simulator '
            f"({esc(reason)}).</p>"
        )
    if e.proof is not None:
        parts.append(_proof(e.proof))
    elif e.verification:
        parts.append(
            "<h3>Verification</h3>"
            + _table(["measure", "value"], sorted(e.verification.items()), numeric=1)
        )
    parts.append("<h3>Counts</h3>" + _plot(counts_plot(e.counts, e.mitigated), "no counts"))
    if e.expectation_values:
        parts.append(
            "<h3>Expectation values</h3>"
            + _table(["observable", "value"], sorted(e.expectation_values.items()), numeric=1)
        )
    return f'<section id="execution"><h2>Execution</h2>{"".join(parts)}</section>'


def _proof(proof: VerificationSummary) -> str:
    """What the verification proved: the verdict, the inputs it covers, the distance."""
    if proof.verified is None:
        verdict = "not checked"
    else:
        verdict = "verified" if proof.verified else "NOT verified"
    rows: list[list[object]] = [
        ["verdict", verdict],
        ["method", proof.method],
        ["inputs covered", proof.scope or proof.inputs],
        ["proved", proof.proved],
    ]
    if proof.distance is not None:
        rows.append(["distance", f"{proof.distance:.3g}"])
    if proof.bound is not None:
        rows.append(["largest distance accepted", f"{proof.bound:.3g}"])
    if proof.false_accept_probability is not None:
        rows.append(["false-accept probability", f"<= {proof.false_accept_probability:.3g}"])
    css = "" if proof.verified is not False else ' class="error"'
    return f'<h3 id="verification"{css}>Verification</h3>' + _table(["", ""], rows)


def _mitigation(report: RunReport) -> str:
    m = report.mitigation
    if m is None or (not m.readout and not m.zne):
        return ""
    parts = []
    if m.readout:
        shots = f" ({m.readout_shots} shots per calibration circuit)" if m.readout_shots else ""
        parts.append(
            f"<h3>Readout calibration{esc(shots)}</h3>"
            + _table(
                ["node", "qubit", "p(1|0)", "p(0|1)"],
                [[r.node, r.qubit, r.prob_meas1_prep0, r.prob_meas0_prep1] for r in m.readout],
                numeric=2,
            )
        )
    if m.zne:
        rows = [
            [
                " + ".join(f"{fmt(c)}·{label}" for label, c in z.observable.items()),
                f"{z.method}, {z.folding} folding",
                ", ".join(fmt(s) for s in z.achieved_scales),
                z.raw_value,
                z.value,
            ]
            for z in m.zne
        ]
        parts.append(
            "<h3>Zero-noise extrapolation</h3>"
            + _table(["observable", "method", "scales", "raw", "mitigated"], rows, numeric=2)
        )
    return f'<section id="mitigation"><h2>Mitigation</h2>{"".join(parts)}</section>'


def _metrics(report: RunReport) -> str:
    m = report.metrics
    parts = []
    if m.stage_seconds:
        parts.append(
            "<h3>Stage timings</h3>"
            + _table(["stage", "seconds"], list(m.stage_seconds.items()), numeric=1)
        )
    resources = [
        ("throughput (shots/s)", m.throughput_shots_per_s),
        ("CPU (%)", m.cpu_percent),
        ("peak memory (bytes)", m.peak_memory_bytes),
    ]
    shown = [(k, v) for k, v in resources if v is not None]
    if shown:
        parts.append("<h3>Resources</h3>" + _table(["metric", "value"], shown, numeric=1))
    if m.error_rates:
        parts.append(
            "<h3>Error rates</h3>"
            + _table(["error", "rate"], sorted(m.error_rates.items()), numeric=1)
        )
    if m.recoveries:
        parts.append(
            "<h3>Recoveries</h3>"
            + _table(
                ["stage", "error", "attempt", "action", "reason"],
                [[r.stage or "—", r.error, r.attempt, r.action, r.reason] for r in m.recoveries],
            )
        )
    if m.faults_injected:
        parts.append(
            "<h3>Injected faults</h3>"
            + _table(
                ["fault", "kind", "stage", "message"],
                [
                    [f.get("fault", "?"), f.get("kind", "?"), f.get("stage", "?"), f.get("message")]
                    for f in m.faults_injected
                ],
            )
        )
    if m.extra:
        text = json.dumps(m.extra, indent=2, sort_keys=True, default=str)
        parts.append(f"<h3>Other metrics</h3><pre>{esc(text)}</pre>")
    if not parts:
        return ""
    return f'<section id="metrics"><h2>Metrics</h2>{"".join(parts)}</section>'


def _notes_and_config(report: RunReport) -> str:
    notes = ""
    if report.notes:
        items = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
        notes = f'<section id="notes"><h2>Notes</h2><ul>{items}</ul></section>'
    settings = json.dumps(report.config.settings, indent=2, sort_keys=True, default=str)
    config = (
        '<section id="configuration"><h2>Configuration</h2>'
        f"<p>allocator <code>{esc(report.config.allocator)}</code>, backend "
        f"<code>{esc(report.config.backend)}</code></p>"
        f"<details><summary>Full configuration</summary><pre>{esc(settings)}</pre></details>"
        "</section>"
    )
    return notes + config


def render_html(report: RunReport) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    body = "".join(
        [
            _header(report),
            _summary(report),
            _network(report),
            _plan(report),
            _schedule(report),
            _execution(report),
            _mitigation(report),
            _metrics(report),
            _notes_and_config(report),
            f"<footer>Generated by qdframe {esc(report.qdframe_version)}; the data is in "
            "report.json beside this page.</footer>",
        ]
    )
    title = f"qdframe run {report.run_id}: {report.circuit.name}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
