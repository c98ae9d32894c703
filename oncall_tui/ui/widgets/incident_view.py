"""What the incident pane draws: the incident at a glance, what needs doing first, and the
metrics so far; laid out for the pane's width."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import islice

from rich.text import Text

from oncall_tui.core.alerts.tracking import Presence
from oncall_tui.core.durations import format_duration, signed_duration
from oncall_tui.core.incidents.desk import THE_ONLY_OPEN
from oncall_tui.core.incidents.incident import SEVERITIES, STAGES, Incident
from oncall_tui.core.paging.pagers import Page
from oncall_tui.core.text import clean_line

SHORT_METRICS = {"time to acknowledge": "TTA", "time to mitigate": "TTM", "time to resolve": "TTR"}

NARROW = 40
"""Below this many columns the pane leaves out what a severity means, and the stages not reached."""


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def describe(
    incident: Incident | None,
    position: tuple[int, int],
    now: datetime,
    width: int = 0,
    pending: str | None = None,
    doubts: Mapping[str, Presence] | None = None,
    why: str = "",
    muted: Mapping[str, str] | None = None,
) -> Text:
    """The incident as the pane draws it in `width` columns (0: not laid out yet). `doubts`:
    by fingerprint, the linked alerts its sources cannot vouch for now, and why. `why`: why
    this incident of those open (`the selected alert's`, `chosen`, …). `muted`: by fingerprint,
    the linked alerts silenced or inhibited now."""
    if incident is None:
        return Text.assemble(
            ("INCIDENT", "bold"),
            "  none open\n\nPress i on an alert to declare one.",
            style="",
        )
    index, total = position
    narrow = 0 < width < NARROW
    where = ""
    if total > 1 or (total and not index):  # several open, or a resolved one shown while one is
        count = f"{index} of {total} open" if index else f"{total} open"
        if narrow:
            where = f" {index}/{total} · I" if index else f" · {count} · I"
        else:
            where = f"  ({why + ' · ' if why else ''}{count} · I switches)"
    elif why and why != THE_ONLY_OPEN and not narrow:  # the only one open: whose it is, if it is someone's
        where = f"  ({why})"
    label = "INCIDENT " if not narrow or len(f"INCIDENT {incident.id}{where}") < width else ""
    text = Text.assemble((label, "bold"), (incident.id, "bold"), where)  # one line, where it can be
    if narrow:  # how bad and where it stands, then what needs doing: at 80×24 the pane shows six lines
        text.append("\n")
        text.append(incident.severity, style="bold reverse")
        text.append(f" {incident.status}")
    # what needs doing now comes first: a small pane shows a few lines
    if pending:
        text.append(f"\n{pending}", style="bold italic")
    _page_trouble(text, incident)
    if incident.alerts and doubts:
        _doubts(text, incident, doubts)
    title = clean_line(incident.title, 200)
    if narrow and len(title) > width - 2:  # one line: what follows matters more
        title = title[: max(8, width - 3)] + "…"
    text.append(f"\n{title}", style="bold")
    if not narrow:  # with what it means, which would take three narrow lines
        text.append("\n")
        text.append(incident.severity, style="bold reverse")
        text.append(f" {SEVERITIES.get(incident.severity, '')}")
    _pages(text, incident)  # who was paged, before the rest: a small pane shows a few lines
    text.append("\n")
    if narrow:  # the stage alone, not the five
        text.append(f"[{incident.stage}]", style="bold")
        text.append(f" {STAGES.index(incident.stage) + 1} of {len(STAGES)}", style="dim")
    else:
        text.append(f"{incident.status} · ")
    for stage in STAGES if not narrow else ():
        current = stage == incident.stage
        text.append(f"[{stage}]" if current else stage, style="bold" if current else "dim")
        if stage != STAGES[-1]:
            text.append(" › ", style="dim")
    end = incident.resolved_at or now
    started = incident.declared_at or end
    seconds = (end - started).total_seconds()
    commander = f"commander {clean_line(incident.commander, 40) or 'nobody (c takes command)'}"
    if narrow:  # each on its own line, so that no number is cut from its words
        span = f"{'resolved after' if incident.resolved_at else 'open'} {format_duration(max(0, seconds))}"
        text.append(f"\nescalation L{incident.escalation_level} · {span}\n{commander}")
    else:
        span = f"{'resolved after' if incident.resolved_at else 'open'} {elapsed(seconds)}"
        text.append(f"\n{commander} · {span} · escalation level {incident.escalation_level}")
    if incident.pagerduty:
        text.append(f"\nPagerDuty #{incident.pagerduty.get('number')}")
        if incident.assignee:
            text.append(f" · assigned to {clean_line(incident.assignee, 40)}")
    elif incident.assignee:
        text.append(f"\nassigned to {clean_line(incident.assignee, 40)}")
    if incident.alerts:
        _alerts(text, incident, doubts or {}, muted or {})
    metrics = []
    for metric in incident.metrics():
        if metric.name in SHORT_METRICS:
            seconds = metric.seconds
            metrics.append(f"{SHORT_METRICS[metric.name]} {'—' if seconds is None else signed_duration(seconds)}")
    text.append("\n" + " · ".join(metrics))
    return text


def _pages(text: Text, incident: Incident) -> None:
    """Standing pages, as their services accepted them (lapsed ones are in `_page_trouble`)."""
    standing = [p for p in incident.pages.values() if p.standing and not _in_doubt(p)]
    if standing:
        shown = ", ".join(
            f"{clean_line(', '.join(p.who), 40)} L{p.level}" + (" (acked)" if p.acked_by else "") for p in standing[:3]
        )
        more = f" +{len(standing) - 3} more" if len(standing) > 3 else ""
        text.append(f"\npaged {shown}{more} through {clean_line(standing[0].how, 40)}")


def _page_trouble(text: Text, incident: Incident) -> None:
    """Pages nobody may be getting: lapsed ones, an escalation that paged nobody, and one whose
    page failed."""
    for page in (p for p in incident.pages.values() if p.standing and _in_doubt(p)):
        who, how = clean_line(", ".join(page.who), 40), clean_line(page.how, 40)
        text.append(
            f"\n✗ {who} L{page.level} may not be paged: the page {'' if page.lapse_seen else 'may have '}LAPSED at "
            f"{how} (reach them another way; it is posted again once it answers)",
            style="bold red",
        )
    escalated = next((e for e in reversed(incident.events) if e.kind == "incident.escalated"), None)
    if (
        escalated is not None
        and escalated.data.get("unpaged")
        and escalated.data.get("level") == incident.escalation_level
    ):
        level, unpaged = escalated.data["level"], clean_line(str(escalated.data["unpaged"]), 120)
        text.append(f"\n✗ L{level}: nobody was paged ({unpaged}): reach them another way", style="bold red")
    failure = incident.page_failure
    if failure is not None:
        errors = failure.data.get("page_error") or {}
        who = clean_line(", ".join(errors) or ", ".join(failure.data.get("targets") or ()), 40)
        error = clean_line("; ".join(str(e) for e in errors.values()) or str(failure.data.get("error", "")), 200)
        # a failed escalation can be tried again; part of a level that was paged cannot
        hint = "e tries again" if failure.kind == "incident.action_failed" else "reach them another way"
        text.append(f"\n✗ {who} NOT paged {failure.ts:%H:%M:%S} UTC: {error} ({hint})", style="bold red")


def _alerts(text: Text, incident: Incident, doubts: Mapping[str, Presence], muted: Mapping[str, str]) -> None:
    """The first linked alerts as the record has them ("unknown" for those in `doubts`, and
    "firing, silenced" for one `muted` now: still firing, but nobody is notified of it)."""
    shown = []
    for link in islice(incident.alerts.values(), 6):  # a storm holds thousands: only what is shown
        state = "unknown" if link.fingerprint in doubts else "firing" if link.firing else "resolved"
        if state == "firing" and link.fingerprint in muted:
            state = f"firing, {muted[link.fingerprint]}"
        shown.append(f"{clean_line(link.name, 40)} ({state})")
    more = len(incident.alerts) - len(shown)
    text.append("\nalerts " + ", ".join(shown) + (f" +{more} more" if more > 0 else ""))


def _doubts(text: Text, incident: Incident, doubts: Mapping[str, Presence]) -> None:
    """For the linked alerts its sources cannot vouch for now, why: `? DiskWillFill: no data
    from dr`, `? X: not seen since prod restarted`."""
    why: dict[str, list[str]] = {}
    for fingerprint, presence in doubts.items():
        link = incident.alerts.get(fingerprint)
        why.setdefault(presence.reason, []).append(clean_line(link.name, 40) if link else "?")
    for reason, names in why.items():
        who = names[0] if len(names) == 1 else f"{len(names):,} alerts"
        text.append(f"\n? {who}: {clean_line(reason, 200)}", style="bold")


def _in_doubt(page: Page) -> bool:
    """Lapsed, and nobody has answered it yet: its person may not know they are paged. Once
    acknowledged it only waits for its end to reach the service."""
    return page.lapsed and not page.acked_by
