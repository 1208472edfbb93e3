"""``qdframe network``: status, sync, contribute, apply, and serve the sharing network.

Every command takes ``--config`` (a qdframe TOML file; its ``[network]`` table
names the servers) and ``--cache-dir`` (where the cache, outbox and install
token live), so that separate installations can be simulated on one machine.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qdframe.cli._output import JSON_OPTION, command_errors, console, exit_with, print_json
from qdframe.config import SystemConfig, load_config
from qdframe.errors import EXIT_FAILURE, EXIT_USAGE

__all__ = ["app", "build_client", "network_logging"]

app = typer.Typer(
    help="The optimization-sharing network: fetch, apply and contribute tuned settings.",
    no_args_is_help=True,
)

CONFIG_OPTION = typer.Option(
    None,
    "--config",
    "-c",
    help="qdframe TOML configuration (its network table names the servers).",
    dir_okay=False,
)
CACHE_DIR_OPTION = typer.Option(
    None,
    "--cache-dir",
    help="Directory for the cache, outbox, install token and tuning result "
    "(default: the directory of network.local_cache_file).",
    file_okay=False,
)
SERVER_OPTION = typer.Option(
    None,
    "--server",
    help="Server URL; repeat for backups (overrides network.primary_server and backup_servers).",
)
SYSTEM_OPTION = typer.Option(
    None, "--system-type", help="Act as this HAL system type instead of the detected one."
)
_RESULT_OPTION = typer.Option(
    None,
    "--result",
    help="Tuning result to send (default: the last `qdframe tune`).",
    dir_okay=False,
)
_WHITELIST_OPTION = typer.Option(
    None,
    "--whitelist",
    help="Accept another qdframe version's settings (from `qdframe network whitelist --json`); "
    "repeatable.",
    exists=True,
    dir_okay=False,
)
_PEER_OPTION = typer.Option(
    None, "--peer", help="Another server of the network (shown as a backup); repeatable."
)


class _StderrHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        sys.stderr.write(f"{prefix}{record.getMessage()}\n")


@contextlib.contextmanager
def network_logging(*, quiet: bool = False) -> Iterator[None]:
    """Show the client's messages on stderr (only warnings when ``quiet``)."""
    handler = _StderrHandler(logging.WARNING if quiet else logging.INFO)
    loggers = [logging.getLogger("qdframe.network"), logging.getLogger("qdframe.tuning")]
    previous = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    try:
        yield
    finally:
        for lg, level, propagate in previous:
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate


def _load(config: Path | None) -> SystemConfig:
    return load_config(config)


def build_client(
    system_config: SystemConfig,
    *,
    cache_dir: Path | None = None,
    servers: list[str] | None = None,
    system_type: str | None = None,
) -> Any:
    """The network client for these command-line options."""
    from qdframe.network.client import DistributedOptimizationNetwork

    network = system_config.network
    if servers:
        network = network.model_copy(
            update={"primary_server": servers[0], "backup_servers": list(servers[1:])}
        )
    return DistributedOptimizationNetwork(network, cache_dir=cache_dir, system_type=system_type)


def _when(timestamp: int | None) -> str:
    if not timestamp:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _show(value: Any) -> str:
    return json.dumps(value)


def _print_status(data: dict[str, Any], queued: int) -> None:
    ns = data["network_status"]
    current = data["current_system"]
    servers = data["servers"]
    say = functools.partial(console.print, markup=False, highlight=False)
    enabled = "enabled" if ns["enabled"] else "disabled (opt in with enabled = true in [network])"
    reachable = "reachable" if ns["network_available"] else "not reachable"
    say(f"Network: {enabled}; servers {reachable}")
    say("Servers: " + ", ".join([servers["primary"], *servers["backups"]]))
    say(f"Last sync: {_when(ns['last_sync'])}; cached system types: {ns['cached_optimizations']}")
    say(f"This system: {current['type']}")
    data_for = current.get("optimization_data")
    if not data_for:
        say(f"No shared optimizations found for system type: {current['type']}")
    else:
        level = current.get("match_level")
        note = "" if level == "exact" else f" (closest match, level: {level})"
        say(
            f"Shared data: {data_for['system_type']}{note}: {data_for['average_savings']:.1f}% "
            f"faster (time) from {data_for['contributor_count']} installation(s), "
            f"{data_for['optimization_count']} contribution(s)"
        )
        table = Table("Setting", "Recommended", title="Recommended settings")
        for key, value in sorted(data_for["recommended_settings"].items()):
            table.add_row(key, _show(value))
        console.print(table)
        if data_for["process_optimizations"]:
            per = Table("Workload", "Savings", "Installations", "Settings", title="Per workload")
            for name, entry in sorted(data_for["process_optimizations"].items()):
                settings = ", ".join(
                    f"{k}={_show(v)}" for k, v in sorted(entry["recommended_settings"].items())
                )
                per.add_row(
                    name,
                    f"{entry['average_savings']:.1f}%",
                    str(entry["contributor_count"]),
                    settings,
                )
            console.print(per)
    if queued:
        say(f"Contributions waiting in the outbox: {queued}")


@app.command()
@command_errors
def status(
    config: Path | None = CONFIG_OPTION,
    cache_dir: Path | None = CACHE_DIR_OPTION,
    server: list[str] | None = SERVER_OPTION,
    system_type: str | None = SYSTEM_OPTION,
    offline: bool = typer.Option(False, "--offline", help="Show the cache; contact no server."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Show the network status and the shared data for this system."""
    client = build_client(
        _load(config), cache_dir=cache_dir, servers=server, system_type=system_type
    )
    with network_logging(quiet=json_output):
        result = client.status(refresh=not offline)
    data = result.model_dump(mode="json")
    queued = len(client.outbox.entries())
    if json_output:
        data["outbox"] = queued
        print_json(data)
        return
    _print_status(data, queued)


@app.command()
@command_errors
def sync(
    config: Path | None = CONFIG_OPTION,
    cache_dir: Path | None = CACHE_DIR_OPTION,
    server: list[str] | None = SERVER_OPTION,
    system_type: str | None = SYSTEM_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Send queued contributions and fetch the latest shared optimizations.

    Exits with 1 when no server could be reached (the cache is kept).
    """
    client = build_client(
        _load(config), cache_dir=cache_dir, servers=server, system_type=system_type
    )
    with network_logging(quiet=json_output):
        result = client.sync()
    data = result.model_dump(mode="json")
    data["outbox"] = len(client.outbox.entries())
    if json_output:
        print_json(data)
    else:
        console.print(
            f"{data['message']}: {data['optimizations_fetched']} system type(s); "
            f"{data['outbox']} contribution(s) still queued"
        )
    if not result.success:
        raise typer.Exit(EXIT_FAILURE)


@app.command()
@command_errors
def contribute(
    config: Path | None = CONFIG_OPTION,
    cache_dir: Path | None = CACHE_DIR_OPTION,
    server: list[str] | None = SERVER_OPTION,
    result_file: Path | None = _RESULT_OPTION,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print exactly what would be sent, and send nothing."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Contribute the last tuning result, anonymously (see docs/privacy.md)."""
    from qdframe.network.actions import contribution_from_tuning, request_preview

    client = build_client(_load(config), cache_dir=cache_dir, servers=server)
    contribution = contribution_from_tuning(client, result_file)
    if dry_run:
        preview = request_preview(client, contribution)
        if json_output:
            print_json(preview)
        else:
            console.print(f"Would send to {preview['servers'][0]}{preview['path']} (POST):")
            for name, value in preview["headers"].items():
                console.print(f"  {name}: {value}", highlight=False)
            print_json(preview["body"])
            console.print("Nothing was sent (dry run).")
        return
    with network_logging(quiet=json_output):
        response = client.contribute_optimization(contribution)
    queued = response is None
    if json_output:
        print_json(
            {
                "sent": not queued,
                "queued": queued,
                "response": None if response is None else response.model_dump(mode="json"),
            }
        )
    elif queued:
        console.print(
            "No server reachable: the contribution waits in the outbox for the next sync."
        )
    else:
        assert response is not None
        data = response.contributed_data
        console.print(
            f"{response.message}: {data.time_savings:.1f}% time savings over "
            f"{data.processes_count} workload class(es)"
        )


@app.command("apply")
@command_errors
def apply_command(
    config: Path | None = CONFIG_OPTION,
    cache_dir: Path | None = CACHE_DIR_OPTION,
    server: list[str] | None = SERVER_OPTION,
    system_type: str | None = SYSTEM_OPTION,
    verify: bool = typer.Option(
        False, "--verify", help="A/B time shared against current settings; keep only if faster."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the changes; write nothing."),
    write_config: bool = typer.Option(
        False, "--write-config", help="Also write configuration fields into the --config file."
    ),
    offline: bool = typer.Option(False, "--offline", help="Use the cache; contact no server."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Apply the shared settings recommended for this system.

    Only settings this installation's plugins declare, and only those whose
    results this host checked (the tuner's correctness check) are applied.
    """
    from qdframe.network.actions import apply_shared
    from qdframe.plugins import default_plugins

    if write_config and config is None:
        exit_with("--write-config needs --config FILE", EXIT_USAGE)
    system_config = _load(config)
    client = build_client(
        system_config, cache_dir=cache_dir, servers=server, system_type=system_type
    )
    with network_logging(quiet=json_output):
        report = apply_shared(
            client,
            config=system_config,
            verify=verify,
            dry_run=dry_run,
            fetch=not offline,
            config_file=config if write_config else None,
            plugins=default_plugins() if verify else None,
        )
    if json_output:
        print_json(report.to_json())
        return
    if report.verification is not None:
        v = report.verification
        console.print(
            f"A/B timing: current {v.current_s * 1000:.1f} ms, shared {v.shared_s * 1000:.1f} ms "
            f"({v.gain:+.1%}); results {'agree' if v.agrees else 'differ'}"
        )
    for change in report.changes:
        if not change.applied:
            console.print(change.describe(), markup=False, highlight=False)
    console.print(report.reason)
    for path in report.written:
        console.print(f"Wrote {path}")


@app.command()
@command_errors
def whitelist(json_output: bool = JSON_OPTION) -> None:
    """Print the settings this qdframe may share and apply (for `serve --whitelist`)."""
    from qdframe.network.whitelist import Whitelist
    from qdframe.plugins import default_plugins

    document = Whitelist.from_plugins(default_plugins()).to_json()
    if json_output:
        print_json(document)
        return
    table = Table("Setting", "Choices", "Default", title=f"qdframe {document['qdframe_version']}")
    for key, entry in document["settings"].items():
        table.add_row(key, ", ".join(repr(c) for c in entry["choices"]), repr(entry.get("default")))
    console.print(table)


def _read_secret(path: Path) -> str:
    from qdframe.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the secret file: {exc}", source=str(path)) from None


@app.command()
@command_errors
def serve(
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL: sqlite:///file.db (default under ~/.local/share/qdframe) "
        "or postgresql+psycopg://user:password@host/dbname.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    min_contributors: int = typer.Option(
        3, "--min-contributors", min=1, help="Installations needed before data is published."
    ),
    whitelist_files: list[Path] | None = _WHITELIST_OPTION,
    rate_per_minute: float = typer.Option(
        30.0, "--rate-limit", min=0.001, help="Contributions per minute per installation."
    ),
    burst: int = typer.Option(30, "--burst", min=1, help="Contributions at once per installation."),
    max_body_bytes: int = typer.Option(
        64 * 1024, "--max-body-bytes", min=1024, help="Larger request bodies get 413."
    ),
    public_url: str | None = typer.Option(None, "--public-url", help="This server's address."),
    peer: list[str] | None = _PEER_OPTION,
    access_log: bool = typer.Option(
        False, "--access-log", help="Log method, path, status and time (never client addresses)."
    ),
    secret_file: Path | None = typer.Option(
        None,
        "--secret-file",
        help="File holding the key that signs installation identities (32+ characters); "
        "default: one created and kept in the database.",
        exists=True,
        dir_okay=False,
    ),
    pow_bits: int = typer.Option(
        0, "--pow-bits", min=0, max=24, help="Proof of work asked of each registration (bits)."
    ),
    registration_per_hour: float = typer.Option(
        10.0, "--registration-limit", min=0.001, help="Registrations per hour per client address."
    ),
    registration_burst: int = typer.Option(
        5, "--registration-burst", min=1, help="Registrations at once per client address."
    ),
    global_rate: float = typer.Option(
        6000.0,
        "--global-rate-limit",
        min=0.001,
        help="Contributions per minute from all installations together.",
    ),
    global_burst: int = typer.Option(
        1000, "--global-burst", min=1, help="Contributions at once from all installations."
    ),
    system_types: list[str] | None = typer.Option(
        None,
        "--system-type",
        help="Accept this system type besides the HAL profiles and generic types; repeatable.",
    ),
) -> None:
    """Run the sharing server (needs the `server` extra)."""
    try:
        from qdframe.network.server.run import serve as run_server
        from qdframe.network.server.settings import ServerSettings
        from qdframe.network.server.storage import check_database_url, default_database_url
    except ModuleNotFoundError as exc:
        exit_with(
            f'the server needs {exc.name}, which is not installed: pip install "qdframe[server]"',
            EXIT_USAGE,
        )
    from qdframe.network.whitelist import Whitelist

    url = db or default_database_url()
    check_database_url(url)
    whitelists = {w.qdframe_version: w for w in (Whitelist.load(p) for p in whitelist_files or [])}
    secret = _read_secret(secret_file) if secret_file is not None else None
    settings = ServerSettings(
        database_url=url,
        min_contributors=min_contributors,
        max_body_bytes=max_body_bytes,
        rate_per_minute=rate_per_minute,
        rate_burst=burst,
        whitelists=whitelists,
        public_url=public_url,
        peers=tuple(peer or ()),
        access_log=access_log,
        identity_secret=secret,
        pow_bits=pow_bits,
        registration_per_hour=registration_per_hour,
        registration_burst=registration_burst,
        global_rate_per_minute=global_rate,
        global_burst=global_burst,
        system_types=tuple(system_types or ()),
    )
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    sys.stderr.write(
        f"qdframe sharing server on http://{host}:{port} (database {shown}, "
        f"published after {min_contributors} installation(s))\n"
    )
    run_server(settings, host=host, port=port)
