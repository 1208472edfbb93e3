"""The dashboard page: one self-contained HTML document with an inline SVG chart.

No scripts, fonts or style sheets are loaded from anywhere; the page works
offline and under a ``default-src 'none'`` content security policy.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from html import escape

from qdframe.network.server.view import SystemSummary

__all__ = ["CONTENT_SECURITY_POLICY", "histogram", "render_dashboard"]

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1d2330}
h1{font-size:1.4rem;margin:0 0 .2rem} p.meta{color:#5b6475;margin:0 0 1.5rem}
table{border-collapse:collapse;width:100%;margin-bottom:2rem;font-size:.92rem}
th,td{padding:.45rem .6rem;border-bottom:1px solid #e3e6ec;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f4f6f9}
td.pending{color:#8a6d00} td.published{color:#17663a} td.when{white-space:nowrap}
code{background:#f4f6f9;padding:0 .25rem;border-radius:3px}
svg text{font-size:11px;fill:#5b6475} rect.bar{fill:#3b6fd8}
"""


def histogram(
    values: Sequence[float], *, width: float = 5.0, max_bins: int = 40
) -> list[tuple[float, float, int]]:
    """Bins ``(low, high, count)`` covering ``values``, ``width`` wide (wider if needed)."""
    if not values:
        return []
    low = math.floor(min(values) / width) * width
    high = math.ceil(max(values) / width) * width
    if high <= low:
        high = low + width
    while (high - low) / width > max_bins:
        width *= 2
        low = math.floor(min(values) / width) * width
        high = math.ceil(max(values) / width) * width
    count = max(1, round((high - low) / width))
    bins = [0] * count
    for value in values:
        index = min(count - 1, int((value - low) // width))
        bins[index] += 1
    return [(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(bins)]


def _chart(values: Sequence[float]) -> str:
    bins = histogram(values)
    if not bins:
        return '<p class="empty">No contributions yet.</p>'
    width, height, pad = 640, 220, 32
    tallest = max(n for _, _, n in bins)
    bar_w = (width - 2 * pad) / len(bins)
    parts = [
        f'<svg id="savings-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height + 24}" role="img" aria-label="Distribution of savings">',
        f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" stroke="#9aa3b2"/>',
    ]
    for i, (lo, hi, n) in enumerate(bins):
        h = 0.0 if tallest == 0 else (height - pad) * n / tallest
        x = pad + i * bar_w
        parts.append(
            f'<rect class="bar" data-count="{n}" data-low="{lo:g}" data-high="{hi:g}" '
            f'x="{x + 1:.1f}" y="{height - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}"><title>{lo:g}% to {hi:g}%: {n}</title></rect>'
        )
    step = max(1, len(bins) // 8)
    for i in range(0, len(bins) + 1, step):
        label = bins[0][0] + i * (bins[0][1] - bins[0][0])
        parts.append(
            f'<text x="{pad + i * bar_w:.1f}" y="{height + 16}" text-anchor="middle">'
            f"{label:g}%</text>"
        )
    parts.append(f'<text x="{pad}" y="14">installations (max {tallest})</text></svg>')
    return "".join(parts)


def _row(summary: SystemSummary, min_contributors: int) -> str:
    published = summary.published
    status = (
        '<td class="published">published</td>'
        if published is not None
        else f'<td class="pending">pending ({summary.contributors}/{min_contributors})</td>'
    )
    savings = (
        f"{published.average_savings:.1f}%"
        if published is not None
        else ("—" if summary.median_savings is None else f"({summary.median_savings:.1f}%)")
    )
    rate = f"{published.quantum_advantage_rate:.0%}" if published is not None else "—"
    updated = (
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(published.last_updated))
        if published is not None
        else "—"
    )
    settings = (
        ", ".join(
            f"<code>{escape(k)}={escape(json.dumps(v))}</code>"
            for k, v in sorted(published.recommended_settings.items())
        )
        if published is not None and published.recommended_settings
        else "—"
    )
    return (
        f'<tr data-system="{escape(summary.system_type)}"><td>{escape(summary.system_type)}</td>'
        f"{status}<td>{savings}</td><td>{summary.contributions}</td>"
        f'<td>{summary.contributors}</td><td>{rate}</td><td class="when">{updated}</td>'
        f'<td style="text-align:left">{settings}</td></tr>'
    )


def render_dashboard(
    *,
    qdframe_version: str,
    versions: Sequence[str],
    summaries: Sequence[SystemSummary],
    contributor_medians: Sequence[float],
    min_contributors: int,
) -> str:
    """The dashboard for one qdframe version."""
    rows = "".join(_row(s, min_contributors) for s in summaries) or (
        '<tr><td colspan="8">No system has contributed for this version yet.</td></tr>'
    )
    other = [v for v in versions if v != qdframe_version]
    links = (
        " Other versions: "
        + ", ".join(f'<a href="?qdframe_version={escape(v)}">{escape(v)}</a>' for v in other)
        if other
        else ""
    )
    installs = len(contributor_medians)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>qdframe sharing network</title><style>{_STYLE}</style></head><body>"
        "<h1>qdframe optimization-sharing network</h1>"
        f'<p class="meta">qdframe {escape(qdframe_version)} · {len(summaries)} system type(s) · '
        f"a system is published after {min_contributors} installation(s) contributed.{links}</p>"
        '<table id="systems"><thead><tr><th>System type</th><th>Status</th>'
        "<th>Savings (time)</th><th>Contributions</th><th>Installations</th>"
        "<th>Faster than defaults</th><th>Last update (UTC)</th><th>Recommended settings</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        f"<h2>Savings per installation ({installs})</h2>{_chart(contributor_medians)}"
        "</body></html>"
    )
