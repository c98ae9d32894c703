"""The postmortem: the classic template, filled in from the journal and nothing else.

What the journal knows (who was on call and who acted, the alerts, every action with its
time, the commands as they ran, metrics, action items) is written out; what needs a human is
a clearly marked prompt, never invented text. The sections are built in `postmortem_sections`
and `postmortem_response`; every piece of text from the journal goes through
`postmortem_text`, so nothing in it can add markup of its own.
"""

from __future__ import annotations

import json
from datetime import datetime

from oncall_tui.core.durations import format_duration, signed_duration
from oncall_tui.core.incidents.incident import ACTION_ITEM, SEVERITIES, Incident
from oncall_tui.core.incidents.postmortem_response import response
from oncall_tui.core.incidents.postmortem_sections import alerts, responders
from oncall_tui.core.incidents.postmortem_text import cell, full_time, hms, prompt
from oncall_tui.core.incidents.timeline import TimelineEvent, format_ts
from oncall_tui.core.text import clean_line

BOOKKEEPING = ("export",)
"""Events about the record itself, not about the incident: the postmortem leaves them out."""


def _timeline(events: list[TimelineEvent]) -> list[str]:
    lines = ["| # | time (UTC) | who | what |", "|---|---|---|---|"]
    previous: datetime | None = None
    for event in events:
        when = event.ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if previous and event.ts < previous:
            when += " (clock went back)"
        previous = event.ts
        lines.append(f"| {event.seq} | {when} | {cell(event.who)} | {cell(event.summary)} |")
    return lines


def _metrics(incident: Incident) -> list[str]:
    lines = ["| metric | from | to | duration |", "|---|---|---|---|"]
    for metric in incident.metrics():
        seconds = metric.seconds
        shown = "not yet" if seconds is None else signed_duration(seconds)
        if seconds is not None and seconds < 0:
            shown += " (it ends before it starts: a clock is off, the alert's sender's or ours)"
        start, end = full_time(metric.start), full_time(metric.end)
        lines.append(f"| {metric.name} | {metric.start_label} {start} | {metric.end_label} {end} | {shown} |")
    return lines


def _detection(incident: Incident) -> list[str]:
    lines = [f"- Incident declared {full_time(incident.declared_at)} by {cell(incident.declared_by)}."]
    if incident.alerts:
        first = min(incident.alerts.values(), key=lambda a: a.starts_at)
        lines.insert(0, f"- First alert: {cell(first.name)}, fired {full_time(first.starts_at)}.")
    if incident.acknowledged_at:
        lines.append(f"- Acknowledged {full_time(incident.acknowledged_at)}.")
    return lines


def _resolution(events: list[TimelineEvent]) -> str:
    resolved = [e for e in events if e.kind == "incident.resolved"]
    if not resolved:
        return prompt("how it was resolved")
    last = resolved[-1]
    how = cell(str(last.data.get("resolution") or "")) or "no resolution was written"
    return f"Resolved {full_time(last.ts)} by {cell(last.who)}: {how}"


def _action_items(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    items = [
        f"- [ ] {cell(ACTION_ITEM.sub('', str(e.data.get('text', ''))))} (noted by {cell(e.who)} at {hms(e.ts, day)})"
        for e in events
        if e.kind == "note" and e.data.get("action_item")
    ]
    return items or [prompt("none recorded: a note starting with TODO: in the console becomes one")]


def render_markdown(incident: Incident) -> str:
    """The postmortem of `incident` as Markdown."""
    events = [e for e in sorted(incident.events, key=lambda e: e.seq) if e.kind not in BOOKKEEPING]
    start, end = incident.impact_start, incident.resolved_at
    duration = format_duration((end - start).total_seconds()) if start and end else "ongoing"
    commander = cell(incident.commander) or "nobody took command"
    out = [
        f"# Postmortem: {cell(incident.title) or prompt('a title')} ({incident.id})",
        "",
        f"- **Date:** {full_time(incident.declared_at)}",
        f"- **Duration:** {duration} (impact start to resolved)",
        f"- **Severity:** {incident.severity}: {SEVERITIES.get(incident.severity, '')}",
        f"- **Status:** {incident.status} · **Commander:** {commander}",
        f"- **Impact:** {prompt('who and what was affected, and how much')}",
        "",
        "## Summary",
        "",
        prompt("two or three sentences someone outside the team understands"),
        "",
        "## Responders and roles",
        "",
        *responders(incident, events),
        "",
        "## Timeline (UTC)",
        "",
        *_timeline(events),
        "",
        "## Metrics",
        "",
        *_metrics(incident),
        "",
        "## Root Cause",
        "",
        prompt("why it happened: the chain of causes, not who"),
        "",
        "## Impact",
        "",
        prompt("users, requests, data or money affected, and for how long"),
        "",
        "## The alerts",
        "",
        *alerts(incident, events),
        "",
        "## Detection",
        "",
        *_detection(incident),
        "",
        prompt("was it detected by an alert, and fast enough?"),
        "",
        "## Response",
        "",
        *(response(incident, events) or [prompt("no actions were recorded; say what was done")]),
        "",
        "## Resolution",
        "",
        _resolution(events),
        "",
        "## Lessons Learned",
        "",
        "### What went well",
        "",
        prompt("what helped"),
        "",
        "### What didn't",
        "",
        prompt("what got in the way"),
        "",
        "## Action Items",
        "",
        *_action_items(events, incident.declared_at),
        "",
    ]
    return "\n".join(out)


def render_json(incident: Incident) -> str:
    """The raw events, in `seq` order, as the journal holds them (the export events too)."""
    records = [json.loads(e.to_line()) for e in sorted(incident.events, key=lambda e: e.seq)]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def render_timeline(incident: Incident) -> str:
    """`oncall-tui timeline`: one line an event, UTC first."""
    lines = [
        f"{incident.id}  {clean_line(incident.title, 200)}  {incident.severity} · {incident.status} · {incident.stage}"
    ]
    for event in sorted(incident.events, key=lambda e: e.seq):
        lines.append(
            f"{event.seq:>5}  {format_ts(event.ts)}  {clean_line(event.who, 60):<12} {clean_line(event.summary, 500)}"
        )
    return "\n".join(lines) + "\n"
