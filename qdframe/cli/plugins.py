"""``qdframe plugins``: what is installed and what each plugin registered."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from qdframe.cli._output import JSON_OPTION, command_errors, console, err_console, print_json
from qdframe.plugins import LoadedPlugins, load_plugins
from qdframe.registry import CATEGORIES

__all__ = ["app", "plugins_report"]

app = typer.Typer(help="Inspect installed plugins.", no_args_is_help=True)


def plugins_report(loaded: LoadedPlugins) -> dict[str, Any]:
    """The data behind ``qdframe plugins list``: loaded, failed and blocked plugins."""
    registries = loaded.registries  # collect first: registration failures join the list
    plugins = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "module": info.module,
            "registered": loaded.registered_by(info.name),
        }
        for info in loaded.plugins
    ]
    return {
        "plugins": plugins,
        "failed": [
            {"name": f.name, "distribution": f.distribution, "cause": f.cause}
            for f in loaded.failures
        ],
        "blocked": loaded.blocked,
        "registries": {
            category: registries.by_category(category).names() for category in CATEGORIES
        },
    }


@app.command("list")
@command_errors
def list_plugins(json_output: bool = JSON_OPTION) -> None:
    """List loaded plugins with their distribution and what each registered.

    Plugins that failed to load are listed with the cause; blocked plugins
    (QDFRAME_DISABLE_PLUGINS or [integration] disabled_plugins) are named.
    """
    report = plugins_report(load_plugins())
    if json_output:
        print_json(report)
        return
    table = Table(title="qdframe plugins", show_lines=False)
    table.add_column("plugin", style="bold")
    table.add_column("distribution")
    table.add_column("registered")
    for plugin in report["plugins"]:
        registered = "; ".join(
            f"{category}: {', '.join(names)}" for category, names in plugin["registered"].items()
        )
        table.add_row(
            plugin["name"],
            f"{plugin['distribution']} {plugin['version']}".strip(),
            registered or "[dim](hooks only)[/]",
        )
    console.print(table)
    for name in report["blocked"]:
        console.print(f"[yellow]blocked:[/] {name}")
    for failure in report["failed"]:
        err_console.print(
            f"[red]failed:[/] {failure['name']} ({failure['distribution']}): {failure['cause']}",
            soft_wrap=True,
        )
