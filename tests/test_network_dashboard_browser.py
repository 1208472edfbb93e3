"""The dashboard renders in headless Chromium (skipped when no Chromium is installed)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")


import _network_fixtures as nf  # noqa: E402  (tests/ is on pytest's pythonpath)

CHROMIUM = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        if (found := shutil.which(name))
    ),
    None,
)

pytestmark = [
    pytest.mark.network,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (Debian: apt-get install chromium); "
        "the dashboard browser test needs it",
    ),
]


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def _png_has_ink(path: Path) -> bool:
    """Whether a PNG screenshot holds anything but one flat colour."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    raw = zlib.decompress(b"".join(chunks))
    assert depth == 8 and colour in (2, 6)
    # Distinct bytes across the decoded image: a blank page is one colour.
    return len(set(raw[: width * height * 4])) > 8


def test_dashboard_renders_in_headless_chromium(tmp_path: Path) -> None:
    with nf.thread_server(database_url=f"sqlite:///{tmp_path / 'd.db'}", min_contributors=2) as url:
        # Each contribution comes from its own registered installation.
        with httpx.Client(base_url=url, timeout=10) as client:
            for savings in (8.0, 14.0, 30.0):
                nf.post(client, system_type="apple_silicon_m2", savings=savings).raise_for_status()
            nf.post(client, system_type="intel_mac_i5", savings=2.0).raise_for_status()
        dom = _chromium("--dump-dom", f"{url}/", tmp_path=tmp_path)
        shot = tmp_path / "dashboard.png"
        image = _chromium(
            f"--screenshot={shot}", "--window-size=1100,900", f"{url}/", tmp_path=tmp_path
        )
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    rows = re.findall(r'<tr data-system="([a-z0-9_]+)"', html)
    assert rows == ["apple_silicon_m2", "intel_mac_i5"]
    assert "14.0%" in html  # the published median of 8, 14 and 30
    assert "pending (1/2)" in html
    bars = [int(n) for n in re.findall(r'<rect class="bar" data-count="(\d+)"', html)]
    assert sum(bars) == 4
    assert "<svg" in html and 'id="savings-chart"' in html
    assert image.returncode == 0, image.stderr[-2000:]
    assert shot.exists() and _png_has_ink(shot)
