"""``qdframe run`` and ``qdframe report``: the main job and its report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qdframe.cli._options import config_from_options
from qdframe.cli._output import command_errors, console, print_json

__all__ = ["register", "report_command", "run_command"]

_MODES = ("quantum", "classical", "hybrid")


def _default_report_dir(circuit: Path) -> Path:
    from qdframe.system import new_run_id

    return Path("qdframe-runs") / new_run_id(circuit.stem)


def _summary(result: Any) -> dict[str, Any]:
    plan = result.plan
    metrics = result.metrics
    data: dict[str, Any] = {
        "run_id": result.run_id,
        "backend": result.backend,
        "shots": result.shots,
        "seed": result.seed,
        "counts": dict(sorted(result.counts.items(), key=lambda kv: -kv[1])),
        "expectation_values": result.expectation_values,
        "verified": result.verified,
        "verification": result.verification,
        "fallback": result.fallback,
        "fallback_reason": result.fallback_reason,
        "mitigated": result.mitigated,
        "stage_seconds": result.stage_seconds,
        "report": str(result.report_path) if result.report_path else None,
        "run_dir": str(result.run_dir) if result.run_dir else None,
        "recoveries": metrics.get("recoveries", []),
        "estimate": metrics.get("estimate"),
    }
    if plan is not None:
        data["plan"] = {
            "allocator": plan.allocator,
            "reason": plan.reason,
            "topology": plan.topology.describe(),
            "ebits": metrics.get("ebits", plan.ebits),
            "swaps": metrics.get("swaps", 0),
            "classical_bytes": metrics.get("classical_bytes", 0),
        }
    if result.schedule is not None:
        data["plan"]["makespan_us"] = result.schedule.makespan_us
        data["plan"]["fidelity_estimate"] = result.schedule.fidelity_estimate
    data["metrics"] = {
        k: metrics.get(k)
        for k in ("wall_s", "throughput_shots_per_s", "batches", "resumed_batches", "job_retries")
    }
    return data


def _print_summary(data: dict[str, Any], *, explain: bool = False) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    plan = data.get("plan")
    if plan:
        topo = plan["topology"]
        table.add_row(
            "network",
            f"{topo['name']}: {topo['num_nodes']} nodes x "
            f"{topo.get('data_qubits_per_node', 'mixed')} data qubits",
        )
        table.add_row("allocator", plan["allocator"])
        if explain:
            table.add_row("why", plan["reason"])
        table.add_row("ebits", str(plan["ebits"]))
        table.add_row("swaps", str(plan["swaps"]))
        if "makespan_us" in plan:
            table.add_row("makespan", f"{plan['makespan_us']:.1f} µs")
            table.add_row("fidelity estimate", f"{plan['fidelity_estimate']:.4f}")
    table.add_row("backend", data["backend"])
    if data["fallback"]:
        table.add_row("[yellow]fallback[/]", str(data["fallback_reason"]))
    for event in data["recoveries"]:
        table.add_row(
            "[yellow]recovered[/]",
            f"{event['stage']}: {event['error']} → {event['action']} ({event['reason']})",
        )
    if data["verified"] is not None:
        verdict = "[green]verified[/]" if data["verified"] else "[red]NOT verified[/]"
        v = data["verification"] or {}
        table.add_row(
            "verification",
            f"{verdict} ({v.get('method')}, distance {v.get('distance', 0):.2e} "
            f"<= {v.get('bound', 0):.2e})" + (f": {v['proved']}" if v.get("proved") else ""),
        )
    top = list(data["counts"].items())[:8]
    more = len(data["counts"]) - len(top)
    table.add_row(
        "counts",
        ", ".join(f"{k}: {n}" for k, n in top) + (f" (+{more} more outcomes)" if more > 0 else ""),
    )
    for name, value in data["expectation_values"].items():
        table.add_row(f"<{name}>", f"{value:.6f}")
    m = data["metrics"]
    table.add_row(
        "time",
        f"{m['wall_s']:.2f} s ({m['throughput_shots_per_s'] or 0:.0f} shots/s, "
        f"{m.get('batches')} batches, {m.get('resumed_batches') or 0} resumed)",
    )
    if data["report"]:
        table.add_row("report", data["report"])
    console.print(table)


_CIRCUIT_ARG = typer.Argument(None, help="OpenQASM 2 or 3 file (omit with --resume).")
_CONFIG = typer.Option(None, "--config", "-c", help="System TOML file.")
_NODES = typer.Option(None, "--nodes", min=1, help="Number of nodes.")
_QPN = typer.Option(None, "--qubits-per-node", min=1, help="Data qubits per node.")
_TOPOLOGY = typer.Option(None, "--topology", help="Topology name (`qdframe plugins list`).")
_ALLOCATOR = typer.Option(None, "--allocator", help="Allocator name, or auto.")
_MODE = typer.Option(None, "--mode", help="Communication mode: quantum, classical or hybrid.")
_BACKEND = typer.Option(None, "--backend", help="Backend name, or auto (the HAL chooses).")
_EXECUTOR = typer.Option(None, "--executor", help="Executor name (local, dask).")
_SHOTS = typer.Option(
    None,
    "--shots",
    help="Measurement shots (1 to 10^9; default 1024). A resumed run keeps its own.",
)
_SEED = typer.Option(None, "--seed", help="Seed for a reproducible run.")
_VERIFY = typer.Option(False, "--verify", help="Check the distributed circuit equals the original.")
_VERIFY_METHOD = typer.Option(
    None,
    "--verify-method",
    metavar="METHOD",
    help=(
        "Verification method (implies --verify). auto: exact if it fits, else random-inputs, "
        "else sampled. exact (exact-state, exact-distribution): a proof for every input state "
        "(Choi state). random-inputs: k Haar-random inputs, false-accept bound stated. "
        "qcec: a proof for every input by MQT QCEC (the verify extra). sampled: output "
        "statistics from |0...0> only, not a proof. See docs/running.md."
    ),
)
_REPORT = typer.Option(
    None, "--report", help="Run directory for checkpoints and the report (default qdframe-runs/ID)."
)
_RESUME = typer.Option(None, "--resume", help="Continue the killed run in this run directory.")
_OBSERVABLE = typer.Option(
    None, "--observable", "-o", help="Z/I Pauli string to estimate, e.g. ZZII (repeatable)."
)
_JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
_MAX_SECONDS = typer.Option(
    None,
    "--max-seconds",
    min=0,
    help="Refuse the run (exit 1) when its estimate, shown before any shot runs, is longer.",
)
_EXPLAIN = typer.Option(False, "--explain", help="Also say why the allocator was chosen.")


@command_errors
def run_command(
    circuit: Path | None = _CIRCUIT_ARG,
    config_file: Path | None = _CONFIG,
    nodes: int | None = _NODES,
    qubits_per_node: int | None = _QPN,
    topology: str | None = _TOPOLOGY,
    allocator: str | None = _ALLOCATOR,
    mode: str | None = _MODE,
    backend: str | None = _BACKEND,
    executor: str | None = _EXECUTOR,
    shots: int | None = _SHOTS,
    seed: int | None = _SEED,
    verify: bool = _VERIFY,
    verify_method: str | None = _VERIFY_METHOD,
    report: Path | None = _REPORT,
    resume: Path | None = _RESUME,
    observable: list[str] | None = _OBSERVABLE,
    json_output: bool = _JSON,
    max_seconds: float | None = _MAX_SECONDS,
    explain: bool = _EXPLAIN,
) -> None:
    """Plan, lower, schedule and run CIRCUIT on the network, and write a report.

    Without --config or network options the circuit runs on the default
    network: 4 nodes on a ring, each just large enough for it; --nodes or
    --qubits-per-node alone sizes the other. Before the shots run it prints
    an estimate of the simulated qubits, memory and time, and warns when the
    run may take long. Ctrl-C or SIGTERM stops within moments, keeps the
    finished shot batches and prints the `qdframe run --resume DIR` command.
    Exit codes: 0 ok, 1 the run failed or was refused by --max-seconds, 2 an
    input is invalid, 130/143 interrupted.
    """
    from qdframe.cli._progress import RunDisplay, interruptible
    from qdframe.errors import ConfigError
    from qdframe.system import DistributedSystem

    if mode is not None and mode not in _MODES:
        raise ConfigError(f"unknown mode {mode!r}", key_path="--mode", allowed=", ".join(_MODES))
    if verify_method is not None:
        from qdframe.verification import check_method_name

        check_method_name(verify_method, key_path="--verify-method")
        verify = True
    if resume is not None:
        if circuit is not None or report is not None:
            raise ConfigError("--resume takes the run directory alone (no CIRCUIT, no --report)")
        config = _resumed_config(resume)
        run_dir, source = resume, None
    else:
        if circuit is None:
            raise ConfigError("missing CIRCUIT (an OpenQASM file), or --resume RUN_DIR")
        config = config_from_options(
            config_file,
            distributed={
                "num_nodes": nodes,
                "qubits_per_node": qubits_per_node,
                "network_topology": topology,
                "allocator": allocator,
                "communication_mode": mode,
            },
            acceleration={"backend": backend},
            resources={"executor": executor},
        )
        run_dir, source = report or _default_report_dir(circuit), circuit
    observables = {label: label for label in observable or []}
    display = RunDisplay.for_terminal(json_output=json_output)
    with DistributedSystem(config) as system:
        assert system.plugins is not None  # loaded on entering
        # Inside the system's block: an interrupt must not wait for its
        # executor to finish the batches in flight.
        with interruptible(run_dir), display.attached(system.plugins):
            result = system.run(
                source if source is not None else "",
                shots=shots,
                seed=seed,
                observables=observables,
                verify=verify,
                verify_method=verify_method,
                report_dir=run_dir,
                resume=resume is not None,
                progress=display.batches,
                max_seconds=max_seconds,
            )
    data = _summary(result)
    if json_output:
        print_json(data)
    else:
        _print_summary(data, explain=explain)
    if verify and result.verified is False:
        raise typer.Exit(1)


def _resumed_config(run_dir: Path) -> Any:
    from qdframe.config import config_from_mapping
    from qdframe.rundir import RunDirectory

    manifest = RunDirectory.open_existing(run_dir).read_manifest()
    return config_from_mapping(manifest["config"], source=f"{run_dir}/run.json")


@command_errors
def report_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by `qdframe run`."),
    json_output: bool = _JSON,
) -> None:
    """Re-render RUN_DIR's HTML report from its report.json."""
    from qdframe.report import rerender

    started = time.perf_counter()
    html = rerender(run_dir)
    if json_output:
        print_json({"report": str(html), "seconds": time.perf_counter() - started})
    else:
        console.print(f"report written to {html}")


def register(app: typer.Typer) -> None:
    """Add the top-level ``run`` and ``report`` commands to ``app``."""
    app.command("run")(run_command)
    app.command("report")(report_command)
