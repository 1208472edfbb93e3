"""A real browser renders the report page and paints its plots (headless Chromium)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from qdframe.report import RunReport, write_report
from qdframe.report.example import example_report
from qdframe.report.svg import viridis

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_NODE_FILL = (0x1F, 0x4E, 0x79)  # nodes that host circuit qubits


def _browser() -> str:
    configured = os.environ.get("QDFRAME_CHROMIUM")
    if configured:
        return configured
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "headless Chromium is not installed (Debian: apt-get install chromium, or set "
        "QDFRAME_CHROMIUM to a Chromium binary); the page is checked in a real browser only "
        "where one is available"
    )


def _run_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def report() -> RunReport:
    return example_report(seed=4)


@pytest.fixture
def page_url(tmp_path: Path, report: RunReport) -> str:
    _, html_path = write_report(tmp_path / "run", report)
    return html_path.as_uri()


def test_the_browser_builds_every_plot_into_the_dom(
    tmp_path: Path, page_url: str, report: RunReport
) -> None:
    dom = _run_browser(tmp_path, "--dump-dom", page_url).stdout
    assert report.topology is not None and report.schedule is not None
    # The DOM is what the browser parsed: count SVG shapes per plot.
    plots = {
        plot_id: dom.split(f'id="{plot_id}"', 1)[1].split("</svg>", 1)[0]
        for plot_id in ("plot-topology", "plot-utilisation", "plot-timeline", "plot-counts")
        if f'id="{plot_id}"' in dom
    }
    assert set(plots) == {"plot-topology", "plot-utilisation", "plot-timeline", "plot-counts"}
    assert plots["plot-topology"].count('class="node"') == len(report.topology.nodes)
    assert plots["plot-topology"].count('class="link"') == len(report.topology.edges)
    assert plots["plot-utilisation"].count('class="bar"') == len(report.schedule.node_utilisation)
    assert plots["plot-timeline"].count('class="interval"') == len(report.schedule.timeline)
    assert plots["plot-counts"].count('class="bar"') > 0


def _decode_png(data: bytes) -> np.ndarray:
    """RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    position, compressed = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            compressed += chunk
    assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
    channels = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8).reshape(height, -1)
    image = np.zeros((height, width * channels), dtype=np.uint8)
    previous = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind, row = int(raw[y, 0]), raw[y, 1:].astype(np.int32)
        if kind == 0:
            out = row
        elif kind == 1:  # Sub: running sum per channel
            out = np.cumsum(row.reshape(width, channels), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            out = (row + previous) % 256
        else:  # Average or Paeth: each byte depends on the one decoded to its left
            out = np.zeros_like(row)
            r, up = row.tolist(), previous.tolist()
            decoded = [0] * len(r)
            for i in range(len(r)):
                left = decoded[i - channels] if i >= channels else 0
                if kind == 3:
                    decoded[i] = (r[i] + (left + up[i]) // 2) % 256
                else:
                    corner = up[i - channels] if i >= channels else 0
                    estimate = left + up[i] - corner
                    pa, pb, pc = abs(estimate - left), abs(estimate - up[i]), abs(estimate - corner)
                    best = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else corner)
                    decoded[i] = (r[i] + best) % 256
            out = np.array(decoded, dtype=np.int32)
        image[y] = out
        previous = out
    return image.reshape(height, width, channels)[:, :, :3]


@pytest.mark.slow  # decoding the screenshot in pure Python takes a few seconds
def test_the_browser_paints_the_plots(tmp_path: Path, page_url: str, report: RunReport) -> None:
    shot = tmp_path / "report.png"
    _run_browser(tmp_path, "--window-size=900,1000", f"--screenshot={shot}", page_url)
    pixels = _decode_png(shot.read_bytes())
    assert pixels.shape == (1000, 900, 3)
    colours = Counter(map(tuple, pixels.reshape(-1, 3).tolist()))
    assert len(colours) > 50  # text, lines and fills, not a blank page
    assert sum(c for rgb, c in colours.items() if rgb != (255, 255, 255)) > 0.02 * 900 * 1000
    # The topology plot is near the top: its node discs and its busiest link show.
    assert colours[_NODE_FILL] > 100
    busiest = viridis(1.0)
    rgb = tuple(int(busiest[i : i + 2], 16) for i in (1, 3, 5))
    assert colours[rgb] > 20
