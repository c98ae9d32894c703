"""Keeping pages true at their service: sending an escalation's pages, ending those the
incident's state has made due to end, posting standing ones again before they lapse, and
putting on the record what the console did to them by itself (as `oncall-tui (paging)`).

A `PageKeeper` works for one `IncidentDesk` (whose journals it writes through) and one
`Pager`. One thread at a time reads a page's state and posts it, so a post never lands
after the end it crossed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from oncall_tui.core.incidents.timeline import TimelineEvent, format_ts
from oncall_tui.core.paging.pagers import AGENT, LIFETIME, Page, Pager, PageRequest, PagingError, closing

if TYPE_CHECKING:
    from oncall_tui.core.incidents.desk import IncidentDesk
    from oncall_tui.core.incidents.incident import Incident

Unless = Callable[[list[TimelineEvent]], bool]
"""Asked under the journal's lock: true if the event is already on the record."""


class PageKeeper:
    def __init__(self, desk: IncidentDesk, pager: Pager) -> None:
        self.desk, self.pager = desk, pager
        self.lock = threading.RLock()
        """Held while a page's state is read and posted (re-posts and ends), one thread at a time."""
        self._lapsed: set[str] = set()
        """Pages this console saw lapse (not posted again in time), until a post brings them back."""
        self._tried: dict[str, datetime] = {}
        """When this console first tried to post each page it has not managed to post yet."""
        self._asked: set[str] = set()
        """Pages this console asked its service about once, on first sight, to tell a lapse while no
        console was posting them from one that still stands."""

    def send(self, request: PageRequest) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Send every page of `request`: what each accepted one is on the record (`data.paged`),
        and why each other was not, by whom it was for."""
        paged, errors = [], {}
        for page in self.pager.plan(request):
            now = self.desk.clock()
            try:
                detail = self.pager.send(page, now)
            except PagingError as error:
                errors[", ".join(page.who)] = str(error)
                continue
            self._asked.add(page.key)
            paged.append(
                {
                    "key": page.key,
                    "who": list(page.who),
                    "level": request.level,
                    "via": self.pager.via,
                    "how": self.pager.how,
                    "at": format_ts(now),
                    "detail": detail,
                    "body": page.body,
                }
            )
        return paged, errors

    def end(self, incident: Incident) -> list[str]:
        """End, at their service, the pages the incident's state says are due to end, and record
        each end (`page.resolved`, `page.acknowledged`) once. A failure is recorded once per
        page and retried by `keep`; returned, one line each."""
        with self.lock:  # never beside a re-post of the same page: it could land after the end
            return self._end_due(incident)

    def concerns(self, incident: Incident, posted: dict[str, datetime]) -> bool:
        """Whether `keep` has anything to do for the incident."""
        return any(p.standing or p.key in posted for p in incident.pages.values())

    def keep(self, incident: Incident, posted: dict[str, datetime]) -> list[str]:
        """Keep the incident's pages true at their service: end those due to end, and post standing
        ones again before Alertmanager lets them lapse. `posted`: when this console last posted
        each page (kept by the caller between rounds). A page this console posted is ended once
        more when it is seen ended (here or by another console), so a post that crossed the end
        cannot bring it back. Call with `lock` held, on the incident as just read. Lines for the
        user, one a problem."""
        return self._end_due(incident) + self._repost(incident, posted)

    def _end_due(self, incident: Incident) -> list[str]:
        problems = []
        for page, action, reason in closing(incident.pages, incident.is_open, incident.escalation_level):
            if page.via != self.pager.via:
                problems.append(
                    f"{incident.id}: the page to {page.describe()} cannot be ended: paging is now {self.pager.how}"
                )
                continue
            kind = (
                "page.acknowledged" if action == "acknowledge" and self.pager.repost_every is None else "page.resolved"
            )
            action = "acknowledge" if kind == "page.acknowledged" else "resolve"
            data = _about(page) | {"reason": reason}
            try:
                self.pager.close(page, action, self.desk.clock())
            except PagingError as error:
                problems += self._write_once(
                    incident,
                    "incident.action_failed",
                    f"Failed to end the page to {page.describe()} ({error}); retrying",
                    data | {"action": kind, "error": str(error)},
                    _any(
                        lambda e, k=page.key, a=kind: (
                            e.kind == "incident.action_failed" and e.data.get("key") == k and e.data.get("action") == a
                        )
                    ),
                )
                problems.append(f"{incident.id}: the page to {page.describe()} is still standing: {error}")
                continue
            verb = "Acknowledged" if kind == "page.acknowledged" else "Ended"
            problems += self._write_once(
                incident,
                kind,
                f"{verb} the page to {page.describe()}: {reason}",
                data,
                _any(lambda e, k=page.key, kd=kind: e.kind == kd and e.data.get("key") == k),
            )
        return problems

    def _repost(self, incident: Incident, posted: dict[str, datetime]) -> list[str]:
        pager, problems = self.pager, []
        due = {page.key for page, _, _ in closing(incident.pages, incident.is_open, incident.escalation_level)}
        now = self.desk.clock()
        for page in incident.pages.values():
            if page.via != pager.via or pager.repost_every is None:
                continue
            if page.standing and not page.service_acked and page.key not in due:
                last = posted.get(page.key)
                if last is None or (now - last).total_seconds() >= pager.repost_every:
                    if last is None:
                        problems += self._first_sight(incident, page)
                    try:
                        pager.repost(page, now)
                    except PagingError as error:
                        problems.append(f"{incident.id}: the page to {page.describe()} was not posted again: {error}")
                        problems += self._lapse(incident, page, last, now, str(error))
                        continue
                    posted[page.key] = now
                    self._tried.pop(page.key, None)
                    problems += self._back(incident, page)
            elif not page.standing and page.key in posted:
                try:
                    pager.close(page, "resolve", now)  # ends are idempotent: once more, after any post of ours
                except PagingError as error:
                    problems.append(f"{incident.id}: the ended page to {page.describe()} may be back: {error}")
                    continue
                del posted[page.key]
        return problems

    def _first_sight(self, incident: Incident, page: Page) -> list[str]:
        """A standing page this console has not posted yet (it just started): if the service
        says it no longer has it, it lapsed while no console posted it (or Alertmanager
        restarted), and the post about to be made pages its receivers afresh. Both go on the
        record, not only the post. Asked again each round until the service answers."""
        if page.key in self._asked:
            return []
        if page.lapsed:  # on the record already: the post about to be made says it is back
            self._asked.add(page.key)
            self._lapsed.add(page.key)
            return []
        asked_at = self.desk.clock()
        live = self.pager.live(page)
        if live is None:
            return []  # it cannot be told now: ask again next round
        self._asked.add(page.key)
        if live:
            return []
        self._lapsed.add(page.key)
        return self._write_once(
            incident,
            "page.lapsed",
            f"The page to {_who(page)} was gone from {page.how} when this console first reached it: "
            "it lapsed while no console posted it, or Alertmanager restarted. Posting it again",
            _about(page) | {"found_at": format_ts(asked_at), "error": "gone when a console first reached it"},
            _since("page.lapsed", page.key, asked_at),
        )

    def _lapse(self, incident: Incident, page: Page, last: datetime | None, now: datetime, error: str) -> list[str]:
        """Past the `endsAt` of this console's last post, Alertmanager may have ended the page by
        itself (another console may have posted it since: this one cannot tell while it cannot
        reach Alertmanager): on the record once, as the console's, and said as "may"."""
        assert self.pager.repost_every is not None
        last = last or self._tried.setdefault(page.key, now)  # never posted here: since the first try
        if page.key in self._lapsed:
            return []
        ends = last + timedelta(seconds=self.pager.repost_every * LIFETIME)
        if now < ends:
            return []
        self._lapsed.add(page.key)
        summary = (
            f"The page to {_who(page)} may have lapsed at {ends:%H:%M:%S} UTC: this console has not posted it "
            f"since {last:%H:%M:%S} UTC ({error})"
        )
        return self._write_once(
            incident,
            "page.lapsed",
            summary,
            _about(page) | {"since": format_ts(last), "error": error},
            _since("page.lapsed", page.key, last),
        )

    def _back(self, incident: Incident, page: Page) -> list[str]:
        """A page on the record as lapsed, posted again and accepted: it fires again (and its
        receivers are paged afresh if it had ended), on the record once."""
        if page.key not in self._lapsed:
            return []
        self._lapsed.discard(page.key)
        return self._write_once(
            incident,
            "page.reposted",
            f"Posted the page to {_who(page)} again: {page.how} accepted it, and it fires again",
            _about(page),
            _latest_is("page.reposted", page.key),
        )

    def _write_once(
        self, incident: Incident, kind: str, summary: str, data: dict[str, Any], unless: Unless
    ) -> list[str]:
        return self.desk.write_once(incident, kind, summary, data | {"agent": AGENT}, unless)


def _about(page: Page) -> dict[str, Any]:
    return {"key": page.key, "who": list(page.who), "level": page.level, "via": page.via, "how": page.how}


def _any(same: Callable[[TimelineEvent], bool]) -> Unless:
    return lambda events: any(same(e) for e in events)


def _who(page: Page) -> str:
    return f"{', '.join(page.who) or 'nobody'} (level {page.level})"


def _since(kind: str, key: str, moment: datetime) -> Unless:
    """True if the page's latest lapse or return is already `kind`, or if either was recorded at
    or after `moment` (another console saw the same thing first, and may have posted it since)."""
    latest = _latest_is(kind, key)

    def unless(events: list[TimelineEvent]) -> bool:
        kinds = ("page.lapsed", "page.reposted")
        later = any(e.kind in kinds and e.data.get("key") == key and e.ts >= moment for e in events)
        return later or latest(events)

    return unless


def _latest_is(kind: str, key: str) -> Unless:
    """True if the page's latest lapse or return on the record is already `kind`: two consoles
    that see the same lapse (or the same return) record it once, and a later one is new."""

    def unless(events: list[TimelineEvent]) -> bool:
        kinds = ("page.lapsed", "page.reposted")
        latest = next((e for e in reversed(events) if e.kind in kinds and e.data.get("key") == key), None)
        return latest is not None and latest.kind == kind

    return unless
