"""``qdframe tune``: find the fastest settings on this host (and optionally share them)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qdframe.cli._output import JSON_OPTION, command_errors, console, print_json
from qdframe.cli.network import (
    CACHE_DIR_OPTION,
    CONFIG_OPTION,
    SERVER_OPTION,
    build_client,
    network_logging,
)
from qdframe.config import load_config

__all__ = ["register"]

_OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Where to store the result.", dir_okay=False
)


def _print_result(result: Any, stored: Path) -> None:
    table = Table(
        "Workload",
        "Qubits",
        "Circuits",
        "Default",
        "Best",
        "Savings",
        "Faster with",
        title=f"{result.system_type}: {result.suite} suite",
    )
    table.columns[-1].overflow = "fold"
    for w in result.workloads:
        changed = {k: v for k, v in w.best_settings.items() if result.defaults.get(k) != v}
        table.add_row(
            w.workload_class,
            str(w.num_qubits),
            str(w.circuits),
            f"{w.default_s * 1000:.1f} ms",
            f"{w.best_s * 1000:.1f} ms",
            f"{w.savings:.1f}%",
            ", ".join(f"{k}={v!r}" for k, v in changed.items()) or "defaults",
        )
    console.print(table)
    rejected = [c for c in result.candidates if c.error is None and not c.agrees]
    for c in rejected:
        console.print(
            "Rejected (results differ from the defaults): "
            + ", ".join(f"{k}={v!r}" for k, v in c.changed.items())
        )
    energy = (
        f"; energy {result.energy_savings:.1f}%"
        if result.energy_savings is not None
        else " (time-based: this host exposes no energy counters)"
    )
    changes = ", ".join(f"{k}={v!r}" for k, v in result.changed_settings.items()) or "none"
    console.print(f"Overall savings: {result.savings:.1f}%{energy}")
    console.print(f"Settings changed from the defaults: {changes}")
    if result.not_exercised:
        console.print(f"Not exercised by the suite: {', '.join(sorted(result.not_exercised))}")
    console.print(f"Stored in {stored} ({result.duration_s:.1f} s)")


def register(app: typer.Typer) -> None:
    """Add the top-level ``tune`` command to ``app``."""

    @app.command()
    @command_errors
    def tune(
        quick: bool = typer.Option(False, "--quick", help="Fewer, smaller circuits (seconds)."),
        contribute: bool = typer.Option(
            False, "--contribute", help="Share the result with the network (anonymously)."
        ),
        repeats: int | None = typer.Option(
            None,
            "--repeats",
            min=1,
            help="Timed rounds per candidate; the fastest counts (default 5, quick 3).",
        ),
        qubits: int | None = typer.Option(
            None, "--qubits", min=2, max=30, help="Suite size (default: sized to this host)."
        ),
        output: Path | None = _OUTPUT_OPTION,
        config: Path | None = CONFIG_OPTION,
        cache_dir: Path | None = CACHE_DIR_OPTION,
        server: list[str] | None = SERVER_OPTION,
        json_output: bool = JSON_OPTION,
    ) -> None:
        """Time a small workload suite with default and candidate settings.

        Only candidates whose results agree with the defaults' are kept.
        Savings are the relative time reduction (and energy where the host
        exposes RAPL counters).
        """
        from qdframe.plugins import default_plugins
        from qdframe.tuning import TuneOptions, Tuner

        system_config = load_config(config)
        client = build_client(system_config, cache_dir=cache_dir, servers=server)
        options = TuneOptions(
            suite="quick" if quick else "standard", repeats=repeats, num_qubits=qubits
        )

        def progress(line: str) -> None:
            sys.stderr.write(line + "\n")

        tuner = Tuner(default_plugins(), options=options, progress=progress)
        result = tuner.run()
        stored = output or client.paths.tuning_file
        result.save(stored)
        response = None
        queued = False
        if contribute:
            from qdframe.network.state import install_token

            with network_logging(quiet=json_output):
                response = client.contribute_optimization(
                    result.to_contribution(install_token(client.paths))
                )
            queued = response is None
        if json_output:
            print_json(
                {
                    "result": result.model_dump(mode="json"),
                    "stored_at": str(stored),
                    "contribution": None
                    if not contribute
                    else {
                        "sent": response is not None,
                        "queued": queued,
                        "response": None if response is None else response.model_dump(mode="json"),
                    },
                }
            )
            return
        _print_result(result, stored)
        if contribute:
            console.print(
                "Contributed to the network."
                if response is not None
                else "No server reachable: queued for the next `qdframe network sync`."
            )
