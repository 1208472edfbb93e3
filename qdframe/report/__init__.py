"""Run reports: a typed data model, JSON persistence and a self-contained HTML page.

::

    from qdframe.report import RunReport, write_report, load_report, rerender

    json_path, html_path = write_report(run_dir, report)
    report = load_report(run_dir)
    html_path = rerender(run_dir)     # after upgrading qdframe, say
"""

from qdframe.report.html import render_html
from qdframe.report.io import HTML_NAME, JSON_NAME, ReportError, load_report, rerender, write_report
from qdframe.report.model import (
    SCHEMA_VERSION,
    CircuitSummary,
    ConfigSummary,
    ExecutionSummary,
    LinkUsage,
    MetricsSummary,
    MitigationSummary,
    PlanSummary,
    ReadoutQubit,
    RecoveryEvent,
    RunReport,
    ScheduleSummary,
    TimelineItem,
    TopologyEdge,
    TopologyNode,
    TopologySummary,
    VerificationSummary,
    ZNEEstimate,
)

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "SCHEMA_VERSION",
    "CircuitSummary",
    "ConfigSummary",
    "ExecutionSummary",
    "LinkUsage",
    "MetricsSummary",
    "MitigationSummary",
    "PlanSummary",
    "ReadoutQubit",
    "RecoveryEvent",
    "ReportError",
    "RunReport",
    "ScheduleSummary",
    "TimelineItem",
    "TopologyEdge",
    "TopologyNode",
    "TopologySummary",
    "VerificationSummary",
    "ZNEEstimate",
    "load_report",
    "render_html",
    "rerender",
    "write_report",
]
