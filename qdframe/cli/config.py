"""``qdframe config``: validate and show configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w
import typer

from qdframe.cli._output import JSON_OPTION, command_errors, console, print_json
from qdframe.config import SystemConfig, load_config
from qdframe.errors import ConfigError
from qdframe.plugins import LoadedPlugins, default_plugins

__all__ = ["app", "check_names"]

app = typer.Typer(help="Validate and show configuration.", no_args_is_help=True)

_FILE_ARG = typer.Argument(..., help="A TOML configuration file.", show_default=False)


def check_names(config: SystemConfig, source: str, plugins: LoadedPlugins) -> None:
    """Check that names in ``config`` refer to registered plugins objects.

    :raises ConfigError: naming the key path and the registered names.
    """
    registries = plugins.registries
    checks: list[tuple[str, str, Any, set[str]]] = [
        (
            "distributed.network_topology",
            config.distributed.network_topology,
            registries.topologies,
            set(),
        ),
        ("distributed.allocator", config.distributed.allocator, registries.allocators, {"auto"}),
        ("acceleration.backend", config.acceleration.backend, registries.backends, {"auto"}),
        ("resources.executor", config.resources.executor, registries.executors, set()),
    ]
    for key_path, value, registry, extra in checks:
        # An empty category means its plugin is not installed (or blocked); the
        # name is checked when the first object is actually created.
        if value in extra or not len(registry) or value in registry:
            continue
        allowed = ", ".join(sorted({*registry.names(), *extra}))
        raise ConfigError(
            f"unknown name {value!r}", source=source, key_path=key_path, allowed=allowed
        )


def _dump(config: SystemConfig) -> dict[str, Any]:
    data: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    return data


@app.command("validate")
@command_errors
def validate(file: Path = _FILE_ARG, json_output: bool = JSON_OPTION) -> None:
    """Check FILE; exit 2 with the key path and the allowed values when it is invalid."""
    config = load_config(file)
    check_names(config, str(file), default_plugins())
    if json_output:
        print_json({"file": str(file), "valid": True})
    else:
        console.print(f"[green]ok[/] {file} is a valid qdframe configuration")


@app.command("show")
@command_errors
def show(
    file: Path | None = typer.Argument(None, help="A TOML file; the defaults when omitted."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Print the effective configuration (FILE + QDFRAME_* overrides + defaults) as TOML."""
    config = load_config(file)
    if json_output:
        print_json(_dump(config))
    else:
        typer.echo(tomli_w.dumps(_dump(config)), nl=False)
