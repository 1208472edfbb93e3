"""``qdframe hal``: this host's hardware, its profile and the backend chosen for it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.table import Table

from qdframe.cli._output import JSON_OPTION, command_errors, console, print_json
from qdframe.errors import ConfigError, QdframeError, RegistryError

if TYPE_CHECKING:
    from qdframe_hal.capacity import Precision

__all__ = ["app", "detect_report", "profiles_report"]

app = typer.Typer(help="Hardware detection, profiles and backend selection.", no_args_is_help=True)

_GIB = 2**30

_REPLAY_OPTION = typer.Option(
    None,
    "--replay",
    help=(
        "Detect from a recording (made by `qdframe hal record`) instead of this machine; "
        "the backends considered are still this installation's."
    ),
    exists=True,
    dir_okay=False,
)
_SYSTEM_TYPE_ARG = typer.Argument(..., help="A system type from `qdframe hal profiles`.")
_OUTPUT_ARG = typer.Argument(..., help="File to write, or '-' for standard output.")


def detect_report(
    *,
    replay: Path | None = None,
    qubits: int = 20,
    precision: str | None = None,
    gpu: bool | None = None,
) -> dict[str, Any]:
    """The data behind ``qdframe hal detect``: host, matched profile and backend choice."""
    from qdframe.plugins import default_plugins
    from qdframe_hal import (
        BackendRequirements,
        RecordedRunner,
        detect_host,
        match_profile,
        profile_entries,
        select_backend,
    )

    plugins = default_plugins()
    runner = RecordedRunner.from_toml(replay) if replay is not None else None
    host = detect_host(runner)
    entries = profile_entries(plugins)
    match = match_profile(host, [e.profile for e in entries])
    source = next(e.source for e in entries if e.profile is match.profile)
    settings = match.effective.recommended_settings
    chosen_precision = precision or str(settings.get("acceleration.precision", "complex128"))
    if chosen_precision not in ("complex64", "complex128"):
        raise ConfigError(
            f"unknown precision {chosen_precision!r}",
            key_path="--precision",
            allowed="complex64, complex128",
        )
    prefer_gpu = bool(settings.get("acceleration.use_gpu", False)) if gpu is None else gpu
    requirements = BackendRequirements(
        num_qubits=qubits, precision=cast("Precision", chosen_precision), prefer_gpu=prefer_gpu
    )
    backend: dict[str, Any] = {"requirements": requirements.model_dump(mode="json")}
    try:
        choice = select_backend(requirements, plugins=plugins, host=host)
    except QdframeError as exc:
        backend.update(name=None, error=str(exc))
    else:
        backend.update(name=choice.backend, **choice.model_dump(mode="json", exclude={"backend"}))
    return {
        "host": host.model_dump(mode="json"),
        "match": {
            "level": match.level,
            "score": match.score,
            "system_type": match.profile.system_type,
            "source": source,
            "variant": match.variant,
            "reason": match.reason,
        },
        "profile": match.effective.model_dump(mode="json"),
        "backend": backend,
    }


def profiles_report() -> list[dict[str, Any]]:
    """The data behind ``qdframe hal profiles``: one row per known profile."""
    from qdframe.plugins import default_plugins
    from qdframe_hal import profile_entries

    return [
        {
            "system_type": e.profile.system_type,
            "family": e.profile.family,
            "vendor": e.profile.vendor,
            "os": e.profile.os,
            "cpu_arch": e.profile.cpu_arch,
            "cpu_model": e.profile.cpu_model,
            "performance_cores": e.profile.performance_cores,
            "efficiency_cores": e.profile.efficiency_cores,
            "cores": e.profile.cores,
            "memory_bytes": e.profile.memory_bytes,
            "memory_options_bytes": list(e.profile.memory_options_bytes),
            "gpus": [g.name for g in e.profile.gpus],
            "source": e.source,
        }
        for e in profile_entries(default_plugins())
    ]


@app.command("detect")
@command_errors
def detect(
    json_output: bool = JSON_OPTION,
    qubits: int = typer.Option(
        20, "--qubits", min=0, help="Circuit size the backend is chosen for."
    ),
    precision: str | None = typer.Option(
        None,
        "--precision",
        help="complex64 or complex128; the profile's recommendation when omitted.",
    ),
    gpu: bool | None = typer.Option(
        None,
        "--gpu/--no-gpu",
        help="Prefer a GPU backend; the profile's recommendation when omitted.",
    ),
    replay: Path | None = _REPLAY_OPTION,
) -> None:
    """Show this host's measured hardware, its closest profile and the backend chosen.

    The match level says how the profile was found: exact (the CPU is known),
    family (a new chip of a known family), architecture (same OS and CPU
    architecture) or generic (a fallback).
    """
    report = detect_report(replay=replay, qubits=qubits, precision=precision, gpu=gpu)
    if json_output:
        print_json(report)
        return
    _print_host(report["host"])
    match, profile = report["match"], report["profile"]
    console.print(
        f"\n[bold]Profile:[/] {match['system_type']} [dim]({match['source']})[/]  "
        f"match [bold]{match['level']}[/], score {match['score']:.2f}"
        + (f", variant {match['variant']}" if match["variant"] else ""),
        highlight=False,
    )
    console.print(match["reason"], highlight=False, soft_wrap=True)
    _print_capabilities(profile)
    backend = report["backend"]
    if backend["name"] is None:
        console.print(f"\n[bold]Backend:[/] [red]none[/]: {backend['error']}", soft_wrap=True)
    else:
        console.print(
            f"\n[bold]Backend:[/] {backend['name']} on {backend['device']}", highlight=False
        )
        console.print(backend["reason"], highlight=False, soft_wrap=True)


def _memory_options(options: list[int]) -> str:
    # "8/16/24 GiB" rather than "8 GiB, 16 GiB, 24 GiB": narrow enough for 80 columns.
    texts = [_gib(m) for m in options]
    if len(texts) > 1 and all(t.endswith(" GiB") for t in texts):
        return "/".join(t.removesuffix(" GiB") for t in texts) + " GiB"
    return ", ".join(texts)


@app.command("profiles")
@command_errors
def profiles(json_output: bool = JSON_OPTION) -> None:
    """List every hardware profile: the HAL's generic ones and those plugins add."""
    rows = profiles_report()
    if json_output:
        print_json({"profiles": rows})
        return
    from rich import box

    # The system type is what `qdframe hal show` takes: it is never cut; the
    # other columns wrap instead, so the table reads at 80 columns.
    longest = max((len(str(row["system_type"])) for row in rows), default=11)
    table = Table(title="hardware profiles", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("system type", style="bold", no_wrap=True, min_width=longest)
    table.add_column("family", no_wrap=True)
    table.add_column("cores (P+E)", justify="right")
    table.add_column("memory", overflow="fold")
    table.add_column("source", overflow="fold", max_width=12)
    for row in rows:
        options = row["memory_options_bytes"] or [row["memory_bytes"]]
        table.add_row(
            row["system_type"],
            row["family"],
            f"{row['cores']} ({row['performance_cores']}+{row['efficiency_cores']})",
            _memory_options(options),
            row["source"],
        )
    console.print(table)


@app.command("show")
@command_errors
def show(
    system_type: str = _SYSTEM_TYPE_ARG,
    json_output: bool = JSON_OPTION,
) -> None:
    """Show one profile in full: variants, GPUs, capabilities, recommended settings."""
    from qdframe.plugins import default_plugins
    from qdframe_hal import profile_entries

    entries = {e.profile.system_type: e for e in profile_entries(default_plugins())}
    if system_type not in entries:
        raise RegistryError(
            f"unknown hardware profile {system_type!r}; available: {', '.join(sorted(entries))}"
        )
    profile = entries[system_type].profile
    data = profile.model_dump(mode="json")
    if json_output:
        print_json({**data, "source": entries[system_type].source})
        return
    table = Table(title=f"{system_type} ({entries[system_type].source})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("CPU", f"{profile.cpu_model} ({profile.vendor}, {profile.cpu_arch})")
    table.add_row(
        "cores", f"{profile.cores} ({profile.performance_cores}P+{profile.efficiency_cores}E)"
    )
    options = profile.memory_options_bytes or (profile.memory_bytes,)
    table.add_row("memory", ", ".join(_gib(m) for m in options))
    for gpu in profile.gpus:
        table.add_row("GPU", _gpu_text(gpu.model_dump()))
    for variant in profile.variants:
        table.add_row("variant", variant.label)
    table.add_row("brand strings", ", ".join(profile.brand_patterns) or "-")
    console.print(table)
    _print_capabilities(data)


@app.command("record")
@command_errors
def record(
    output: Path = _OUTPUT_ARG,
    description: str = typer.Option("", "--description", help="What machine this is."),
) -> None:
    """Record what detection reads on this machine, for `detect --replay` or a bug report.

    The recording holds command outputs (sysctl, nvidia-smi, uname) and file
    contents (/proc/cpuinfo, /proc/meminfo, cgroup limits); nothing else.
    """
    from qdframe_hal import LocalRunner, RecordingRunner, detect_host

    runner = RecordingRunner(LocalRunner())
    detect_host(runner)
    text = runner.to_toml(description=description)
    if str(output) == "-":
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(
        f"recorded {len(runner.commands)} command(s), {len(runner.files)} file(s) to {output}"
    )


def _print_host(host: dict[str, Any]) -> None:
    table = Table(title="this host (measured)", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    unknown = "[dim]unknown[/]"
    arch = host["cpu_arch"] + (" (under Rosetta 2)" if host["translated"] else "")
    table.add_row("system", f"{host['os']} / {arch}")
    table.add_row("CPU", host["cpu_brand"] or unknown)
    if host["model_identifier"]:
        table.add_row("model", host["model_identifier"])
    if host["cores"] is not None:
        split = ""
        if host["efficiency_cores"]:
            split = f" ({host['performance_cores']}P+{host['efficiency_cores']}E)"
        threads = f", {host['logical_cpus']} threads" if host["logical_cpus"] else ""
        table.add_row("cores", f"{host['cores']}{split}{threads}")
    else:
        table.add_row("cores", unknown)
    table.add_row("memory", _gib(host["memory_bytes"]) if host["memory_bytes"] else unknown)
    if host["memory_limit_bytes"]:
        table.add_row("memory limit", _gib(host["memory_limit_bytes"]))
    for gpu in host["gpus"]:
        table.add_row("GPU", _gpu_text(gpu))
    for note in host["notes"]:
        table.add_row("note", note)
    console.print(table)


def _print_capabilities(profile: dict[str, Any]) -> None:
    table = Table(title="capabilities and recommended settings", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    caps = profile["capabilities"]
    for precision, qubits in caps["max_statevector_qubits"].items():
        table.add_row(f"max qubits, {precision}", str(qubits))
    for precision, qubits in caps["max_gpu_statevector_qubits"].items():
        table.add_row(f"max qubits on GPU, {precision}", str(qubits))
    for key, value in profile["recommended_settings"].items():
        table.add_row(key, str(value))
    console.print(table)


def _gpu_text(gpu: dict[str, Any]) -> str:
    parts = [gpu["name"]]
    if gpu.get("memory_bytes"):
        parts.append(_gib(gpu["memory_bytes"]))
    if gpu.get("cores"):
        parts.append(f"{gpu['cores']} cores")
    if gpu.get("compute_capability"):
        parts.append(f"compute {gpu['compute_capability']}")
    if gpu.get("unified_memory"):
        parts.append("unified memory")
    return ", ".join(parts)


def _gib(value: int) -> str:
    gib = value / _GIB
    return f"{gib:.0f} GiB" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f} GiB"
