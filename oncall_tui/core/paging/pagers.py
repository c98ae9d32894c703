"""Paging: an escalation that reaches a person through what the team already runs.

A page is sent first and recorded only once the service accepted it, so the journal never
says "paged dana" for a page nobody received. Two ways, chosen by `paging:` in config.yaml:

- `AlertmanagerPager`: a page is an alert (`alertname="OncallPage"`) posted to the team's
  Alertmanager, whose routes deliver it (Slack, PagerDuty, email: whatever it has), so the
  console needs no credentials for any of them. Alertmanager forgets an alert at its
  `endsAt`, so a standing page is posted again before then, and ended by posting it with
  `endsAt` = now.
- `PagerDutyEventsPager`: Events API v2 `trigger`, `acknowledge` and `resolve`, keyed by the
  incident and the level.

`Page` is what the journal says about one page; `closing` says which pages an incident's
state has made due to end (acknowledged, escalated past, resolved).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.alerts.models import PAGE_ALERTNAME, Alert
from oncall_tui.core.config import AlertmanagerSource, Config
from oncall_tui.core.incidents.timeline import format_ts
from oncall_tui.core.pagerduty.events import MAX_RETRY_AFTER, EventsApi, EventsError

AGENT = "paging"
"""`data.agent` of what the console does to a page by itself (ending it, posting it again)."""
URGENT = ("SEV-1", "SEV-2")
LIFETIME = 5
"""A posted page ends this many repost intervals later unless it is posted again."""


class PagingError(Exception):
    """A page (or its end) was not accepted; `str()` is one line naming the service."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What an escalation asks to page: one level of one incident."""

    incident_id: str
    uid: str
    """Unique to the incident's journal (INC ids repeat across data dirs): in every page key,
    so two teams' `INC-20261127-0001` never merge into one page at a service."""
    title: str
    severity: str
    level: int
    targets: tuple[str, ...]
    escalated_by: str
    runbook: str = ""

    @property
    def alert_severity(self) -> str:
        return "critical" if self.severity in URGENT else "warning"

    def description(self) -> str:
        text = f"{self.title} ({self.severity}). Escalated to level {self.level} by {self.escalated_by}."
        return text + (f" Runbook: {self.runbook}" if self.runbook else "")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One page as a pager sends it: `body` is kept in the journal and posted again as is."""

    key: str
    who: tuple[str, ...]
    body: dict[str, Any]


@dataclass(slots=True)
class Page:
    """One page, as the journal tells it."""

    key: str
    level: int
    who: tuple[str, ...]
    via: str
    how: str
    paged_at: datetime
    body: dict[str, Any]
    acked_by: str = ""
    """Who acknowledged it in the console (their page, or their level's)."""
    service_acked: bool = False
    """The service accepted an acknowledge (PagerDuty Events)."""
    resolved_at: datetime | None = None
    lapsed: bool = False
    """Alertmanager ended it by itself (not posted again in time), or may have, and no post has
    brought it back."""
    lapse_seen: bool = False
    """The lapse is a fact: Alertmanager said it no longer had the page (not only that no post
    reached it in time)."""

    @property
    def standing(self) -> bool:
        return self.resolved_at is None

    @classmethod
    def from_data(cls, raw: dict[str, Any], at: datetime) -> Page:
        return cls(
            str(raw["key"]),
            int(raw.get("level", 0)),
            tuple(str(w) for w in raw.get("who") or ()),
            str(raw.get("via", "")),
            str(raw.get("how", "")),
            at,
            dict(raw.get("body") or {}),
        )

    def describe(self) -> str:
        """`dana (level 2) through Alertmanager prod`"""
        return f"{', '.join(self.who) or 'nobody'} (level {self.level}) through {self.how}"


def closing(pages: dict[str, Page], is_open: bool, level: int) -> list[tuple[Page, str, str]]:
    """The standing pages an incident's state has made due to end: (page, action, reason),
    action being `resolve` or `acknowledge` (which Alertmanager, knowing no such thing, takes
    as resolve)."""
    due = []
    for page in pages.values():
        if not page.standing:
            continue
        if not is_open:
            due.append((page, "resolve", "the incident was resolved"))
        elif level > page.level:
            due.append((page, "resolve", f"escalated to level {level}"))
        elif page.acked_by and not page.service_acked:
            due.append((page, "acknowledge", f"acknowledged by {page.acked_by}"))
    return due


class Pager(Protocol):
    via: str
    """Recorded with each page: `alertmanager:prod`, `pagerduty_events`."""
    how: str
    """Said to the user: `Alertmanager prod`, `PagerDuty Events`."""
    repost_every: float | None
    """Seconds between posts of a standing page (None: the service keeps it)."""
    worst_send: float
    """The longest one `send` can take, retries and waits included (seconds)."""

    def plan(self, request: PageRequest) -> list[Outgoing]: ...

    def send(self, page: Outgoing, now: datetime) -> str:
        """Deliver; what the service said (`accepted by prod`). Raises PagingError."""
        ...

    def repost(self, page: Page, now: datetime) -> None: ...

    def close(self, page: Page, action: str, now: datetime) -> str: ...

    def live(self, page: Page) -> bool | None:
        """Whether the service still has the page (None: it cannot be told)."""
        ...


class AlertmanagerPager:
    """Pages as alerts posted to one Alertmanager, and every member of its HA cluster, as
    Prometheus sends to each: accepted once one of them accepted."""

    def __init__(self, sources: list[AlertmanagerSource], name: str, repost_every: float) -> None:
        named = next(s for s in sources if s.name == name)
        self.sources = [s for s in sources if s.name == name or (named.cluster and s.cluster == named.cluster)]
        self.via, self.how = f"alertmanager:{name}", f"Alertmanager {name}"
        self.repost_every = repost_every
        self.worst_send = max(s.timeout for s in self.sources)  # members are posted to at once

    def plan(self, request: PageRequest) -> list[Outgoing]:
        out = []
        for person in request.targets:
            labels = {
                "alertname": PAGE_ALERTNAME,
                "incident": request.incident_id,
                "level": str(request.level),
                "oncall": person,
                "severity": request.alert_severity,
            }
            annotations = {
                "summary": f"Page for {person}: {request.incident_id} {request.severity} {request.title}",
                "description": request.description(),
            }
            if request.runbook:
                annotations["runbook_url"] = request.runbook
            key = f"{request.incident_id}-{request.uid}-L{request.level}-{person}"
            labels["page"] = key
            out.append(Outgoing(key, (person,), {"labels": labels, "annotations": annotations}))
        return out

    def _post(self, body: dict[str, Any], starts: datetime, ends: datetime, every: bool = False) -> str:
        """Post to the members; accepted once one accepted, or, with `every` (an end: members do
        not share alerts, so one that missed it keeps paging), once all of them did."""
        alert = {**body, "startsAt": format_ts(starts), "endsAt": format_ts(ends)}

        async def post_to(source: AlertmanagerSource) -> str | None:
            try:
                async with AlertmanagerClient(source) as client:
                    await client.post_alerts([alert])
            except AlertmanagerError as error:
                return str(error)
            return None

        async def post_all() -> list[str | None]:
            return await asyncio.gather(*(post_to(s) for s in self.sources))

        errors = asyncio.run(post_all())
        accepted = [s.name for s, e in zip(self.sources, errors, strict=True) if e is None]
        if not accepted or (every and len(accepted) < len(self.sources)):
            raise PagingError("; ".join(e for e in errors if e))
        return f"accepted by {', '.join(accepted)}"

    def _ends(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.repost_every * LIFETIME)

    def send(self, page: Outgoing, now: datetime) -> str:
        return self._post(page.body, now, self._ends(now))

    def repost(self, page: Page, now: datetime) -> None:
        self._post(page.body, page.paged_at, self._ends(now))

    def close(self, page: Page, action: str, now: datetime) -> str:
        return self._post(page.body, page.paged_at, now, every=True)

    def live(self, page: Page) -> bool | None:
        """True if any member still has the page firing; None if none of them answered."""
        labels = page.body.get("labels") or {}
        key = labels.get("page")  # Alertmanager drops empty labels: match on the key where there is one

        def same(alert: Alert) -> bool:
            return alert.labels.get("page") == key if key else alert.labels == labels

        async def has(source: AlertmanagerSource) -> bool | None:
            try:
                async with AlertmanagerClient(source) as client:
                    alerts = await client.alerts([f'alertname="{PAGE_ALERTNAME}"'])
            except AlertmanagerError:
                return None
            return any(same(a) for a in alerts)

        async def ask_all() -> list[bool | None]:
            return await asyncio.gather(*(has(s) for s in self.sources))

        answers = asyncio.run(ask_all())
        if any(answers):
            return True
        return None if None in answers else False


class PagerDutyEventsPager:
    """Pages as PagerDuty Events v2: one per level, `dedup_key` the incident and the level;
    the service's escalation policy decides whom PagerDuty notifies."""

    via, how, repost_every = "pagerduty_events", "PagerDuty Events", None

    def __init__(self, api: EventsApi) -> None:
        self.api = api
        tries = 1 + api.config.retries
        self.worst_send = tries * api.config.timeout + (tries - 1) * MAX_RETRY_AFTER

    def plan(self, request: PageRequest) -> list[Outgoing]:
        who = ", ".join(request.targets)
        body: dict[str, Any] = {
            "summary": f"Page for {who}: {request.incident_id} {request.severity} {request.title}",
            "severity": request.alert_severity,
            "source": "oncall-tui",
            "custom_details": {
                "incident": request.incident_id,
                "level": request.level,
                "oncall": who,
                "escalated_by": request.escalated_by,
                "description": request.description(),
            },
        }
        if request.runbook.startswith(("http://", "https://")):
            body["links"] = [{"href": request.runbook, "text": "Runbook"}]
        return [Outgoing(f"{request.incident_id}-{request.uid}-L{request.level}", request.targets, body)]

    def _call(self, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.api, method)(*args, **kwargs)
        except EventsError as error:
            raise PagingError(str(error)) from None

    def send(self, page: Outgoing, now: datetime) -> str:
        self._call("trigger", page.key, timestamp=now, **page.body)
        return f"accepted, dedup_key {page.key}"

    def repost(self, page: Page, now: datetime) -> None:
        """PagerDuty keeps an alert until it is resolved: nothing to post again."""

    def close(self, page: Page, action: str, now: datetime) -> str:
        self._call(action, page.key)
        return "accepted"

    def live(self, page: Page) -> bool | None:
        """Events v2 cannot be asked (PagerDuty keeps the alert until it is resolved anyway)."""
        return None


def build_pager(config: Config, on_wait: Any = None) -> Pager | None:
    """The pager `paging:` asks for, or None: escalations then page nobody, and say so."""
    paging = config.paging
    if paging is None:
        return None
    if paging.alertmanager is not None:
        return AlertmanagerPager(config.alertmanagers, paging.alertmanager, paging.repost_interval)
    assert paging.pagerduty_events is not None
    return PagerDutyEventsPager(EventsApi(paging.pagerduty_events, on_wait))
