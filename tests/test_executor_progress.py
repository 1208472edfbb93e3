"""The rich progress callback: drawn on a terminal, silent in pipes and with --json."""

from __future__ import annotations

import io

from qdframe_executors.local import LocalExecutor
from rich.console import Console

from qdframe.executors import progress_bar


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=100), buffer


def test_bar_shows_jobs_done_out_of_total_on_a_terminal() -> None:
    console, buffer = _console(terminal=True)
    with progress_bar("circuits", console=console) as callback:
        assert callback is not None
        with LocalExecutor(workers=2) as executor:
            executor.map(abs, range(-7, 0), progress=callback)
    text = buffer.getvalue()
    assert "circuits" in text
    assert "7/7" in text


def test_no_bar_when_not_a_terminal() -> None:
    console, buffer = _console(terminal=False)
    with progress_bar(console=console) as callback:
        assert callback is None
    assert buffer.getvalue() == ""


def test_no_bar_with_json_output_even_on_a_terminal() -> None:
    console, buffer = _console(terminal=True)
    with progress_bar(console=console, json_output=True) as callback:
        assert callback is None
    assert buffer.getvalue() == ""


def test_enabled_overrides_terminal_detection() -> None:
    console, buffer = _console(terminal=False)
    with progress_bar("shots", console=console, enabled=True) as callback:
        assert callback is not None
        callback(0, 4)
        callback(4, 4)
    assert "4/4" in buffer.getvalue()
