"""The postmortem's Response section: what was done, in the order it was done, and by whom.

A step shows its command exactly as it ran, in a fenced block (a multi-line command stays
multi-line: flattened, it would no longer be what ran), the values filled in, how it ended
and the last lines of its output. A silence shows its matchers, window, author and comment;
an escalation how each of its pages went.
"""

from __future__ import annotations

import itertools
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from oncall_tui.core.alerts.models import PayloadError, parse_time
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.postmortem_sections import PAGE_ENDS, is_page_attempt, paging
from oncall_tui.core.incidents.postmortem_text import cell, code, fenced, hms, output_lines, quoted, visible
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.runbooks.runner import TAIL_BYTES
from oncall_tui.core.runbooks.step_runs import RecordedRun, for_alert

RESPONSE_KINDS = (
    "incident.acknowledged",
    "incident.escalated",
    "incident.action_failed",
    "incident.severity_changed",
    "incident.stage_changed",
    "incident.commander_changed",
    "incident.reassigned",
    "incident.resolved",
    "page.acknowledged",
    "page.resolved",
    "silence.created",
    "silence.expired",
    "silence.lost",
    "alert.acknowledged",
    "runbook.step_started",
    "runbook.step_finished",
    "note",
    "oncall.handoff",
)
OUTPUT_LINES = 20
"""The last lines of a step's output shown; all of it is in the file it was saved to."""


def _pairs(events: list[TimelineEvent]) -> dict[int, TimelineEvent]:
    """Each step's end, by the `seq` of its start. Older journals did not say which start an
    end closes: there, it closes the latest open start of the same step."""
    ends: dict[int, TimelineEvent] = {}
    open_starts: list[TimelineEvent] = []
    for event in events:
        if event.kind == "runbook.step_started":
            open_starts.append(event)
        elif event.kind == "runbook.step_finished":
            seq = event.data.get("started_seq")
            if not isinstance(seq, int):
                same = [s for s in open_starts if _step_key(s) == _step_key(event)]
                seq = same[-1].seq if same else None
            if seq is not None:
                ends[seq] = event
                open_starts = [s for s in open_starts if s.seq != seq]
    return ends


def _step_key(event: TimelineEvent) -> tuple[str, ...]:
    return tuple(str(event.data.get(k) or "") for k in ("runbook", "step", "alert"))


def _outcome(finished: TimelineEvent | None) -> str:
    """How a step ended, as its end says (`exit 0 in 1.2 s`, `not run (dry run)`, ...)."""
    if finished is None:
        return "its end is not recorded: it may still be running, or its console stopped before recording it"
    data = finished.data
    if data.get("dry_run"):
        return "not run (dry run)"
    if data.get("error"):
        return f"could not start: {cell(str(data['error']))}"
    try:
        outcome = RecordedRun(finished).outcome
        how = outcome.describe(timed="duration_s" in data) if outcome else cell(finished.summary)
    except (ValueError, TypeError):  # a journal this console did not write: say what it says
        how = cell(finished.summary)
    reason = f" ({cell(str(data['reason']))})" if data.get("reason") else ""
    return how + reason


def _output(data: dict[str, Any]) -> list[str]:
    """The last lines of a step's output, in a block nothing in them can close, and where all of it is."""
    if "output_tail" not in data:
        return []
    shown, count = output_lines(str(data.get("output_tail") or ""), OUTPUT_LINES)
    size = data.get("output_bytes") or data.get("output_saved_bytes") or 0
    size = size if isinstance(size, int) else 0
    saved = f", saved in {code(str(data['output_file']))}" if data.get("output_file") else ", not saved"
    early = " (what was saved before its console stopped)" if data.get("output_complete") is False else ""
    if not shown:
        return ["", f"  No output{early}{saved}."]
    whole = count <= OUTPUT_LINES and size <= TAIL_BYTES
    what = "Its output" if whole else f"The last {len(shown)} lines of its output"
    return ["", f"  {what}{early} ({size:,} bytes{saved}):", "", *fenced("\n".join(shown), "text", "  ")]


def _step(incident: Incident, started: TimelineEvent | None, finished: TimelineEvent | None) -> list[str]:
    """One run of a step: its start (else, in older journals, its end) and whatever else is known."""
    first = started or finished
    assert first is not None
    data = {**(started.data if started else {}), **(finished.data if finished else {})}
    link = incident.alerts.get(str(data.get("alert") or ""))
    alert = for_alert(link.as_alert()) if link else (f" for {data['alert_name']}" if data.get("alert_name") else "")
    runbook = Path(str(data.get("runbook", ""))).name
    title = f"step {data.get('step', '?')} “{data.get('name', '')}” of {runbook}{alert}"
    day = incident.declared_at
    lines = [f"- {hms(first.ts, day)} {cell(first.who)}: {cell(title)}: {_outcome(finished)}"]
    if finished is not None and started is not None and finished.actor != started.actor:
        lines[0] += f" (its end recorded {hms(finished.ts, day)} by {cell(finished.who)})"
    command = str(data.get("command") or "")
    lines += ["", *fenced(visible(command), "sh", "  ")] if command.strip() else ["", "  No command recorded."]
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    if params:
        values = " ".join(code(f"{visible(str(k))}={quoted(str(v))}") for k, v in params.items())
        lines += ["", f"  Values filled in: {values}"]
    return lines + _output(data)


def _when(text: object) -> datetime | None:
    with suppress(PayloadError):
        return parse_time(text, "time")
    return None


def _silence(event: TimelineEvent, day: datetime | None) -> list[str]:
    data = event.data
    lines = [f"- {hms(event.ts, day)} {cell(event.who)}: {cell(event.summary)}"]
    matchers = " ".join(code(visible(str(m))) for m in data.get("matchers") or [])
    if matchers:
        lines.append(f"  - Matchers: {matchers}")
    start, end = _when(data.get("starts_at")), _when(data.get("ends_at"))
    if start and end:
        by = f", created by {cell(str(data['created_by']))}" if data.get("created_by") else ""
        lines.append(f"  - {hms(start, day)} → {hms(end, day)} UTC{by}")
    if data.get("comment"):
        lines.append(f"  - Comment: {cell(str(data['comment']))}")
    return lines


def _line(event: TimelineEvent, day: datetime | None) -> str:
    """Everything but steps and silences: one line, its summary, and how pages went."""
    data, text = event.data, cell(event.summary)
    if is_page_attempt(event):
        pages, note = paging(event)
        outcomes = [p.short() for p in pages] + ([note] if note else [])
        level = cell(str(data.get("level", "?")))
        # the outcomes say who was paged and how: the summary would say it twice
        text = (
            f"escalation to level {level} failed"
            if event.kind == "incident.action_failed"
            else f"Escalated to level {level}"
        )
        text += " — " + "; ".join(outcomes)
    elif event.kind in PAGE_ENDS:
        verb = "acknowledged" if event.kind == "page.acknowledged" else "ended"
        to = cell(", ".join(str(w) for w in data.get("who") or []))
        where = f" at {cell(str(data['how']))}" if data.get("how") else ""
        reason = f": {cell(str(data['reason']))}" if data.get("reason") else ""
        text = f"{verb} page {code(str(data.get('key', '')))}" + (f" to {to}" if to else "") + where + reason
    return f"- {hms(event.ts, day)} {cell(event.who)}: {text}"


def response(incident: Incident, events: list[TimelineEvent]) -> list[str]:
    """What was done, in `seq` order: blocks (steps) are set apart by blank lines."""
    day, ends = incident.declared_at, _pairs(events)
    closed = {e.seq for e in ends.values()}
    entries: list[list[str]] = []
    for event in events:
        if event.kind not in RESPONSE_KINDS:
            continue
        if event.kind == "runbook.step_started":
            entries.append(_step(incident, event, ends.get(event.seq)))
        elif event.kind == "runbook.step_finished":
            if event.seq not in closed:  # an end whose start is not in the journal
                entries.append(_step(incident, None, event))
        elif event.kind.startswith("silence."):
            entries.append(_silence(event, day))
        else:
            entries.append([_line(event, day)])
    lines = entries[0] if entries else []
    for before, entry in itertools.pairwise(entries):
        lines += ([""] if "" in before or "" in entry else []) + entry
    return lines
