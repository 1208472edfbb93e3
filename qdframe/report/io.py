"""Writing, reading and re-rendering the report files of a run directory.

A run directory holds ``report.json`` (the :class:`RunReport`) and
``report.html`` (its page). Both are written atomically: to a temporary file in
the same directory, flushed to disk, then renamed over the old one, so a
reader never sees half a report, even if the process dies while writing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from qdframe.errors import EXIT_USAGE, QdframeError
from qdframe.files import atomic_write_text
from qdframe.report.html import render_html
from qdframe.report.model import SCHEMA_VERSION, RunReport

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "ReportError",
    "load_report",
    "rerender",
    "write_report",
]

#: File names inside a run directory.
JSON_NAME = "report.json"
HTML_NAME = "report.html"


class ReportError(QdframeError):
    """A report file is missing, unreadable, malformed or from a newer qdframe."""

    exit_code = EXIT_USAGE


def write_report(run_dir: str | os.PathLike[str], report: RunReport) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``run_dir`` (created if missing).

    :returns: the paths of the JSON file and the HTML page.
    """
    directory = Path(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / JSON_NAME, directory / HTML_NAME
    atomic_write_text(json_path, report.model_dump_json(indent=2) + "\n")
    atomic_write_text(html_path, render_html(report))
    return json_path, html_path


def _json_path(location: str | os.PathLike[str]) -> Path:
    path = Path(location)
    if path.is_dir():
        return path / JSON_NAME
    if path.suffix == ".json" or path.exists():
        return path
    raise ReportError(
        f"{path} is not a run directory: it does not exist "
        f"(give the directory of a run, which holds {JSON_NAME})"
    )


def load_report(location: str | os.PathLike[str]) -> RunReport:
    """Read the report of a run directory (or a ``report.json`` path).

    :raises ReportError: the file is missing or unreadable, is not JSON, does not
        match the report layout (the message names the fields), or was written
        with a newer schema version than this qdframe reads.
    """
    path = _json_path(location)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(
            f"no report at {path}: the run has not written one yet (a run writes "
            f"{JSON_NAME} when its analyze stage finishes)"
        ) from None
    except OSError as exc:
        raise ReportError(f"cannot read report {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"report {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReportError(f"report {path} must hold a JSON object, found {type(data).__name__}")
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ReportError(
            f"report {path} has schema version {version}, written by qdframe "
            f"{data.get('qdframe_version', '?')}; this qdframe reads versions up to "
            f"{SCHEMA_VERSION}: upgrade qdframe to read it"
        )
    try:
        return RunReport.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise ReportError(
            f"report {path} does not match the report layout: {problems}{more}"
        ) from None


def rerender(run_dir: str | os.PathLike[str]) -> Path:
    """Re-create ``report.html`` from the ``report.json`` of ``run_dir``.

    :returns: the path of the HTML page, beside the JSON file.
    :raises ReportError: see :func:`load_report`.
    """
    report = load_report(run_dir)
    html_path = _json_path(run_dir).with_name(HTML_NAME)
    atomic_write_text(html_path, render_html(report))
    return html_path
