"""The postmortem's sections about people and alerts: who was on call, paged, acknowledged,
commanded and acted, and what each linked alert was, all read from the journal alone.

Where a journal is older than what a section shows (who was on call, how a page went), the
section says it was not recorded: nothing is guessed from the config as it is today.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oncall_tui.core.incidents.incident import Incident, LinkedAlert, happened
from oncall_tui.core.incidents.postmortem_text import cell, code, full_time, hms, link, quoted, visible
from oncall_tui.core.incidents.timeline import CONSOLE, TimelineEvent

ALERTS_SHOWN = 100
"""Linked alerts shown one by one; a storm's others are counted (all are in `--format json`)."""


def _names(people: Any) -> str:
    """`dana, erin` from a journal's list of people (`nobody` for none)."""
    names = [str(p) for p in people] if isinstance(people, list | tuple) else [str(people or "")]
    return cell(", ".join(n for n in names if n)) or "nobody"


def _schedule(source: Any) -> str:
    """` (ML Platform On-Call)`: the schedule (or policy) a level's people came from; nothing
    for a level of named users, whose names say it all."""
    source = str(source or "")
    return f" ({cell(source)})" if source and source != "users" else ""


@dataclass(frozen=True, slots=True)
class Page:
    """One page an escalation sent, or tried to send, as the journal has it."""

    at: datetime
    by: str
    level: Any
    who: str
    how: str
    outcome: str
    key: str = ""
    accepted: bool = False
    """Its service accepted it: what happened after (routes, notifications) is the service's."""

    @property
    def via(self) -> str:
        return f" via {cell(self.how)}" if self.how else ""

    def short(self) -> str:
        """`page to dana via Alertmanager prod: accepted by prod` ("paged dana", or "delivered",
        would claim a notification only the service knows of)."""
        return f"page to {self.who}{self.via}: {self.outcome}"

    def line(self, day: datetime | None) -> str:
        """The page with its time, level and whose escalation sent it."""
        level = cell(str(self.level))
        return f"{hms(self.at, day)} page to {self.who} (level {level}){self.via}, on {self.by}'s escalation: {self.outcome}"


def paging(event: TimelineEvent) -> tuple[list[Page], str]:
    """The pages an `incident.escalated` (or a failed one, `incident.action_failed`) event
    sent or failed to send, and what it says when it paged nobody (why, or that older
    journals did not record paging)."""
    data, by = event.data, cell(event.who)
    level, how = data.get("level", "?"), str(data.get("how") or data.get("via") or "")
    pages = []
    for sent in data.get("paged") or []:
        if isinstance(sent, dict):
            accepted = cell(str(sent["detail"])) if sent.get("detail") else "accepted"
            pages.append(
                Page(
                    happened(sent.get("at"), event),
                    by,
                    sent.get("level", level),
                    _names(sent.get("who")),
                    str(sent.get("how") or sent.get("via") or how),
                    accepted,
                    str(sent.get("key") or ""),
                    accepted=True,
                )
            )
    failed = event.kind == "incident.action_failed"
    so = f"; not escalated to level {cell(str(level))}" if failed else ""
    errors = data.get("page_error") if isinstance(data.get("page_error"), dict) else {}
    for person, error in errors.items():
        pages.append(Page(event.ts, by, level, _names([person]), how, f"not sent: {cell(str(error))}{so}"))
    if failed and not errors:
        error = cell(str(data.get("error") or "no reason recorded"))
        pages.append(Page(event.ts, by, level, _names(data.get("targets")), how, f"not sent: {error}{so}"))
    if pages:
        return pages, ""
    if data.get("escalated_in") == "pagerduty":
        return [], "escalated in PagerDuty, whose escalation policy pages (its log entries say whom)"
    if data.get("unpaged"):
        return [], f"nobody was paged: {cell(str(data['unpaged']))}"
    if "paged" in data:
        return [], "nobody was paged (the journal does not say why)"
    return [], "paging not recorded"


def is_page_attempt(event: TimelineEvent) -> bool:
    return event.kind == "incident.escalated" or (
        event.kind == "incident.action_failed" and event.data.get("action") == "incident.escalated"
    )


PAGE_ENDS = ("page.acknowledged", "page.resolved")


def _page_ends(events: list[TimelineEvent], day: datetime | None) -> dict[str, list[str]]:
    """What the console did with each standing page at the service, and what it failed to do,
    by page key."""
    ends: dict[str, list[str]] = {}
    for event in events:
        data = event.data
        where = f" at {cell(str(data['how']))}" if data.get("how") else ""
        if event.kind in PAGE_ENDS:
            verb = "acknowledged" if event.kind == "page.acknowledged" else "ended"
            reason = f": {cell(str(data['reason']))}" if data.get("reason") else ""
        elif event.kind == "incident.action_failed" and data.get("action") in PAGE_ENDS:
            verb, reason = "could not be ended", f": {cell(str(data.get('error') or 'no reason recorded'))}"
        elif event.kind == "page.lapsed" and data.get("found_at"):  # a console found it gone when it started
            verb, reason = "found gone when a console reached it (lapsed, or Alertmanager restarted)", ""
        elif event.kind == "page.lapsed":  # not posted again in time: the service may have ended it by itself
            verb, reason = (
                "may have lapsed, not posted again",
                f": {cell(str(data.get('error') or 'no reason recorded'))}",
            )
        elif event.kind == "page.reposted":
            verb, reason = "posted again after it lapsed", ""
        else:
            continue
        line = f"{hms(event.ts, day)} {verb}{where} by {cell(event.who)}{reason}"
        ends.setdefault(str(data.get("key") or ""), []).append(line)
    return ends


def _paged(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    ends = _page_ends(events, day)
    lines = []
    for event in filter(is_page_attempt, events):
        pages, note = paging(event)
        for page in pages:
            lines.append(f"- {page.line(day)}")
            later = ends.get(page.key, []) if page.key else []
            lines += [f"  - {end}" for end in later] or (
                ["  - no end of this page is recorded"] if page.accepted else []
            )
        if note:
            level, targets = cell(str(event.data.get("level", "?"))), _names(event.data.get("targets"))
            lines.append(f"- {hms(event.ts, day)} level {level} ({targets}), escalated by {cell(event.who)}: {note}")
    return lines or ["- No escalation is recorded: nobody was paged from the console."]


def _on_call(declared: TimelineEvent | None) -> list[str]:
    oncall = declared.data.get("oncall") if declared else None
    if not isinstance(oncall, list):
        return ["- Not recorded: this incident's journal does not say who was on call."]
    lines = []
    for level in oncall:
        if isinstance(level, dict):
            where = _schedule(level.get("source"))
            lines.append(f"- Level {cell(str(level.get('level', '?')))}: {_names(level.get('users'))}{where}")
    return lines or ["- Nobody was on call at any level."]


def _commanders(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    lines = []
    for event in events:
        data, when, who = event.data, hms(event.ts, day), cell(event.who)
        if event.kind == "incident.declared":
            commander = cell(str(data.get("commander", event.actor)))
            if not commander:
                lines.append(f"- {when} nobody: {who} declared it, and the console takes no command")
            elif commander == cell(event.actor):
                lines.append(f"- {when} {commander}, who declared it")
            else:
                lines.append(f"- {when} {commander}, named when {who} declared it")
        elif event.kind == "incident.commander_changed":
            was, to = cell(str(data.get("from") or "")) or "nobody", cell(str(data.get("to", event.actor)))
            if to == cell(event.actor):
                lines.append(f"- {when} {to} took command from {was}")
            else:
                lines.append(f"- {when} {who} handed command from {was} to {to}")
    return lines


def _handoffs(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    lines = []
    for event in events:
        if event.kind == "oncall.handoff":
            data = event.data
            where = _schedule(data.get("source"))
            level, was, now = cell(str(data.get("level", "?"))), _names(data.get("from")), _names(data.get("to"))
            lines.append(f"- {hms(event.ts, day)} level {level}{where}: {was} → {now}, recorded by {cell(event.who)}")
    return lines or ["- None while the incident was open."]


def _acknowledgements(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    lines = []
    for event in events:
        if event.kind == "incident.acknowledged":
            when = hms(happened(event.data.get("at"), event), day)
            pages = [str(k) for k in event.data.get("pages") or []]
            what = ("their page " + ", ".join(code(k) for k in pages)) if pages else "the incident"
            lines.append(f"- {when} {cell(event.who)} acknowledged {what}")
        elif event.kind == "alert.acknowledged":  # an ACK! silence of linked alerts (A)
            count = len(event.data.get("fingerprints") or [])
            silence = code(str(event.data.get("silence_id", "?")))
            lines.append(
                f"- {hms(event.ts, day)} {cell(event.who)} acknowledged {count} linked alert(s) with silence {silence}"
            )
        elif event.kind == "silence.lost":  # an ack's silence its Alertmanager no longer had
            silence = code(str(event.data.get("silence_id", "?")))
            lines.append(
                f"- {hms(event.ts, day)} silence {silence} was gone, recorded by {cell(event.who)}: that ack held no longer"
            )
    return lines or ["- Nobody acknowledged it."]


def _who_acted(events: list[TimelineEvent], day: datetime | None) -> list[str]:
    """People, each with how much they did and when; the console's own events apart, as they
    are no person's."""
    people: dict[str, list[TimelineEvent]] = {}
    console: Counter[str] = Counter()
    for event in events:
        if event.actor == CONSOLE:
            console[event.agent or "unnamed"] += 1
        else:
            people.setdefault(event.actor, []).append(event)
    lines = ["| who | events | first (UTC) | last (UTC) |", "|---|---|---|---|"]
    for person, done in people.items():
        first, last = hms(done[0].ts, day), hms(done[-1].ts, day)
        lines.append(f"| {cell(person) or '(unnamed)'} | {len(done)} | {first} | {last} |")
    if not people:
        lines = ["- No person acted on the record."]
    if console:
        said = ", ".join(f"{cell(agent)} {count}" for agent, count in console.most_common())
        count = sum(console.values())
        lines += ["", f"The console ({CONSOLE}) on its own, not a person: {count} event{'s' * (count != 1)} ({said})."]
    return lines


def responders(incident: Incident, events: list[TimelineEvent]) -> list[str]:
    """Who was on call, changed hands, was paged, acknowledged, commanded and acted."""
    day = incident.declared_at
    declared = next((e for e in events if e.kind == "incident.declared"), None)
    return [
        "### On call when it was declared",
        "",
        *_on_call(declared),
        "",
        "### Commander",
        "",
        *(_commanders(events, day) or ["- Not recorded."]),
        "",
        "### On-call handoffs",
        "",
        *_handoffs(events, day),
        "",
        "### Pages",
        "",
        *_paged(events, day),
        "",
        "### Acknowledged",
        "",
        *_acknowledgements(events, day),
        "",
        "### Who acted",
        "",
        *_who_acted(events, day),
    ]


def _resolutions(events: list[TimelineEvent]) -> dict[str, TimelineEvent]:
    """The last `alert.resolved` event of each alert, by fingerprint: on whose word it resolved."""
    last = {}
    for event in events:
        if event.kind == "alert.resolved":
            for alert in event.data.get("alerts") or [event.data]:
                if isinstance(alert, dict) and alert.get("fingerprint"):
                    last[str(alert["fingerprint"])] = event
    return last


def _alert(alert: LinkedAlert, resolved: TimelineEvent | None, closed: datetime | None) -> list[str]:
    """`closed`: when the incident was resolved; its alerts are not followed after that."""
    labels = " ".join(code(f"{visible(k)}={quoted(v)}") for k, v in sorted(alert.labels.items()))
    summary = f": {cell(alert.summary)}" if alert.summary else ""
    if (alert.firing or alert.resolved_at is None) and closed is not None:
        end = f"still firing when the incident was resolved ({full_time(closed)}); not followed after"
    elif alert.firing or alert.resolved_at is None:
        end = "still firing: its source has not said it resolved"
    else:
        end = f"resolved {full_time(alert.resolved_at)}"
        if resolved is not None:
            reason = str(resolved.data.get("reason") or "")
            end += f", recorded by {cell(resolved.who)}" + (f": {cell(reason)}" if reason else "")
    return [
        f"- {cell(alert.name) or '(no alertname)'} ({cell(alert.severity) or 'no severity'}){summary}",
        f"  - Labels: {labels or 'not recorded'}",
        f"  - Fired {full_time(alert.starts_at)}; {end}",
        f"  - Source: {link(alert.generator_url) if alert.generator_url else 'no generatorURL recorded'}",
        f"  - Runbook: {link(alert.runbook) if alert.runbook else 'no runbook annotation'}",
    ]


def alerts(incident: Incident, events: list[TimelineEvent]) -> list[str]:
    """Each linked alert: its labels, when it fired and resolved, its graph and its runbook."""
    if not incident.alerts:
        return ["- No alerts were linked to this incident."]
    ordered = sorted(incident.alerts.values(), key=lambda a: (a.starts_at, a.name, a.fingerprint))
    resolutions = _resolutions(events)
    lines = [
        line for a in ordered[:ALERTS_SHOWN] for line in _alert(a, resolutions.get(a.fingerprint), incident.resolved_at)
    ]
    if len(ordered) > ALERTS_SHOWN:
        more = len(ordered) - ALERTS_SHOWN
        lines.append(f"- … and {more:,} more (every one is in `oncall-tui export --format json`)")
    return lines
