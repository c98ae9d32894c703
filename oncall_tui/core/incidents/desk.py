"""The incident desk: every incident in the data dir, and the actions that change them.

`IncidentDesk` runs the actions: each is checked, confirmed with the incident provider
(the local one confirms at once; PagerDuty's, later, only once the API has), appended to
the journal and fsynced, and only then applied and returned as done.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from oncall_tui.core.alerts.matchers import MatcherError, matches_all
from oncall_tui.core.alerts.models import Alert, SilenceMatcher, SilenceRequest
from oncall_tui.core.alerts.tracking import NEVER, Presence, Sightings, sender
from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents.incident import (
    ACTION_ITEM,
    ALERT_SEVERITY_TO_SEV,
    SEVERITIES,
    STAGES,
    Incident,
    LinkedAlert,
    default_title,
    group_key,
    linked,
    named,
)
from oncall_tui.core.incidents.timeline import CONSOLE, ClaimedError, Journal, JournalError, TimelineEvent, format_ts
from oncall_tui.core.paging.keeping import PageKeeper
from oncall_tui.core.paging.pagers import Page, Pager, PageRequest
from oncall_tui.core.private import private_dir, write_private
from oncall_tui.core.timefmt import utc_now

if TYPE_CHECKING:
    from oncall_tui.core.oncall.handoffs import Handoff

AUTO_DECLARE = "auto_declare"
STORM = ("(storm)",)
"""Claims the storm incident while it is being declared."""
INCIDENT_FILE = re.compile(r"^INC-(\d{8})-(\d{4})\.jsonl$")
READ_ONLY = "read-only (started with --read-only): nothing is sent or recorded"
CLAIM_TTL = 120.0
"""Seconds an escalation's claim holds off other consoles' escalations of the same incident,
should the console holding it die before recording what its pages did (longer when its pages
could take longer to send)."""


OF_THE_SELECTED_ALERT = "the selected alert's"
THE_ONLY_OPEN = "the open one"
"""Two of `IncidentDesk.to_show`'s reasons, which the pane acts on."""


class IncidentError(Exception):
    """An action was refused or failed; `str()` is one line for the user."""


class NotPagedError(IncidentError):
    """No page of an escalation was accepted: recorded as failed, and `str()` says all of it."""


class IncidentProvider(Protocol):
    """Where incidents live besides the journal. `confirm` raises IncidentError if refused."""

    name: str

    def confirm(self, incident: Incident, action: str, data: dict[str, Any]) -> dict[str, Any]:
        """Carry out `action` outside; return what to add to the event's data."""
        ...


class LocalProvider:
    """Incidents that live only in the journal: every action is confirmed at once."""

    name = "local"

    def confirm(self, incident: Incident, action: str, data: dict[str, Any]) -> dict[str, Any]:
        return {}


class IncidentDesk:
    """Every incident in the data dir, and the actions that change them."""

    def __init__(
        self,
        data_dir: Path,
        actor: str,
        provider: IncidentProvider | None = None,
        clock: Callable[[], datetime] = utc_now,
        pager: Pager | None = None,
        read_only: bool = False,
    ) -> None:
        self.dir = data_dir / "incidents"
        self.read_only = read_only
        """Started with --read-only: every action is refused here, before anything is sent or
        written, whichever path asks for it."""
        self.keeper = PageKeeper(self, pager) if pager else None
        """How escalations page, and who keeps their pages (None: they page nobody, and say so)."""
        self.actor = actor
        self.names = frozenset({actor})
        """Every name the person at the keyboard goes by where pages name them (their email, their
        PagerDuty name): a page to any of them is theirs to acknowledge."""
        self.provider = provider or LocalProvider()
        self.clock = clock
        self.incidents: dict[str, Incident] = {}
        self.journals: dict[str, Journal] = {}
        self.problems: list[str] = []
        # The console runs actions in worker threads and tracks alerts from its poll loop.
        # Writers hold the lock; the UI reads without it, so a dict it may be iterating is
        # replaced, never changed in place (`incidents` here, `alerts` of an incident).
        self.lock = threading.RLock()
        self.oncall: Callable[[], list[dict[str, Any]] | None] | None = None
        """Who is on call at each level now, recorded with each declaration (set by the console)."""
        self._homes_cache: tuple[tuple, tuple[dict, ...], dict[tuple[str, ...], Incident]] | None = None
        self._declaring: set[tuple[str, ...]] = set()
        """Groups auto_declare is declaring right now (outside the lock, the provider may be slow)."""
        self._storm_counted: tuple[tuple[str, int] | None, str] = (None, "")

    @property
    def pager(self) -> Pager | None:
        return self.keeper.pager if self.keeper else None

    # -- reading --------------------------------------------------------------------------
    def load(self) -> IncidentDesk:
        """Open every journal not open yet (at start, and those other consoles created since);
        problems found (and repaired) are in `problems`."""
        if not self.dir.is_dir():
            return self
        for path in sorted(self.dir.glob("INC-*.jsonl")):
            if not INCIDENT_FILE.match(path.name) or path.stem in self.journals:
                continue
            try:
                journal = Journal.open(path, self.clock)
            except JournalError as error:
                self.problems.append(str(error))
                continue
            self.problems.extend(journal.problems)
            self.journals[journal.incident] = journal
            incident = Incident.from_events(journal.incident, journal.events)
            self.incidents = {**self.incidents, incident.id: incident}  # the UI may be reading the old one
        return self

    def get(self, incident_id: str) -> Incident:
        """The incident, with whatever other consoles appended to it folded in."""
        with self.lock:
            return self._get(incident_id)

    def _get(self, incident_id: str) -> Incident:
        try:
            incident = self.incidents[incident_id]
        except KeyError:
            raise IncidentError(f"no incident {incident_id!r} in {self.dir}") from None
        try:
            self.journals[incident_id].refresh()
        except JournalError as error:
            raise IncidentError(str(error)) from None
        self._catch_up(incident)
        return incident

    def _catch_up(self, incident: Incident) -> None:
        # The incident's events are always a prefix of its journal's.
        for event in self.journals[incident.id].events[len(incident.events) :]:
            incident.apply(event)

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents.values() if i.is_open]

    def to_show(
        self,
        alert: Alert | None,
        chosen: str | None = None,
        why_chosen: str = "chosen",
        group_by: list[str] | None = None,
    ) -> tuple[Incident | None, str]:
        """The incident the console shows, and why, in a few words: the one `chosen` (with I,
        or just declared or resolved here: the pane lets go of it when the user moves the
        cursor), open or not; else the selected alert's open one (`of_alert`); else the most
        urgent open (triggered before acknowledged, then by severity, then the longest open)."""
        incidents = self.incidents  # one read: a worker may replace it
        picked = incidents.get(chosen or "")
        if picked is not None:
            return picked, why_chosen or "chosen"
        own = self.of_alert(alert, group_by or []) if alert is not None else None
        if own is not None:
            return own, OF_THE_SELECTED_ALERT
        open_ones = [i for i in incidents.values() if i.is_open]
        if not open_ones:
            return None, ""
        urgent = min(open_ones, key=_urgency)
        return urgent, "the most urgent open" if len(open_ones) > 1 else THE_ONLY_OPEN

    def of_alert(self, alert: Alert, group_by: list[str]) -> Incident | None:
        """The open incident an alert belongs to: a page's own; else the latest linking it; else
        the latest of its group. What the pane shows for it, and what a step run for it joins."""
        open_ones = [i for i in self.incidents.values() if i.is_open]
        of_page = alert.labels.get("incident") if alert.is_page else None
        linked = [i for i in open_ones if alert.fingerprint in i.alerts or i.id == of_page]
        if linked:
            return max(linked, key=lambda i: i.declared_at or datetime.min.replace(tzinfo=UTC))
        return self.of_group(alert.labels, group_by) if group_by else None

    # -- writing --------------------------------------------------------------------------
    def _record(
        self, incident: Incident, kind: str, summary: str, data: dict[str, Any], agent: str | None = None
    ) -> TimelineEvent:
        """Confirm with the provider, then record. A refusal is itself recorded, then raised.

        `agent`: what the console did by itself is recorded as `oncall-tui`, with `data.agent`
        naming on whose word (`alertmanager:prod`, `auto_declare`, `schedule`); everything else
        as the person at the keyboard."""
        self._refuse_if_read_only()
        actor = self.actor
        if agent:
            actor, data = CONSOLE, {**data, "agent": agent}
        # Outside the lock: a slow provider must not hold up the console's other writes.
        try:
            data = {**data, **self.provider.confirm(incident, kind, data)}
        except IncidentError as error:
            if kind != "incident.declared":  # a declaration that failed has no journal to say so
                failed = {"action": kind, "error": str(error)} | ({"agent": agent} if agent else {})
                with suppress(IncidentError):
                    self._write(incident, "incident.action_failed", f"Failed: {summary} ({error})", failed, actor)
            raise
        event = self._write(incident, kind, summary, data, actor)
        assert event is not None
        return event

    def _write(
        self,
        incident: Incident,
        kind: str,
        summary: str,
        data: dict[str, Any],
        actor: str | None = None,
        unless: Callable[[list[TimelineEvent]], bool] | None = None,
    ) -> TimelineEvent | None:
        self._refuse_if_read_only()
        with self.lock:
            try:
                event = self.journals[incident.id].append(kind, actor or self.actor, summary, data, unless=unless)
            except JournalError as error:
                raise IncidentError(str(error)) from None
            self._catch_up(incident)  # anything another console wrote first, then this event
            return event

    def merge(
        self, incident_id: str, key: str, kind: str, summary: str, data: dict[str, Any], actor: str
    ) -> TimelineEvent | None:
        """Record what happened outside (a PagerDuty log entry, a note), once per `key` ever:
        the check runs under the journal's lock, so restarts and other consoles never double it.
        The provider is not asked: it already knows. The event, if it was recorded now."""
        incident = self.get(incident_id)
        if key in incident.merged:
            return None
        return self._write(
            incident,
            kind,
            summary,
            {**data, "merged": key},
            actor=actor,
            unless=lambda events: any(e.data.get("merged") == key for e in events),
        )

    def _new_journal(self) -> Journal:
        day = self.clock().strftime("%Y%m%d")
        private_dir(self.dir)  # 0700, and so is the data dir when this creates it
        taken = [
            int(m.group(2)) for p in self.dir.iterdir() if (m := INCIDENT_FILE.match(p.name)) and m.group(1) == day
        ]
        number = max(taken, default=0) + 1
        while True:  # another console may take the same number: O_EXCL decides
            try:
                return Journal.create(self.dir / f"INC-{day}-{number:04d}.jsonl", self.clock)
            except FileExistsError:
                number += 1

    def declare(
        self,
        title: str,
        alerts: Iterable[Alert] = (),
        severity: str | None = None,
        pagerduty: dict[str, Any] | None = None,
        agent: str | None = None,
        storm: bool = False,
        oncall: list[dict[str, Any]] | None = None,
    ) -> Incident:
        """A new incident, optionally from alerts (its severity then follows the worst of them).

        With `pagerduty` (a reference), the incident already exists there: it is adopted, and
        the provider is not asked to create it again. With `agent`, the console declares it by
        itself (auto_declare, adopting from PagerDuty): nobody is its commander until someone
        takes command. `oncall`: who was on call at each level as it was declared
        (`[{"level": 1, "users": ["alice"], "source": "ML Platform On-Call"}]`), for the postmortem.
        """
        self._refuse_if_read_only()  # before its journal is created
        alerts = [a for a in alerts if not a.is_page]  # a page belongs to its incident already
        if not title.strip():
            raise IncidentError("an incident needs a title")
        if severity is None:
            ranks = sorted(alerts, key=lambda a: a.severity_rank)
            severity = ALERT_SEVERITY_TO_SEV.get(ranks[0].severity.lower(), "SEV-3") if ranks else "SEV-3"
        if severity not in SEVERITIES:
            raise IncidentError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})")
        with self.lock:
            try:
                journal = self._new_journal()
            except OSError as error:
                raise IncidentError(f"cannot create the incident in {self.dir}: {error.strerror or error}") from None
            incident = Incident(journal.incident)
            self.journals[incident.id] = journal
        commander = "" if agent else self.actor
        data = {"title": title, "severity": severity, "commander": commander, "alerts": [linked(a) for a in alerts]}
        if storm:
            data["storm"] = True
        if oncall is None and self.oncall is not None:
            oncall = self.oncall()
        if oncall is not None:
            data["oncall"] = oncall
        summary = f"Declared {severity}: {title}"
        try:
            if pagerduty:  # adopted: PagerDuty has it already
                self._write(
                    incident, "incident.declared", summary, data | {"pagerduty": pagerduty, "agent": agent}, CONSOLE
                )
            else:
                self._record(incident, "incident.declared", summary, data, agent)
        except IncidentError:  # refused or not recorded: no empty incident is left behind
            with self.lock:
                del self.journals[incident.id]
                journal.path.unlink(missing_ok=True)
            raise
        with self.lock:  # only a declared incident is shown; a new dict, as the UI may be reading the old one
            self.incidents = {**self.incidents, incident.id: incident}
        return incident

    def acknowledging(self, incident: Incident) -> tuple[list[Page], list[Page]]:
        """What `acknowledge` would do to the incident's standing pages: those it ends (the levels
        that paged this person), and those it leaves standing."""
        standing = [p for p in incident.pages.values() if p.standing]
        mine = {p.level for p in standing if self.names & set(p.who)}
        return [p for p in standing if p.level in mine], [p for p in standing if p.level not in mine]

    def acknowledge(self, incident_id: str) -> TimelineEvent:
        """The incident, and the standing pages of the levels that paged this person: once
        recorded, those pages are ended at their service. A second responder acknowledges their
        own page this way on an incident someone else already acknowledged."""
        incident = self._open(incident_id)
        ends, _ = self.acknowledging(incident)
        mine = {p.level for p in ends}
        keys = [p.key for p in ends if not p.acked_by]
        if incident.acknowledged_at and not keys:
            raise IncidentError(f"{incident_id} is already acknowledged")
        levels = ", ".join(str(level) for level in sorted(mine))
        summary = "Acknowledged" + (f" (the level {levels} page)" if keys else "")
        event = self._record(incident, "incident.acknowledged", summary, {"pages": keys} if keys else {})
        self.end_pages(incident)
        return event

    def escalate(
        self, incident_id: str, targets: list[str], last_level: int | None = None, to_level: int | None = None
    ) -> TimelineEvent:
        """The next level, paged through `pager` when there is one: sent first, recorded as paged
        only for the pages the service accepted. If none was accepted, the failure is recorded
        (`incident.action_failed`), the level stays where it was, and NotPagedError says why.
        `last_level`: the highest level configured; escalating past it is refused. `to_level`: the
        level the user confirmed (and `targets` are of); if another console escalated meanwhile,
        nothing is sent."""
        self.get(incident_id)  # an unknown incident is named
        journal = self.journals[incident_id]
        try:
            worst = self.keeper.pager.worst_send * max(1, len(targets)) if self.keeper else 0.0
            with journal.claim("escalating", self.actor, ttl=max(CLAIM_TTL, worst + 30)):
                incident = self._open(incident_id)  # read after the claim: what another console did is in
                return self._escalate(incident, targets, last_level, to_level)
        except ClaimedError as held:
            who = "another console of yours" if held.by == self.actor else held.by
            raise IncidentError(
                f"{who} is escalating {incident_id} now (since {held.at:%H:%M:%S} UTC): nothing was sent; "
                "look again in a moment"
            ) from None
        except JournalError as error:
            raise IncidentError(f"not escalated, nothing was sent: {error}") from None

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise IncidentError(READ_ONLY)

    def _escalate(
        self, incident: Incident, targets: list[str], last_level: int | None, to_level: int | None
    ) -> TimelineEvent:
        self._refuse_if_read_only()  # before any page is sent
        level = incident.escalation_level + 1
        if to_level is not None and level != to_level:
            raise IncidentError(
                f"{incident.id} is at level {incident.escalation_level} now (escalated meanwhile): nothing was sent; "
                "look again, then press e"
            )
        if last_level is not None and level > last_level:
            raise IncidentError(
                f"level {incident.escalation_level} is the last escalation level: there is nobody further to page"
            )
        who = ", ".join(targets) or "nobody"
        data: dict[str, Any] = {"level": level, "targets": targets}
        if self.provider.name == "pagerduty" and incident.pagerduty.get("id"):  # PagerDuty's policy pages
            summary = f"Escalated to level {level} in PagerDuty (on call there: {who})"
            return self._record(incident, "incident.escalated", summary, data | {"escalated_in": "pagerduty"})
        if self.keeper is None or not targets:
            data["unpaged"] = (
                "no paging is configured" if self.keeper is None else f"nobody is on call at level {level}"
            )
            return self._record(
                incident,
                "incident.escalated",
                f"Escalated to level {level} ({who}): nobody was paged: {data['unpaged']}",
                data,
            )
        pager = self.keeper.pager
        request = PageRequest(
            incident.id,
            incident.uid,
            incident.title,
            incident.severity,
            level,
            tuple(targets),
            self.actor,
            self._runbook(incident),
        )
        paged, errors = self.keeper.send(request)  # outside the lock: a slow service must not hold up other writes
        failed = {"via": pager.via, "how": pager.how, "page_error": errors} if errors else {}
        if not paged:
            reason = "; ".join(errors.values())
            data |= failed | {"action": "incident.escalated", "error": reason}
            with suppress(IncidentError):
                self._write(
                    incident, "incident.action_failed", f"Not paged: {who} through {pager.how} ({reason})", data
                )
            raise NotPagedError(
                f"Not paged: {who} through {pager.how}: {reason}. Still at level {level - 1}: e tries again."
            )
        names = ", ".join(n for p in paged for n in p["who"])
        summary = f"Escalated to level {level}: page for {names} accepted by {pager.how}"
        if errors:
            summary += "; not paged: " + ", ".join(f"{n} ({e})" for n, e in errors.items())
        try:
            event = self._record(incident, "incident.escalated", summary, data | {"paged": paged} | failed)
        except IncidentError as error:  # the service has the page: say so, not only that the record failed
            if pager.repost_every is None:
                keys = ", ".join(p["key"] for p in paged)
                stands = f"It stands in {pager.how} until it is resolved there (dedup_key {keys})."
            else:
                stands = "It stands there for a few minutes, then lapses: this console does not post it again."
            raise IncidentError(
                f"Page for {names} accepted by {pager.how}, but not recorded: {error}. {stands}"
            ) from None
        self.end_pages(incident)  # the level below stands down
        return event

    @staticmethod
    def _runbook(incident: Incident) -> str:
        """The first linked alert's runbook, for the page: a file name or an http(s) link, never
        another scheme (alert text goes on to Slack and email, where `javascript:` is a link)."""
        safe = (a.runbook for a in incident.alerts.values() if urlsplit(a.runbook).scheme in ("", "http", "https"))
        return next((r for r in safe if r), "")

    def end_pages(self, incident: Incident) -> list[str]:
        """End, at their service, the pages the incident's state says are due to end (see
        `PageKeeper.end`); the problems, one line each."""
        return self.keeper.end(incident) if self.keeper and not self.read_only else []

    def keep_pages(self, posted: dict[str, datetime]) -> list[str]:
        """Keep every incident's pages true at their service (see `PageKeeper.keep`)."""
        keeper, problems = self.keeper, []
        if keeper is None or self.read_only:
            return []
        with self.lock:
            self.load()  # incidents other consoles declared since: their pages are kept here too
        for incident in list(self.incidents.values()):
            if not (incident.is_open or keeper.concerns(incident, posted)):
                continue  # resolved, and nothing of it left to end: its journal is not read again
            with keeper.lock:
                try:
                    incident = self.get(incident.id)  # first: another console may have paged since
                except IncidentError as error:
                    problems.append(str(error))
                    continue
                if keeper.concerns(incident, posted):
                    problems += keeper.keep(incident, posted)
        return problems

    def record_silence(
        self,
        kind: str,
        silence_id: str,
        matchers: Iterable[SilenceMatcher],
        summary: str,
        firing: Iterable[Alert],
        request: SilenceRequest | None = None,
        agent: str | None = None,
    ) -> list[str]:
        """A silence created or expired from the console, on the record of every open incident
        whose alerts it catches (of those `firing`) or that already mentions it; with the
        `request` that made it, its window, author and comment too, for the postmortem; with
        `agent`, as the console's own event on its word (a silence an Alertmanager lost). The
        problems, one line each."""
        matchers, firing, problems = tuple(matchers), list(firing), []
        for incident in self.open_incidents():
            hit = any(a.fingerprint in incident.alerts and _catches(matchers, a.labels) for a in firing)
            mentioned = any(e.data.get("silence_id") == silence_id for e in incident.events)
            if not (hit or mentioned):
                continue
            if agent and any(e.kind == kind and e.data.get("silence_id") == silence_id for e in incident.events):
                continue  # the console's own word, once: another console on this record has said it
            data: dict[str, Any] = {"silence_id": silence_id, "matchers": [str(m) for m in matchers]}
            if request is not None:
                data |= {
                    "starts_at": format_ts(request.starts_at),
                    "ends_at": format_ts(request.ends_at),
                    "created_by": request.created_by,
                    "comment": request.comment,
                }
            try:
                self.record(incident.id, kind, summary, data, agent)
            except IncidentError as error:
                problems.append(f"Not recorded: {error}")
        return problems

    def record_ack(self, alerts: Iterable[Alert], silence_id: str, comment: str) -> list[str]:
        """Alerts acknowledged here (an `ACK!` silence), on the record of every open incident
        linked to one of them; the problems, one line each."""
        alerts, problems = list(alerts), []
        for incident in self.open_incidents():
            linked = [a for a in alerts if a.fingerprint in incident.alerts]
            if not linked:
                continue
            names = ", ".join(dict.fromkeys(a.name for a in linked[:5])) + (
                f" +{len(linked) - 5}" if len(linked) > 5 else ""
            )
            data = {"silence_id": silence_id, "fingerprints": [a.fingerprint for a in linked], "comment": comment}
            try:
                self.record(incident.id, "alert.acknowledged", f"Acknowledged {names} (silence {silence_id})", data)
            except IncidentError as error:
                problems.append(f"Not recorded: {error}")
        return problems

    def record_handoffs(self, changed: Iterable[Handoff], agent: str) -> list[str]:
        """Each on-call handoff on the record of every open incident, as the console's own event
        on `agent`'s word (`schedule`, `pagerduty`); the problems, one line each."""
        problems = []
        for handoff in changed:
            for incident in self.open_incidents():
                try:
                    self.record(incident.id, "oncall.handoff", handoff.summary, handoff.data, agent=agent)
                except IncidentError as error:
                    problems.append(f"Not recorded: {error}")
        return problems

    def export(self, incident_id: str) -> tuple[Path, str | None]:
        """Write the incident's postmortem (0600 in a 0700 dir: nobody else's to read) beside the
        journals, and record that it was (not when read-only). (its path, why it was written but
        not recorded); OSError when it could not be written."""
        from oncall_tui.core.incidents.postmortem import render_markdown  # (it reads step runs, which use the desk)

        incident = self.get(incident_id)
        path = self.dir.parent / "exports" / f"{incident.id}-postmortem.md"
        private_dir(path.parent)
        write_private(path, render_markdown(incident))
        if self.read_only:
            return path, None
        try:
            self.record(incident.id, "export", f"Exported the postmortem to {path}", {"path": str(path)})
        except IncidentError as error:
            return path, str(error)
        return path, None

    def write_once(
        self,
        incident: Incident,
        kind: str,
        summary: str,
        data: dict[str, Any],
        unless: Callable[[list[TimelineEvent]], bool],
    ) -> list[str]:
        """The console's own event, unless the journal (any console's) already has it (`unless`,
        asked under the journal's lock); the problem, if it could not be written."""
        try:
            self._write(incident, kind, summary, data, CONSOLE, unless=unless)
        except IncidentError as error:
            return [f"{incident.id}: not recorded: {summary} ({error})"]
        return []

    def set_severity(self, incident_id: str, severity: str) -> TimelineEvent:
        incident = self._open(incident_id)
        if severity not in SEVERITIES:
            raise IncidentError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})")
        if severity == incident.severity:
            raise IncidentError(f"{incident_id} is already {severity}")
        summary = f"Severity {incident.severity} → {severity}"
        return self._record(incident, "incident.severity_changed", summary, {"from": incident.severity, "to": severity})

    def advance_stage(self, incident_id: str) -> TimelineEvent:
        """The next workflow stage; leaving Mitigate marks the incident mitigated."""
        incident = self._open(incident_id)
        index = STAGES.index(incident.stage)
        if STAGES[index] == "Resolve":
            raise IncidentError("resolve the incident (R) to move on to Document")
        to = STAGES[index + 1]
        summary = "Mitigated; stage Resolve" if to == "Resolve" else f"Stage {incident.stage} → {to}"
        return self._record(incident, "incident.stage_changed", summary, {"from": incident.stage, "to": to})

    def resolve(self, incident_id: str, resolution: str) -> TimelineEvent:
        incident = self._open(incident_id)
        if not resolution.strip():
            raise IncidentError("say in one line how it was resolved")
        event = self._record(incident, "incident.resolved", f"Resolved: {resolution}", {"resolution": resolution})
        self.end_pages(incident)
        return event

    def note(self, incident_id: str, text: str) -> TimelineEvent:
        incident = self.get(incident_id)
        if not text.strip():
            raise IncidentError("an empty note was not recorded")
        item = bool(ACTION_ITEM.match(text))
        summary = ("Action item: " if item else "Note: ") + ACTION_ITEM.sub("", text)
        return self._record(incident, "note", summary, {"text": text, "action_item": item})

    def reassign(self, incident_id: str, who: str) -> TimelineEvent:
        incident = self._open(incident_id)
        if not who.strip():
            raise IncidentError("say who to reassign the incident to")
        summary = f"Reassigned to {who}"
        return self._record(incident, "incident.reassigned", summary, {"from": incident.assignee, "to": who.strip()})

    def take_command(self, incident_id: str) -> TimelineEvent:
        incident = self._open(incident_id)
        if incident.commander == self.actor:
            raise IncidentError(f"you are already the commander of {incident_id}")
        summary = f"Took command from {incident.commander or 'nobody'}"  # the actor beside it says who
        return self._record(
            incident, "incident.commander_changed", summary, {"from": incident.commander, "to": self.actor}
        )

    def record(
        self, incident_id: str, kind: str, summary: str, data: dict[str, Any], agent: str | None = None
    ) -> TimelineEvent:
        """An event on an incident: a person's (a silence, a step run), or, with `agent`, one the
        console records by itself (a handoff: `schedule`)."""
        return self._record(self.get(incident_id), kind, summary, data, agent)

    def track_alerts(
        self, sightings: Sightings, doubts: dict[str, dict[str, Presence]] | None = None, record: bool = True
    ) -> list[TimelineEvent]:
        """Record linked alerts resolving and firing again, by their sources' word (`sightings`),
        once each: one event per incident, change and reason. Unknown and waiting alerts (a
        source down, a restart's grace) are not recorded; with `doubts`, those the record has
        firing are put there, by incident and fingerprint, for the screen to say why (one it
        has resolved is no doubt: nothing says it fired again). `record=False` only looks."""
        recorded = []
        for incident in self.open_incidents():
            changes: dict[tuple[str, str, str], list[LinkedAlert]] = {}
            for link in incident.alerts.values():
                seen = link.seen_firing or NEVER  # linked while unseen: as if its source restarted since
                presence = sightings.presence(link.fingerprint, link.sources, seen, sender(link.generator_url))
                if presence.state in ("waiting", "unknown"):
                    if doubts is not None and link.firing:  # resolved on the record: nothing says otherwise
                        doubts.setdefault(incident.id, {})[link.fingerprint] = presence
                    continue
                if not record:
                    continue
                if presence.state == "firing" and not link.firing:
                    kind = "alert.fired"
                elif presence.state == "resolved" and link.firing:
                    kind = "alert.resolved"
                else:
                    continue
                changes.setdefault((kind, presence.agent, presence.reason), []).append(link)
            for (kind, agent, reason), links in changes.items():
                what = named(len(links), (link.name for link in links))
                data: dict[str, Any] = {"alerts": [{"fingerprint": a.fingerprint, "name": a.name} for a in links]}
                if kind == "alert.fired":
                    summary = f"{what} fired again"
                else:
                    summary, data["reason"] = f"{what} resolved: {reason}", reason
                recorded.append(self._record(incident, kind, summary, data, agent))
        return recorded

    def _homes(self, group_by: list[str]) -> dict[tuple[str, ...], Incident]:
        """The open incident of each group: the latest one linking an alert of it. Asked at each
        cursor move (the pane follows the alert): kept until an incident's alerts dict is
        replaced (it is, whole, on every change) or one opens or closes."""
        open_ones = self.open_incidents()
        key = (tuple(group_by), tuple(i.id for i in open_ones))
        linked = tuple(i.alerts for i in open_ones)  # held, so compared by identity: no id is reused
        cached = self._homes_cache
        if cached is not None and cached[0] == key and all(a is b for a, b in zip(cached[1], linked, strict=True)):
            return cached[2]
        homes: dict[tuple[str, ...], Incident] = {}
        for incident in open_ones:
            homes.update(dict.fromkeys((group_key(a.labels, group_by) for a in incident.alerts.values()), incident))
        self._homes_cache = (key, linked, homes)
        return homes

    def of_group(self, labels: dict[str, str], group_by: list[str]) -> Incident | None:
        """The latest open incident linking an alert of the same group as `labels`."""
        return self._homes(group_by).get(group_key(labels, group_by))

    def auto_declare(
        self,
        alerts: list[Alert],
        severities: list[str],
        group_by: list[str],
        limit: int = 3,
        window: float = 600.0,
    ) -> list[TimelineEvent]:
        """Declare (or join) an incident for each firing alert of these severities, once per group,
        and at most `limit` incidents per `window` seconds: past that, the groups join one storm
        incident (declared on the first overflow; while alerts keep joining it within `window`,
        every new group joins it too).

        An alert whose group already has an open incident is linked to it instead, so a group
        declares one incident however many alerts it has and however often it is polled. Every
        event is the console's own (`agent: auto_declare`); what joins an incident in one poll
        is one event.
        """
        wanted = {s.lower() for s in severities}
        joins: dict[str, tuple[Incident, list[Alert]]] = {}
        new_groups: dict[tuple[str, ...], list[Alert]] = {}
        with self.lock:  # decide under the lock; a group being declared is claimed, not declared twice
            homes = self._homes(group_by)
            linked_now = {fp for i in self.open_incidents() for fp in i.alerts}
            for alert in alerts:
                if alert.is_page:  # the console's own page: declaring from it would open a second incident
                    continue
                if alert.severity.lower() not in wanted or alert.state != "active" or alert.stale or alert.held:
                    continue
                if alert.fingerprint in linked_now:
                    continue
                key = group_key(alert.labels, group_by)
                home = homes.get(key)
                if home is not None:
                    joins.setdefault(home.id, (home, []))[1].append(alert)
                elif key not in self._declaring:  # being declared by another call: joins it next poll
                    new_groups.setdefault(key, []).append(alert)
            storm = self.storm_incident()
            raging = self.raging_storm(window) is not None
            room = 0 if raging else max(0, limit - self._declared_lately(window))
            own = dict(list(new_groups.items())[:room])
            overflow = [a for key, group in new_groups.items() if key not in own for a in group]
            if overflow and storm is None and STORM in self._declaring:
                overflow = []  # another call is declaring the storm: these join it next poll
            claimed = [*own, *([STORM] if overflow and storm is None else [])]
            self._declaring |= set(claimed)
        recorded: list[TimelineEvent] = []
        try:
            for incident, group in joins.values():
                recorded.append(self._join(incident, group, group_by))
            for group in own.values():  # the provider (PagerDuty) is asked without holding the lock
                recorded.append(self.declare(default_title(group[0]), group, agent=AUTO_DECLARE).events[0])
            if overflow and storm is not None:  # new groups: the storm grows (and says so if it was quiet)
                recorded.append(self._join(storm, overflow, group_by, grows=True, revived=not raging))
            elif overflow:
                groups = len({group_key(a.labels, group_by) for a in overflow})
                title = (
                    f"Alert storm: {groups:,} group(s), {len(overflow):,} alert(s) past the auto-declare limit"
                    f" ({limit} per {format_duration(window)})"
                )
                recorded.append(self.declare(title, overflow, agent=AUTO_DECLARE, storm=True).events[0])
        finally:
            with self.lock:
                self._declaring -= set(claimed)
        return recorded

    def _join(
        self, incident: Incident, alerts: list[Alert], group_by: list[str], grows: bool = False, revived: bool = False
    ) -> TimelineEvent:
        """Link alerts in one event. `grows`: groups of their own, past the limit, joining a storm."""
        groups = len({group_key(a.labels, group_by) for a in alerts})
        what = named(len(alerts), (a.name for a in alerts))
        summary = f"{what} joined" + (f" ({groups:,} groups)" if groups > 1 else "")
        data: dict[str, Any] = {"alerts": [linked(a) for a in alerts]}
        if grows:
            data |= {"new_groups": groups, "revived": revived}
        return self._record(incident, "alert.linked", summary, data, AUTO_DECLARE)

    def storm_incident(self) -> Incident | None:
        """The latest open storm incident."""
        storms = [i for i in self.open_incidents() if i.storm]
        return storms[-1] if storms else None

    def raging_storm(self, window: float) -> Incident | None:
        """The open storm incident, while it goes on: groups of their own joined it within `window`
        (new alerts of groups it already holds do not keep it going)."""
        storm = self.storm_incident()
        return storm if storm and storm.grew_at and self._within(storm.grew_at, window) else None

    def storm_summary(self, window: float, group_by: list[str]) -> str | None:
        """`INC-…: 1,671 groups · 4,997 alerts`, for the header while a storm rages (counted
        again only when it grew: it may hold thousands)."""
        storm = self.raging_storm(window)
        if storm is None:
            return None
        key = (storm.id, len(storm.alerts))
        if self._storm_counted[0] != key:
            groups = len({group_key(a.labels, group_by) for a in storm.alerts.values()})
            self._storm_counted = (key, f"{storm.id}: {groups:,} groups · {len(storm.alerts):,} alerts")
        return self._storm_counted[1]

    def _within(self, moment: datetime, window: float) -> bool:
        return (self.clock() - moment).total_seconds() <= window

    def _declared_lately(self, window: float) -> int:
        """How many incidents auto_declare declared (storms aside) in the last `window` seconds."""
        return sum(
            1
            for i in self.incidents.values()
            if not i.storm
            and i.events
            and i.events[0].agent == AUTO_DECLARE
            and i.declared_at is not None
            and self._within(i.declared_at, window)
        )

    def _open(self, incident_id: str) -> Incident:
        incident = self.get(incident_id)
        if not incident.is_open:
            raise IncidentError(f"{incident_id} is resolved")
        return incident


def _urgency(incident: Incident) -> tuple[bool, int, datetime]:
    """Sorts the most urgent first: not yet acknowledged, the worst severity, open the longest."""
    severity = list(SEVERITIES).index(incident.severity) if incident.severity in SEVERITIES else len(SEVERITIES)
    return incident.acknowledged_at is not None, severity, incident.declared_at or datetime.max.replace(tzinfo=UTC)


def _catches(matchers: tuple[SilenceMatcher, ...], labels: dict[str, str]) -> bool:
    """Whether the matchers catch these labels. A regex the console cannot read (a silence made
    elsewhere with RE2's `\\pL`, say) catches nothing here: such a silence is recorded only in
    an incident that already mentions it."""
    try:
        return matches_all(matchers, labels)
    except MatcherError:
        return False
