"""The postmortem: the classic template, filled in from the journal and nothing else.

What the journal knows (times, actions, alerts, resolution, action items, metrics) is
written out; what needs a human is a clearly marked prompt, never invented text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents import SEVERITIES, Incident
from oncall_tui.core.text import clean_line
from oncall_tui.core.timeline import TimelineEvent, format_ts

RESPONSE_KINDS = (
    "incident.acknowledged",
    "incident.escalated",
    "incident.severity_changed",
    "incident.stage_changed",
    "incident.commander_changed",
    "silence.created",
    "silence.expired",
    "runbook.step_finished",
    "oncall.handoff",
)


def prompt(what: str) -> str:
    return f"*(to fill in: {what})*"


_ACTIVE = re.compile(r"([\\`|<>\[\]])")
"""What would make text from an alert a link, an image, HTML, code or a new table cell."""


def _cell(text: str) -> str:
    """Text from the journal (alert annotations, labels, notes: untrusted), safe anywhere in the
    Markdown: one line, no control characters, and no link, image, HTML, code span or table
    cell of its own (each such character backslash-escaped, so it still reads the same)."""
    return _ACTIVE.sub(r"\\\1", clean_line(text, 500))


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def _timeline(events: list[TimelineEvent]) -> list[str]:
    lines = ["| # | time (UTC) | who | what |", "|---|---|---|---|"]
    previous: datetime | None = None
    for event in events:
        when = event.ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if previous and event.ts < previous:
            when += " (clock went back)"
        previous = event.ts
        lines.append(f"| {event.seq} | {when} | {_cell(event.who)} | {_cell(event.summary)} |")
    return lines


def _metrics(incident: Incident) -> list[str]:
    lines = ["| metric | from | to | duration |", "|---|---|---|---|"]
    for metric in incident.metrics():
        seconds = metric.seconds
        shown = "not yet" if seconds is None else ("-" if seconds < 0 else "") + format_duration(abs(seconds))
        lines.append(
            f"| {metric.name} | {metric.start_label} {_time(metric.start)} | {metric.end_label} {_time(metric.end)} | {shown} |"
        )
    return lines


def _code(text: str) -> str:
    """Inline code that survives any run of backticks in `text` (CommonMark: a longer fence, padded)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def _step(data: dict) -> str:
    """Which runbook, the exact command, and the output's digest, for a finished step."""
    runbook = Path(str(data.get("runbook", ""))).name
    command = clean_line(str(data.get("command", "")).strip(), 300)
    digest = str(data.get("output_sha256", ""))[:12]
    out = f" — {runbook}: {_code(command)}"
    return out + (f" (output sha256 {digest}…)" if digest else "")


def _response(events: Iterable[TimelineEvent]) -> list[str]:
    lines = []
    for event in events:
        if event.kind not in RESPONSE_KINDS:
            continue
        line = f"- {event.ts.strftime('%H:%M:%S')} {_cell(event.who)}: {_cell(event.summary)}"
        if event.kind == "runbook.step_finished":
            line += _step(event.data)
        lines.append(line)
    return lines or [prompt("no actions were recorded; say what was done")]


def render_markdown(incident: Incident) -> str:
    """The postmortem of `incident` as Markdown."""
    events = sorted(incident.events, key=lambda e: e.seq)
    start, end = incident.impact_start, incident.resolved_at
    duration = format_duration((end - start).total_seconds()) if start and end else "ongoing"
    title = _cell(incident.title) or prompt("a title")
    alerts = [
        f"- {_cell(a.name)} ({_cell(a.severity) or 'no severity'}), firing since {_time(a.starts_at)}"
        + ("" if a.firing else ", since resolved")
        for a in incident.alerts.values()
    ]
    detection = [f"- Incident declared {_time(incident.declared_at)} by {_cell(incident.declared_by)}."]
    commander = _cell(incident.commander) or "nobody took command"
    if incident.alerts:
        first = min(incident.alerts.values(), key=lambda a: a.starts_at)
        detection.insert(0, f"- First alert: {_cell(first.name)}, fired {_time(first.starts_at)}.")
    if incident.acknowledged_at:
        detection.append(f"- Acknowledged {_time(incident.acknowledged_at)}.")
    items = [f"- [ ] {_cell(item)}" for item in incident.action_items]
    out = [
        f"# Postmortem: {title} ({incident.id})",
        "",
        f"- **Date:** {_time(incident.declared_at)}",
        f"- **Duration:** {duration} (impact start to resolved)",
        f"- **Severity:** {incident.severity}: {SEVERITIES.get(incident.severity, '')}",
        f"- **Status:** {incident.status} · **Commander:** {commander}",
        f"- **Impact:** {prompt('who and what was affected, and how much')}",
        "",
        "## Summary",
        "",
        prompt("two or three sentences someone outside the team understands"),
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
        *(alerts or ["- No alerts were linked to this incident."]),
        "",
        prompt("users, requests, data or money affected, and for how long"),
        "",
        "## Detection",
        "",
        *detection,
        "",
        prompt("was it detected by an alert, and fast enough?"),
        "",
        "## Response",
        "",
        *_response(events),
        "",
        "## Resolution",
        "",
        _cell(incident.resolution) if incident.resolution else prompt("how it was resolved"),
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
        *(items or [prompt("none recorded: a note starting with TODO: in the console becomes one")]),
        "",
    ]
    return "\n".join(out)


def render_json(incident: Incident) -> str:
    """The raw events, in `seq` order, as the journal holds them."""
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
