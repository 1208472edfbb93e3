"""``qdframe plan``: place a circuit on a network and show what it costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qdframe.cli._options import config_from_options
from qdframe.cli._output import command_errors, console, print_json

__all__ = ["plan_command", "register"]


def _print_text(summary: dict[str, Any], show_nodes: bool, explain: bool = False) -> None:
    cost = summary["cost"]
    topo = summary["topology"]
    circuit = summary["circuit"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row(
        "circuit",
        f"{circuit['name']}: {circuit['qubits']} qubits, "
        f"{circuit['two_qubit_gates']} two-qubit gates",
    )
    per_node = topo.get("data_qubits_per_node", "mixed")
    table.add_row(
        "network",
        f"{topo['name']}: {topo['num_nodes']} nodes x {per_node} data qubits, "
        f"{topo['num_links']} links, diameter {topo.get('diameter', '?')}",
    )
    table.add_row("allocator", summary["allocator"])
    if explain:
        table.add_row("why", summary["reason"])
    table.add_row(
        "ebits",
        f"{cost['ebits']} ({cost['cat_ebits']} cat-entanglement in "
        f"{cost['bursts']} bursts, {cost['teleport_ebits']} teleportation in "
        f"{cost['teleportations']} moves)",
    )
    ebits = summary.get("ebits", {})
    if ebits.get("split"):
        # The program consumes more than the cost model counts: say both.
        table.add_row(
            "ebits consumed",
            f"{ebits['planned']} planned + {ebits['split']} from communication-qubit limits "
            f"= {ebits['consumed']} consumed ({ebits['comm_splits']} bursts re-opened)",
        )
    table.add_row("swaps", f"{cost['swaps']} (longest route {cost['max_hops']} hop(s))")
    table.add_row("classical bits", str(cost["classical_bits"]))
    table.add_row("remote gates", f"{cost['remote_gates']} of {cost['two_qubit_gates']}")
    load = summary.get("load")
    if load:
        cap = load.get("qubit_cap_per_node")
        table.add_row(
            "busiest node",
            f"{load['max_qubits_per_node']} qubits, {load['max_gates_per_node']} two-qubit gates"
            + (f" (spread: at most {cap} qubits per node)" if cap is not None else ""),
        )
    timings = summary["timings_s"]
    table.add_row(
        "time", f"{timings.get('total', 0):.3f} s (allocation {timings.get('allocate', 0):.3f} s)"
    )
    allocation = summary.get("allocation", {})
    if show_nodes and allocation:
        nodes = allocation.get("nodes", allocation.get("initial_nodes"))
        table.add_row("qubit → node", " ".join(str(x) for x in nodes))
        if allocation.get("migrations"):
            moves = ", ".join(
                f"q{m['qubit']}:{m['from']}→{m['to']}@{m['before_gate']}"
                for m in allocation["migrations"][:20]
            )
            more = len(allocation["migrations"]) - 20
            table.add_row("migrations", moves + (f" (+{more} more)" if more > 0 else ""))
    console.print(table)
    if summary.get("lowering_problem"):
        # The cost model priced the plan, but its program cannot be built here.
        console.print(
            f"[yellow]warning:[/] the distributed program cannot be built: "
            f"{summary['lowering_problem']}",
            highlight=False,
        )


_CIRCUIT_ARG = typer.Argument(..., help="OpenQASM 2 or 3 file.")
_CONFIG_OPTION = typer.Option(None, "--config", "-c", help="System TOML file.")
_NODES_OPTION = typer.Option(None, "--nodes", help="Number of nodes.")
_QUBITS_OPTION = typer.Option(None, "--qubits-per-node", help="Data qubits per node.")
_COMM_OPTION = typer.Option(None, "--comm-qubits", help="Communication qubits per node.")
_TOPOLOGY_OPTION = typer.Option(None, "--topology", help="Topology name.")
_ALLOCATOR_OPTION = typer.Option(None, "--allocator", help="Allocator name, or auto.")
_SEED_OPTION = typer.Option(0, "--seed", help="Seed for randomised allocators.")
_BUDGET_OPTION = typer.Option(10.0, "--time-budget", help="Allocator time budget in seconds.")
_NO_MIGRATION_OPTION = typer.Option(
    False,
    "--no-migration",
    help=(
        "Keep every qubit on one node (no teleportation), as [resources] "
        'allocation_strategy = "static"; without it the configuration decides.'
    ),
)
_LOAD_BALANCING_OPTION = typer.Option(
    None,
    "--load-balancing",
    help=(
        "pack (fewest ebits) or spread (each node at most its even share of the qubits), "
        "as [resources] load_balancing; without it the configuration decides."
    ),
)
_JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")
_EXPLAIN_OPTION = typer.Option(
    False, "--explain", help="Also say why the allocator was chosen and how it searched."
)


@command_errors
def plan_command(
    circuit: Path = _CIRCUIT_ARG,
    config_file: Path | None = _CONFIG_OPTION,
    nodes: int | None = _NODES_OPTION,
    qubits_per_node: int | None = _QUBITS_OPTION,
    comm_qubits: int | None = _COMM_OPTION,
    topology: str | None = _TOPOLOGY_OPTION,
    allocator: str | None = _ALLOCATOR_OPTION,
    seed: int = _SEED_OPTION,
    time_budget: float = _BUDGET_OPTION,
    no_migration: bool = _NO_MIGRATION_OPTION,
    load_balancing: str | None = _LOAD_BALANCING_OPTION,
    json_output: bool = _JSON_OPTION,
    explain: bool = _EXPLAIN_OPTION,
) -> None:
    """Allocate CIRCUIT's qubits to nodes and report ebits, swaps and classical bits.

    Without --config or network options the circuit is planned on the
    default network: 4 nodes on a ring, each just large enough for it;
    --nodes or --qubits-per-node alone sizes the other. Exit code 2 when the
    network holds fewer qubits than the circuit or an input is invalid.
    """
    from qdframe.circuits import load_circuit
    from qdframe.config import load_config
    from qdframe.planning import make_plan
    from qdframe.plugins import default_plugins
    from qdframe.sizing import sized_config

    config = config_from_options(
        config_file,
        distributed={
            "num_nodes": nodes,
            "qubits_per_node": qubits_per_node,
            "comm_qubits_per_node": comm_qubits,
            "network_topology": topology,
            "allocator": allocator,
        },
        resources={"load_balancing": load_balancing},
    ) or load_config(None)
    source = load_circuit(circuit)
    config = sized_config(config, source.num_qubits)
    plan = make_plan(
        source,
        config,
        plugins=default_plugins(),
        seed=seed,
        time_budget_s=time_budget,
        allow_migration=False if no_migration else None,
    )
    summary = plan.summary()
    if json_output:
        print_json(summary)
    else:
        _print_text(summary, show_nodes=plan.problem.num_qubits <= 256, explain=explain)


def register(app: typer.Typer) -> None:
    """Add the top-level ``plan`` command to ``app``."""
    app.command("plan")(plan_command)
