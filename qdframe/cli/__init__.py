"""The ``qdframe`` command line.

:func:`main` is the console script. ``qdframe --version`` is answered here,
before Typer, the configuration models and the command modules are imported,
so asking for the version costs an interpreter start and little more.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the CLI (console-script entry point)."""
    if sys.argv[1:] == ["--version"]:
        from qdframe._version import __version__

        sys.stdout.write(f"qdframe {__version__}\n")
        return
    from qdframe.cli.main import main as full_main

    full_main()
