"""An incident, as its journal tells it.

An `Incident` is never stored as such: it is folded from its journal's events, so the
file is the single truth and a restart resumes exactly where the last console stopped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oncall_tui.core.alerts.models import Alert, PayloadError, parse_time
from oncall_tui.core.incidents.timeline import CONSOLE, TimelineEvent, format_ts
from oncall_tui.core.paging.pagers import Page

SEVERITIES = {
    "SEV-1": "total outage, data loss or security breach: respond now, 24/7",
    "SEV-2": "partial outage, degraded performance or SLO violation: respond within 1 hour",
    "SEV-3": "minor degradation: next business day",
    "SEV-4": "cosmetic: planned work",
}
STAGES = ("Acknowledge", "Assess", "Mitigate", "Resolve", "Document")
ALERT_SEVERITY_TO_SEV = {"critical": "SEV-2", "page": "SEV-2", "error": "SEV-3", "warning": "SEV-3"}

ACTION_ITEM = re.compile(r"^\s*TODO:\s*", re.IGNORECASE)


def happened(at: Any, event: TimelineEvent) -> datetime:
    """When it happened: `at` for what was done elsewhere (PagerDuty says when), else when it was recorded."""
    if at:
        with suppress(PayloadError):
            return parse_time(at, "at")
    return event.ts


@dataclass(slots=True)
class LinkedAlert:
    fingerprint: str
    name: str
    severity: str
    starts_at: datetime
    firing: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    runbook: str = ""
    """Its runbook_url (or runbook) annotation when it was linked: how its runbook is found."""
    sources: tuple[str, ...] = ()
    """The Alertmanagers that reported it when it was linked (none in older journals: any)."""
    generator_url: str = ""
    summary: str = ""
    resolved_at: datetime | None = None
    """When its source last said it resolved (None while it fires)."""
    seen_firing: datetime | None = None
    """When the record last had it firing: linked, or fired again (a console started since has
    not seen it: whether its Alertmanager restarted after this is how its absence is judged).
    None: linked while unseen or stale, so never seen firing on the record."""

    def as_alert(self) -> Alert:
        """Enough of the alert to match its runbook again."""
        labels = {**self.labels, "alertname": self.name} if self.name else dict(self.labels)
        annotations = {"runbook_url": self.runbook} if self.runbook else {}
        return Alert(self.fingerprint, labels, annotations, self.starts_at, None, "", "active")


@dataclass
class Incident:
    """The state of one incident, folded from its events in `seq` order."""

    id: str
    title: str = ""
    severity: str = "SEV-3"
    status: str = "triggered"  # triggered | acknowledged | resolved
    stage: str = STAGES[0]
    commander: str = ""
    declared_by: str = ""
    """Who declared it: a person, or `oncall-tui (auto_declare)` for the console itself."""
    storm: bool = False
    """Declared for an alert storm: alerts past the auto-declare limit join it."""
    grew_at: datetime | None = None
    """For a storm: when groups of their own last joined it (or it was declared)."""
    escalation_level: int = 1
    alerts: dict[str, LinkedAlert] = field(default_factory=dict)
    declared_at: datetime | None = None
    impact_start: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str = ""
    assignee: str = ""
    pagerduty: dict[str, Any] = field(default_factory=dict)
    """The PagerDuty incident this one is (id, number, url), if any."""
    merged: set[str] = field(default_factory=set)
    """Keys of what was merged in from outside (PagerDuty log entries and notes)."""
    pages: dict[str, Page] = field(default_factory=dict)
    """Every page an escalation delivered, by key, standing until it was ended at its service."""
    page_failure: TimelineEvent | None = None
    """The latest escalation whose page could not be sent, until an escalation goes through."""
    events: list[TimelineEvent] = field(default_factory=list)

    @classmethod
    def from_events(cls, incident_id: str, events: Iterable[TimelineEvent]) -> Incident:
        incident = cls(incident_id)
        for event in sorted(events, key=lambda e: e.seq):
            incident.apply(event)
        return incident

    @property
    def uid(self) -> str:
        """Unique to this incident's journal (its id repeats in other data dirs): the start of its
        declaration's event id."""
        return self.events[0].id[:8] if self.events else ""

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def notes(self) -> list[TimelineEvent]:
        return [e for e in self.events if e.kind == "note"]

    @property
    def action_items(self) -> list[str]:
        return [ACTION_ITEM.sub("", e.data.get("text", "")) for e in self.notes if e.data.get("action_item")]

    @property
    def first_fired(self) -> datetime | None:
        """When the first linked alert started firing (the declaration, without alerts)."""
        starts = [a.starts_at for a in self.alerts.values()]
        return min(starts) if starts else self.declared_at

    def apply(self, event: TimelineEvent) -> None:
        """Fold one event into the state. Unknown kinds are kept in `events` and change nothing."""
        self.events.append(event)
        data, kind = event.data, event.kind
        if data.get("merged"):
            self.merged.add(data["merged"])
        if kind == "incident.declared":
            self.pagerduty = data.get("pagerduty") or {}
            self.title, self.severity = data.get("title", ""), data.get("severity", self.severity)
            self.commander = data.get("commander", event.actor)
            self.declared_by = event.who
            self.storm = bool(data.get("storm"))
            self.grew_at = event.ts if self.storm else None
            self.declared_at = happened(self.pagerduty.get("created_at"), event)  # adopted: when PagerDuty opened it
            self._link(data.get("alerts", []), event.ts)
            impact = data.get("impact_start")
            self.impact_start = parse_time(impact, "impact_start") if impact else self.first_fired
        elif kind == "incident.acknowledged":
            self.status = "acknowledged"
            self.acknowledged_at = self.acknowledged_at or happened(data.get("at"), event)
            self._advance_to("Assess")
            for key in data.get("pages") or ():
                if key in self.pages:
                    self.pages[key].acked_by = event.actor
        elif kind == "incident.escalated":
            self.escalation_level = int(data.get("level", self.escalation_level + 1))
            self.page_failure = event if data.get("page_error") else None  # some of the level not paged
            for raw in data.get("paged") or ():
                page = Page.from_data(raw, happened(raw.get("at"), event))
                self.pages = {**self.pages, page.key: page}  # the UI may be reading the old dict
        elif kind == "incident.action_failed" and data.get("action") == "incident.escalated":
            self.page_failure = event
        elif kind in ("page.lapsed", "page.reposted"):
            page = self.pages.get(data.get("key", ""))
            if page is not None:
                page.lapsed = kind == "page.lapsed"
                page.lapse_seen = page.lapsed and "found_at" in data  # found gone; else "may have lapsed"
        elif kind in ("page.acknowledged", "page.resolved"):
            page = self.pages.get(data.get("key", ""))
            if page is not None and kind == "page.acknowledged":
                page.service_acked = True
            elif page is not None:
                page.resolved_at = event.ts
        elif kind == "incident.severity_changed":
            self.severity = data.get("to", self.severity)
        elif kind == "incident.stage_changed":
            self.stage = data.get("to", self.stage)
            if STAGES.index(self.stage) >= STAGES.index("Resolve"):
                self.mitigated_at = self.mitigated_at or event.ts
        elif kind == "incident.commander_changed":
            self.commander = data.get("to", event.actor)
        elif kind == "incident.reassigned":
            self.assignee = data.get("to", "")
        elif kind == "incident.resolved":
            self.status, self.resolution = "resolved", data.get("resolution", "")
            self.resolved_at = happened(data.get("at"), event)
            self.mitigated_at = self.mitigated_at or self.resolved_at
            self._advance_to("Document")
        elif kind == "alert.linked":
            self._link(data["alerts"] if "alerts" in data else [data], event.ts)  # one alert, in older journals
            if data.get("new_groups"):
                self.grew_at = event.ts
        elif kind in ("alert.fired", "alert.resolved"):
            firing = kind == "alert.fired"
            for fingerprint in _fingerprints(data):
                link = self.alerts.get(fingerprint)
                if link is not None:
                    link.firing = firing
                    link.resolved_at = None if firing else event.ts
                    link.seen_firing = event.ts if firing else link.seen_firing

    def _link(self, raws: list[dict[str, Any]], at: datetime) -> None:
        """Link alerts as the journal recorded them (`linked()`), in one new dict: the UI may be
        reading the old one, and a storm links thousands at once."""
        if not raws:
            return
        alerts = dict(self.alerts)
        for raw in raws:
            labels = raw.get("labels")
            link = LinkedAlert(
                raw["fingerprint"],
                raw.get("name", ""),
                raw.get("severity", ""),
                parse_time(raw["starts_at"], "starts_at"),
                labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
                runbook=str(raw.get("runbook") or ""),
                sources=tuple(str(s) for s in raw.get("sources") or ()),
                generator_url=str(raw.get("generator_url") or ""),
                summary=str(raw.get("summary") or ""),
                seen_firing=None if raw.get("unseen") else at,
            )
            alerts[link.fingerprint] = link
        self.alerts = alerts

    def _advance_to(self, stage: str) -> None:
        if STAGES.index(self.stage) < STAGES.index(stage):
            self.stage = stage

    def metrics(self) -> list[Metric]:
        """The four response metrics, each named with the two timestamps it spans."""
        return [
            Metric("time to detect", "impact start", self.impact_start, "first alert fired", self.first_fired),
            Metric("time to acknowledge", "first alert fired", self.first_fired, "acknowledged", self.acknowledged_at),
            Metric("time to mitigate", "impact start", self.impact_start, "mitigated", self.mitigated_at),
            Metric("time to resolve", "impact start", self.impact_start, "resolved", self.resolved_at),
        ]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    start_label: str
    start: datetime | None
    end_label: str
    end: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


def _fingerprints(data: dict[str, Any]) -> list[str]:
    """The alerts an alert.fired or alert.resolved event is about (one, in older journals)."""
    if "alerts" in data:
        return [str(a.get("fingerprint")) for a in data["alerts"] if isinstance(a, dict)]
    return [str(data["fingerprint"])] if "fingerprint" in data else []


def default_title(alert: Alert) -> str:
    """An incident's title from its first alert: `HighErrorRate: ml-api error rate is 7.3%`."""
    summary = alert.annotations.get("summary", "").strip()
    return f"{alert.name}: {summary}" if summary else alert.name


def group_key(labels: dict[str, str], group_by: list[str]) -> tuple[str, ...]:
    return tuple(labels.get(name, "") for name in group_by)


def linked(alert: Alert) -> dict[str, Any]:
    """How an alert is recorded in the journal: enough to show it and to measure from it."""
    return {
        "fingerprint": alert.fingerprint,
        "name": alert.name,
        "severity": alert.severity,
        "starts_at": format_ts(alert.starts_at),
        "labels": alert.labels,
        "runbook": alert.annotations.get("runbook_url") or alert.annotations.get("runbook") or "",
        "sources": list(alert.sources),
        "generator_url": alert.generator_url,
        "summary": alert.annotations.get("summary", ""),
        **({"unseen": True} if alert.held or alert.stale else {}),  # not seen firing when linked
    }


def declared_by_a_person(incident: Incident) -> bool:
    """Declared by someone, not by the console on its own (`auto_declare`): an act on its alerts."""
    return any(e.kind == "incident.declared" and e.actor != CONSOLE for e in incident.events)


def named(count: int, names: Iterable[str]) -> str:
    """`Alert HighErrorRate` for one, `3 alerts (HighErrorRate ×2, DiskWillFill)` for several."""
    counted = Counter(names)
    if count == 1:
        return f"Alert {next(iter(counted), '')}"
    shown = ", ".join(f"{n} ×{c}" if c > 1 else n for n, c in counted.most_common(3))
    more = ", …" if len(counted) > 3 else ""
    return f"{count:,} alerts ({shown}{more})"
