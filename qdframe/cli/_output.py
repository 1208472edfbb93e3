"""Shared output and error handling for CLI commands.

Every command that prints data accepts ``--json``; with it, exactly one JSON
document goes to stdout and nothing else does. Errors go to stderr as one
message, never a traceback, with the documented exit codes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from qdframe.errors import EXIT_FAILURE, EXIT_USAGE, QdframeError

__all__ = [
    "JSON_OPTION",
    "console",
    "err_console",
    "exit_with",
    "friendly_errors",
    "print_json",
]

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (and nothing else)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default, sort_keys=False) + "\n")


def exit_with(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn qdframe errors into one-line messages with their exit codes."""
    try:
        yield
    except QdframeError as exc:
        exit_with(str(exc), exc.exit_code)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        exit_with(f"{exc.strerror}: {exc.filename}", EXIT_USAGE)


def command_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of :func:`friendly_errors` for typer commands."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with friendly_errors():
            return fn(*args, **kwargs)

    return wrapper
