"""`oncall-tui report`: how the response went across incidents, and where alerts are noise."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.core.durations import format_duration, parse_duration
from oncall_tui.core.incidents.incident import SEVERITIES, Incident, declared_by_a_person
from oncall_tui.core.runbooks.library import RunbookError, RunbookLibrary
from oncall_tui.core.text import clean_line

ACTIONS = {
    "incident.acknowledged",
    "incident.escalated",
    "incident.severity_changed",
    "incident.stage_changed",
    "incident.commander_changed",
    "incident.resolved",
    "note",
    "silence.created",
    "alert.acknowledged",
    "runbook.step_started",
}
"""What a person did. An incident with none of these, and declared by the console
(`auto_declare`), not by a person, fired and was left alone."""


@dataclass
class Report:
    since: datetime | None
    incidents: int
    by_severity: Counter[str]
    tta: list[float]
    ttr: list[float]
    declaring_alerts: Counter[str]
    untouched_alerts: Counter[str]
    without_runbook: Counter[str] | None = None
    """Alerts in these incidents that no runbook matches (None: the runbooks were not looked at)."""
    tried: dict[str, tuple[str, ...]] | None = None


def p90(values: list[float]) -> float:
    """The nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def build(
    incidents: Iterable[Incident], since: datetime | None = None, library: RunbookLibrary | None = None
) -> Report:
    chosen = [i for i in incidents if since is None or (i.declared_at and i.declared_at >= since)]
    report = Report(since, len(chosen), Counter(), [], [], Counter(), Counter())
    if library is not None:
        report.without_runbook, report.tried = Counter(), {}
        matched: dict[tuple[str, str], bool] = {}
        for linked in (a for incident in chosen for a in incident.alerts.values()):
            key = (linked.name, linked.runbook)
            if key not in matched:
                try:
                    found = library.match(linked.as_alert())
                except RunbookError:
                    matched[key] = False
                else:
                    matched[key] = found.runbook is not None
                    report.tried.setdefault(linked.name, found.tried)
            if not matched[key]:
                report.without_runbook[linked.name or "(no alertname)"] += 1
    for incident in chosen:
        report.by_severity[incident.severity] += 1
        metrics = {m.name: m.seconds for m in incident.metrics()}
        if metrics["time to acknowledge"] is not None:
            report.tta.append(metrics["time to acknowledge"])
        if metrics["time to resolve"] is not None:
            report.ttr.append(metrics["time to resolve"])
        names = {a.name for a in incident.alerts.values()}
        report.declaring_alerts.update(names)
        if not declared_by_a_person(incident) and not any(e.kind in ACTIONS for e in incident.events):
            report.untouched_alerts.update(names or {"(no alert)"})
    return report


def _stat(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no incident has one yet"
    mean = sum(values) / len(values)
    return f"{name}: mean {format_duration(max(0, mean))}, p90 {format_duration(max(0, p90(values)))} ({len(values)} incidents)"


def render(report: Report) -> str:
    window = f"since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else "all time"
    lines = [f"incidents {window}: {report.incidents}"]
    lines += [f"  {sev}: {report.by_severity.get(sev, 0)}" for sev in SEVERITIES]
    lines += ["", _stat("time to acknowledge", report.tta), _stat("time to resolve", report.ttr), ""]
    lines.append("alerts that declared the most incidents:")
    lines += [f"  {n:>4}  {clean_line(name, 80)}" for name, n in report.declaring_alerts.most_common(10)] or ["  none"]
    lines.append("alerts that fired into an incident nobody acted on (alert-fatigue signals):")
    lines += [f"  {n:>4}  {clean_line(name, 80)}" for name, n in report.untouched_alerts.most_common(10)] or ["  none"]
    if report.without_runbook is not None:
        lines.append("alerts in these incidents that no runbook matches (write one, then check --rules):")
        lines += [
            f"  {n:>4}  {clean_line(name, 80)}  (tried {clean_line('; '.join((report.tried or {}).get(name, ())), 200)})"
            for name, n in report.without_runbook.most_common(10)
        ] or ["  none"]
    return "\n".join(lines) + "\n"


def since_ago(now: datetime, window: str) -> datetime:
    """`now` minus a window such as `30d`. Raises ValueError for a bad window."""
    return now - timedelta(seconds=parse_duration(window))


def as_json(report: Report) -> dict[str, object]:
    def stat(values: list[float]) -> dict[str, float | int] | None:
        return (
            {"mean_seconds": sum(values) / len(values), "p90_seconds": p90(values), "incidents": len(values)}
            if values
            else None
        )

    return {
        "since": report.since.isoformat() if report.since else None,
        "incidents": report.incidents,
        "by_severity": {sev: report.by_severity.get(sev, 0) for sev in SEVERITIES},
        "time_to_acknowledge": stat(report.tta),
        "time_to_resolve": stat(report.ttr),
        "declaring_alerts": dict(report.declaring_alerts.most_common()),
        "untouched_alerts": dict(report.untouched_alerts.most_common()),
        "without_runbook": dict(report.without_runbook.most_common()) if report.without_runbook is not None else None,
    }
