"""What the analyze stage measures and reports: a run's metrics and its report.

:func:`build_metrics` gathers what a run measured (per-stage latency,
throughput, CPU and memory, error rates, ebits, swaps, classical bytes,
resource usage); :func:`build_report` turns a finished run into a
:class:`qdframe.report.RunReport`, and :func:`write_run_report` writes it as
JSON and HTML into the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qdframe.report import RunReport
    from qdframe.resources import ResourceManager
    from qdframe.stages.result import RunResult
    from qdframe.stages.state import RunState

__all__ = ["build_metrics", "build_report", "write_run_report"]

#: Timeline bars drawn in a report at most (the busiest part of big schedules).
_TIMELINE_LIMIT = 1500


def build_metrics(
    state: RunState, *, resources: ResourceManager | None = None, learner: Any = None
) -> dict[str, Any]:
    """The run's metrics as a JSON-ready dict.

    :param state: the run state after mitigation (``wall_s`` and ``process`` set).
    :param resources: the run's resource manager (adds ``metrics["resources"]``).
    :param learner: the adaptive link learner (adds its advice as ``metrics["adaptive"]``).
    """
    context = state.context
    wall_s = state.wall_s
    metrics: dict[str, Any] = {
        "stage_seconds": dict(context.metrics.get("stage_seconds", {})),
        "wall_s": wall_s,
        "shots": state.shots,
        "throughput_shots_per_s": state.shots / wall_s if wall_s else None,
        "backend": state.backend,
        "backend_reason": context.metrics.get("backend_reason"),
        "recoveries": list(context.metrics.get("recoveries", [])),
        "faults_injected": list(context.metrics.get("faults_injected", [])),
        "job_retries": int(context.metrics.get("job_retries", 0)),
        "optimizers": list(context.metrics.get("optimizers", [])),
        "fallback": state.fallback_reason is not None,
    }
    if "estimate" in context.metrics:
        metrics["estimate"] = dict(context.metrics["estimate"])
    execute = state.execute_info
    if execute:
        metrics["batches"] = execute.get("batches")
        metrics["resumed_batches"] = execute.get("resumed_batches")
        metrics["execute_time_s"] = execute.get("time_s")
    jobs = max(int(execute.get("batches") or 0), 1)
    metrics["error_rates"] = {
        "job_retry_rate": metrics["job_retries"] / jobs,
        "stage_failures": float(len(metrics["recoveries"])),
    }
    if state.mode_result is not None:
        metrics["cutting"] = state.mode_result.summary()
    if state.plan is not None:
        cost = state.plan.cost
        metrics["ebits"] = int(cost.ebits)
        metrics["plan"] = state.plan.cost.summary()
    program = state.program
    if program is not None:
        metrics["program"] = program.summary()
        metrics["ebits"] = int(program.ebits)
        metrics["swaps"] = int(program.swaps)
        metrics["classical_bytes"] = int(program.classical_bytes)
    schedule = state.schedule
    if schedule is not None:
        metrics["schedule"] = schedule.summary()
    if state.process:
        metrics["process"] = dict(state.process)
        if state.profile_text:
            metrics["profile_top"] = state.profile_text
    if resources is not None:
        metrics["resources"] = resources.usage()
    if learner is not None and schedule is not None:
        usage = {
            (link.nodes[0], link.nodes[1]): int(link.pairs) for link in schedule.links if link.pairs
        }
        advice = learner.advise(usage)
        metrics["adaptive"] = {
            "replan": advice.replan,
            "predicted_gain": advice.predicted_gain,
            "reasons": list(advice.reasons),
            "link_weights": {f"{a}-{b}": w for (a, b), w in sorted(learner.weights().items())},
        }
    return metrics


def build_report(result: RunResult, state: RunState) -> RunReport:
    """The :class:`RunReport` of a finished run (``state`` is the one analyze received)."""
    from qdframe.report import (
        CircuitSummary,
        ConfigSummary,
        ExecutionSummary,
        MetricsSummary,
        PlanSummary,
        RunReport,
        ScheduleSummary,
        TopologySummary,
        VerificationSummary,
    )
    from qdframe.report.model import LinkUsage, TimelineItem

    context = state.context
    prepared = state.require_prepared()
    metrics = result.metrics
    process = metrics.get("process", {})
    report = RunReport(
        run_id=result.run_id,
        circuit=CircuitSummary.from_circuit(prepared),
        config=ConfigSummary.from_config(context.config),
        metrics=MetricsSummary.from_context(
            context,
            total_seconds=metrics.get("wall_s"),
            throughput_shots_per_s=metrics.get("throughput_shots_per_s"),
            cpu_percent=process.get("cpu_percent_mean"),
            peak_memory_bytes=process.get("rss_peak_bytes"),
            error_rates=metrics.get("error_rates", {}),
        ),
        notes=list(context.notes),
    )
    plan = state.plan
    program = state.program
    schedule = state.schedule
    if plan is not None:
        allocation = plan.allocation
        report.plan = PlanSummary(
            allocator=plan.allocator,
            reason=plan.reason,
            allocation=[int(x) for x in allocation.nodes(0).tolist()],
            ebits=int(metrics.get("ebits", plan.cost.ebits)),
            swaps=int(metrics.get("swaps", 0)),
            classical_bits=int(program.classical_bits) if program is not None else 0,
            migrations=len(allocation.migrations()),
            nonlocal_gates=int(plan.cost.summary().get("nonlocal_gates", 0)),
            fidelity_estimate=schedule.fidelity_estimate if schedule is not None else None,
        )
    if schedule is not None and program is not None:
        report.schedule = ScheduleSummary(
            makespan_us=schedule.makespan_us,
            node_utilisation={n.node: n.utilisation for n in schedule.nodes},
            link_usage=[
                LinkUsage(u=u.nodes[0], v=u.nodes[1], ebits=u.pairs, busy_us=u.busy_us)
                for u in schedule.links
                if u.pairs
            ],
            timeline=_timeline(program, schedule, TimelineItem),
        )
    topology = plan.topology if plan is not None else None
    if topology is not None and schedule is not None:
        report.topology = TopologySummary.from_topology(
            topology,
            usage={(u.nodes[0], u.nodes[1]): float(u.pairs) for u in schedule.links if u.pairs},
        )
    report.execution = ExecutionSummary(
        backend=result.backend,
        shots=result.shots,
        seed=result.seed,
        counts=result.counts,
        fallback=result.fallback,
        fallback_reason=result.fallback_reason,
        verified=result.verified,
        verification={
            k: float(v)
            for k, v in (result.verification or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        },
        proof=VerificationSummary.from_result(result.verification),
        mitigated=result.mitigated,
        expectation_values=result.expectation_values,
        time_s=metrics.get("execute_time_s"),
    )
    return report


def _timeline(program: Any, schedule: Any, item: Any) -> list[Any]:
    rows = range(min(program.num_operations, _TIMELINE_LIMIT))
    items = []
    for row in rows:
        op = program.operation(row)
        start, end = float(schedule.start_us[row]), float(schedule.end_us[row])
        if end <= start:
            continue
        items.append(
            item(node=op.node, start_us=start, end_us=end, label=op.name, kind=op.kind.lower())
        )
    return items


def write_run_report(run_dir: Path, result: RunResult, state: RunState) -> Path:
    """Write ``report.json`` and ``report.html`` into ``run_dir``; return the HTML path."""
    from qdframe.report import write_report

    _, html = write_report(run_dir, build_report(result, state))
    return Path(html)
