"""Entry point of the ``qdframe`` command.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

import importlib
import logging

import typer

from qdframe._version import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="qdframe",
    help=(
        "Plan, run and verify quantum circuits on networks of small quantum processors.\n\n"
        "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Sub-command groups, each in its own module exposing ``app`` (a typer.Typer)
# or ``register(app)`` for top-level commands. Listed as data so a group that
# needs an optional extra can fail with a clear message instead of at import.
_GROUPS: tuple[tuple[str, str], ...] = (
    ("plugins", "qdframe.cli.plugins"),
    ("hal", "qdframe.cli.hal"),
    ("config", "qdframe.cli.config"),
    ("network", "qdframe.cli.network"),
)
_COMMAND_MODULES: tuple[str, ...] = ("qdframe.cli.plan", "qdframe.cli.run", "qdframe.cli.tune")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"qdframe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the qdframe version and exit.",
    ),
) -> None:
    """Plan, run and verify quantum circuits on networks of small quantum processors."""
    # Library warnings (a plugin that failed to load, a GPU fallback) reach the
    # user as one plain line on stderr, never mixed into --json output.
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)


def _install_groups() -> None:
    for name, module_name in _GROUPS:
        module = importlib.import_module(module_name)
        app.add_typer(module.app, name=name)
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    from qdframe.cli._help import hide_flag_metavars

    hide_flag_metavars(app)


_install_groups()


def main() -> None:
    """Run the CLI (console-script entry point).

    A usage error (an unknown option, a value of the wrong type) is one line
    on stderr and exit code 2, like every other invalid input.
    """
    import sys

    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    except typer.TyperException as exc:  # click's usage errors, as typer vendors them
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        format_message = getattr(exc, "format_message", None)
        text = format_message() if callable(format_message) else str(exc)
        message = " ".join(str(text).split())
        if message:  # empty when the error was to show the help, already printed
            typer.echo(f"error: {where}{message}{hint}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)
