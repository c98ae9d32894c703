"""The merged view of every configured Alertmanager: deduplicated alerts and source health.

Polling, merging and staleness live here so they can be tested without a terminal. The
UI owns a `Board`, polls each source on its own loop (`poll_source`), merges (`merge`) and
renders what the board holds; `sightings` is the latest moment, whole, for the follower.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import TypeVar

from oncall_tui.core.alerts.alertmanager import AlertmanagerBusyError, AlertmanagerClient, AlertmanagerError, Answer
from oncall_tui.core.alerts.matchers import matches_all
from oncall_tui.core.alerts.models import Alert, Silence, SilenceMatcher, SilenceRequest
from oncall_tui.core.alerts.schedule import Outcome
from oncall_tui.core.alerts.tracking import Sightings, SourceStatus, sender
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now

T = TypeVar("T")

Clock = Callable[[], datetime]


_STATE_RANK = {"active": 0, "unprocessed": 0, "inhibited": 1, "silenced": 2, "suppressed": 2}


def merge(alerts_by_source: Iterable[tuple[str, list[Alert], bool]], before: Sequence[Alert] = ()) -> list[Alert]:
    """Deduplicate by fingerprint; each alert lists every source that reported it.

    Where sources disagree about the state (two clusters, one silenced), the most
    urgent state wins: a silence in one cluster must not hide an alert firing in another.
    An alert is stale only if every source that reported it is stale. An alert seen once
    is used as it is when it was never merged before (only `sources` and `stale` are set);
    one merged before may be on the screen, so it is copied when either changes. Duplicates
    are copied too, so a source's own list is never changed by another source's view.
    `before`: the alerts as last sorted, to sort these from that order (nearly sorted already,
    they take timsort one pass, not the thousands of comparisons of a shuffled list).
    """
    merged: dict[str, Alert] = {}
    for source, alerts, stale in alerts_by_source:
        for alert in alerts:
            seen = merged.get(alert.fingerprint)
            if seen is None:
                if not alert.sources:  # fresh from the source: no one else holds it yet
                    alert.sources, alert.stale = (source,), stale
                elif (alert.sources, alert.stale) != ((source,), stale):
                    alert = replace(alert, sources=(source,), stale=stale)
                merged[alert.fingerprint] = alert
                continue
            combined = replace(seen, sources=(*seen.sources, source), stale=seen.stale and stale)
            if _STATE_RANK.get(alert.state, 0) < _STATE_RANK.get(seen.state, 0):
                combined.state, combined.silenced_by = alert.state, alert.silenced_by
                combined.inhibited_by = alert.inhibited_by
            merged[alert.fingerprint] = combined
    placed = [merged[a.fingerprint] for a in before if a.fingerprint in merged]
    if len(placed) < len(merged):  # new ones, after
        had = {a.fingerprint for a in placed}
        placed += [a for fingerprint, a in merged.items() if fingerprint not in had]
    return sort_alerts(placed)


def count(alerts: Iterable[Alert]) -> dict[str, int]:
    """`Board.counts` of `alerts`."""
    counts = {"active": 0, "silenced": 0, "inhibited": 0, "stale": 0, "unseen": 0, "pages": 0}
    for alert in alerts:
        if alert.is_page and not alert.held:
            counts["pages"] += 1
            continue
        if alert.held:
            counts["unseen"] += 1
            continue
        counts[
            "inhibited" if alert.state == "inhibited" else "silenced" if alert.state == "silenced" else "active"
        ] += 1
        counts["stale"] += alert.stale
    return counts


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first; within a severity, the newest first."""
    return sorted(alerts, key=attrgetter("order"))


@dataclass(frozen=True, slots=True, eq=False)
class _Answered:
    """One source's alerts as one answer gave them, with what is needed to read them: when it
    was asked (a sighting's time), its clock when it answered, its process's start (as said)."""

    alerts: list[Alert]
    asked: datetime
    said_at: datetime | None
    start: datetime | None
    narrowed: tuple[SilenceMatcher, ...]
    """The matchers it was asked with (Alertmanager's `filter`): () for the whole answer."""
    began: float
    """When it was asked, on the monotonic clock (when the next whole answer is due)."""


class Board:
    """The last known alerts of every source, merged, with each source's health.

    Each source is polled on its own (`poll_source`), so one that hangs until its timeout
    holds up nobody else; `merge` then folds every source's latest answer into `alerts`,
    and `sightings` says, for any alert, what its sources' word on it is now.
    """

    def __init__(
        self,
        clients: list[AlertmanagerClient],
        clock: Clock = utc_now,
        resend_grace: float = 120.0,
        busy_stale_after: float = 90.0,
        whole_every: float = 30.0,
    ) -> None:
        """`busy_stale_after`: how long a busy source's last answer stands before it is stale.
        `whole_every`: while polls ask for less (`poll_source`'s matchers), how often one
        asks for every alert all the same."""
        self.clients = clients
        self.whole_every = whole_every
        self.busy_stale_after = busy_stale_after
        self.clock = clock
        self.resend_grace = resend_grace
        self.status = {c.name: SourceStatus(c.name, c.source.cluster or c.name) for c in clients}
        self._whole: dict[str, _Answered] = {}
        """Each source's last whole answer (every alert it has)."""
        self._narrow: dict[str, _Answered] = {}
        """Each source's last answer to a narrowed question, if it is newer than its whole one."""
        self._whole_due: set[str] = set()
        """Sources whose last narrowed answer came from another process than their whole one."""
        self._unmatched: dict[str, tuple[_Answered, tuple[SilenceMatcher, ...], list[Alert]]] = {}
        """By source: (whole answer, matchers, the alerts of that answer they do not match)."""
        self.filter_refused: dict[str, tuple[tuple[SilenceMatcher, ...], str]] = {}
        """By source, the matchers it refused to filter by and why (HTTP 400: another version's
        syntax, a proxy): for those it is asked for every alert, and the view filters them here."""
        self.alerts: list[Alert] = []
        self._counted: tuple[list[Alert] | None, dict[str, int]] = (None, {})
        self.first_seen: dict[str, datetime] = {}
        self.sightings = Sightings(clock(), resend_grace, {n: s.copy() for n, s in self.status.items()})
        self._last_seen: dict[str, datetime] = {}
        self._shown_by: dict[str, dict[str, frozenset[datetime]]] = {}
        """By fingerprint and source, the processes (their starts) that showed the alert (replaced, never changed)."""
        self._heard: dict[str, dict[datetime, frozenset[str]]] = {}
        """By source and process (its start), the senders it has had alerts from."""
        self._merging = asyncio.Lock()
        self.polls = 0

    def asks_whole(self, name: str, matchers: Sequence[SilenceMatcher] = ()) -> bool:
        """Whether the next poll of `name`, for a view showing what `matchers` match, must ask
        for every alert: there is no whole answer yet, or it is `whole_every` old; the last
        narrowed answer was for other matchers (the filter changed: no alert is then judged by
        an answer older than one that showed it), or came from another process (a restart, or
        another replica behind the URL); or the source refused to filter."""
        whole, narrow = self._whole.get(name), self._narrow.get(name)
        if whole is None or name in self._whole_due or self.filter_refused.get(name, ((),))[0] == tuple(matchers):
            return True
        if narrow is not None and narrow.narrowed != tuple(matchers):
            return True
        return time.monotonic() - whole.began >= self.whole_every

    def narrowed(self, name: str) -> tuple[SilenceMatcher, ...]:
        """The matchers the source's latest answer was asked with: () if it was whole."""
        narrow = self._narrow.get(name)
        return narrow.narrowed if narrow else ()

    async def poll_source(
        self, client: AlertmanagerClient, slow_after: float | None = None, matchers: Sequence[SilenceMatcher] = ()
    ) -> Outcome:
        """Ask one source for its alerts and its start. Turned away (503, 429), its last alerts
        stand while they are younger than `busy_stale_after`; on another failure they are kept,
        stale. An answer that took longer than `slow_after` seconds is busy too, and good.

        `matchers` (label matchers only): what the view shows, asked for with Alertmanager's
        `filter` so it sends less, unless a whole answer is due (`asks_whole`). The answer then
        stands for the alerts they match; for the others, the last whole answer stands (a
        label matcher matches an alert for as long as it lives, so none can move between them). That
        whole answer, bigger and due less often, is slow only past `whole_every`."""
        status = self.status[client.name]
        narrowed = tuple(matchers) if matchers and not self.asks_whole(client.name, matchers) else ()
        asked, began = self.clock(), time.monotonic()  # (how long it took: not on a clock that may step)
        try:
            answer, narrowed = await self._ask(client, narrowed)
            if narrowed and answer.started != self._whole[client.name].start:
                # another process than the whole answer's (a restart, or another replica behind
                # the URL): the two cannot be read together. Set aside; every alert is asked next.
                self._whole_due.add(client.name)
                return Outcome.IN_TIME
        except AlertmanagerBusyError as busy:
            status.busy, status.busy_since = str(busy), status.busy_since or asked
            status.refused_since, status.retry_after = status.refused_since or asked, busy.retry_after
            since = status.last_ok or status.refused_since
            if status.error is None and (self.clock() - since).total_seconds() > self.busy_stale_after:
                status.error, status.failing_since = str(busy), since  # answers have stopped: stale since then
            return Outcome.BUSY  # (an error it had, a timeout, stands until it answers)
        except (AlertmanagerError, Exception) as failure:  # a bug reading it too: unknown, never still ✓
            if not isinstance(failure, AlertmanagerError):
                failure = AlertmanagerError(
                    f"{client.name}: its answer was not read ({type(failure).__name__}: {failure})"
                )
            status.error, status.busy, status.busy_since = clean_line(str(failure), 300), None, None
            status.refused_since = status.retry_after = None
            status.failing_since = status.failing_since or self.clock()
            return Outcome.FAILED
        now = self.clock()
        said_at = answer.server_now or asked  # its clock when it answered (ours, if it did not say)
        skew = asked + (now - asked) / 2 - said_at if answer.server_now else timedelta(0)  # its clock onto ours
        status.saw_start(answer.started, answer.started + skew if answer.started else None, now, said_at)
        status.uptime_error = answer.status_error
        answered = _Answered(answer.alerts, asked, said_at, answer.started, narrowed, began)
        if narrowed:
            self._narrow[client.name] = answered
        else:
            self._whole[client.name] = answered
            self._narrow.pop(client.name, None)
            self._whole_due.discard(client.name)
        status.last_ok, status.error, status.failing_since = now, None, None
        status.refused_since = status.retry_after = None
        took = time.monotonic() - began
        among_narrowed = bool(matchers) and not narrowed  # the whole one among narrowed: due less often
        if among_narrowed and slow_after is not None:
            slow_after = max(slow_after, self.whole_every)
        if slow_after is not None and took > slow_after:
            longer = "full_poll_interval" if among_narrowed else "the poll interval"
            status.busy = f"{client.name}: its answer took {took:.1f} s, longer than {longer}"
            status.busy_since = status.busy_since or asked
            return Outcome.SLOW
        status.busy = status.busy_since = None
        return Outcome.IN_TIME

    async def _ask(
        self, client: AlertmanagerClient, narrowed: tuple[SilenceMatcher, ...]
    ) -> tuple[Answer, tuple[SilenceMatcher, ...]]:
        """Its answer, narrowed to `narrowed`, and the matchers it was narrowed by: if it refuses
        to filter by them (HTTP 400), every alert (and it is not asked to filter by them again)."""
        if not narrowed:
            return await client.answer(), ()
        try:
            return await client.answer([str(m) for m in narrowed]), narrowed
        except AlertmanagerError as error:
            if error.status != 400:
                raise
            self.filter_refused[client.name] = (narrowed, str(error))
        return await client.answer(), ()

    async def merge(self) -> list[Alert]:
        """Fold every source's latest answer into `alerts` and `sightings`."""
        async with self._merging:
            now = self.clock()
            inputs = [  # in the config's order, whichever answered first
                (name, self._whole[name], self._narrow.get(name), status.stale)
                for name, status in self.status.items()
                if name in self._whole
            ]
            statuses = {name: status.copy() for name, status in self.status.items()}
            # Merging and sorting 10,000 alerts is pure Python: in a thread, keys stay responsive.
            self.sightings, self.first_seen, counted = await asyncio.to_thread(self._merged, inputs, statuses, now)
            self.alerts = self.sightings.alerts
            self._counted = (self.alerts, counted)
            self.polls += 1
        return self.alerts

    async def poll_once(self) -> list[Alert]:
        """Poll every source at once, then merge."""
        await asyncio.gather(*(self.poll_source(c) for c in self.clients))
        return await self.merge()

    def _answers(self, name: str, whole: _Answered, narrow: _Answered | None) -> list[_Answered]:
        """What stands of one source: its whole answer, or the narrowed one for the alerts its
        matchers match and the whole one for the rest."""
        if narrow is None:
            self._unmatched.pop(name, None)
            return [whole]
        known = self._unmatched.get(name)
        if known is None or known[0] is not whole or known[1] != narrow.narrowed:  # once per whole answer
            known = self._unmatched[name] = (
                whole,
                narrow.narrowed,
                [a for a in whole.alerts if not matches_all(narrow.narrowed, a.labels)],
            )
        got = {a.fingerprint for a in narrow.alerts}  # (were Alertmanager to match one that is not)
        rest = [a for a in known[2] if a.fingerprint not in got]
        return [replace(whole, alerts=rest), narrow]

    def _merged(
        self,
        inputs: list[tuple[str, _Answered, _Answered | None, bool]],
        statuses: dict[str, SourceStatus],
        now: datetime,
    ) -> tuple[Sightings, dict[str, datetime], dict[str, int]]:
        """The sightings of this moment, with the merged, sorted alerts, when each alert was
        first seen, and their counts (runs in a thread)."""
        firing: dict[str, tuple[str, ...]] = {}
        ended: dict[str, tuple[str, ...]] = {}
        shown = []
        as_of = {name: whole.asked for name, whole, _, _ in inputs}  # (its narrowed answer is newer)
        answers = [
            (name, a, stale) for name, whole, narrow, stale in inputs for a in self._answers(name, whole, narrow)
        ]
        for name, answered, stale in answers:
            alerts = answered.alerts
            if stale:  # its last answer is shown, but is no word on anything now
                shown.append((name, alerts, True))
                continue
            its_now, process, asked = answered.said_at or now, answered.start, answered.asked
            if process is not None:
                self._hear(name, process, alerts)
            current = []
            for alert in alerts:
                fingerprint = alert.fingerprint
                if alert.ends_at is not None and alert.ends_at <= its_now:  # resolved, by its own clock
                    ended[fingerprint] = (*ended.get(fingerprint, ()), name)
                    continue
                current.append(alert)
                firing[fingerprint] = (*firing.get(fingerprint, ()), name)
                if self._last_seen.get(fingerprint, asked) <= asked:
                    self._last_seen[fingerprint] = asked
                by = self._shown_by.get(fingerprint, {})
                if process is not None and process not in by.get(name, ()):  # a few, for replicas
                    starts = frozenset(sorted({*by.get(name, ()), process})[-4:])
                    self._shown_by[fingerprint] = {**by, name: starts}
            shown.append((name, current if len(current) < len(alerts) else alerts, False))
        merged = merge(shown, self.alerts)
        owners = {a.fingerprint: a.sources for a in merged}
        shown_by = dict(self._shown_by)
        absent = [a for a in self.alerts if a.fingerprint not in owners]
        heard, senders = dict(self._heard), {a.fingerprint: sender(a.generator_url) for a in absent}
        ends = {a.fingerprint: a.ends_at for a in absent if a.ends_at is not None}
        judge = Sightings(
            now,
            self.resend_grace,
            statuses,
            firing,
            ended,
            owners,
            shown_by=shown_by,
            as_of=as_of,
            heard=heard,
            senders=senders,
            ends=ends,
        )
        # An alert that was on the screen and is in no answer now stays while its sources
        # have not said it resolved (a restart forgot it, its sender or its source stopped).
        held = []
        for previous in absent:
            presence = judge.presence(previous.fingerprint, previous.sources)
            if presence.state in ("waiting", "unknown"):
                held.append(previous if previous.held == presence.reason else replace(previous, held=presence.reason))
        if self.polls % 500 == 0:  # forget what was last seen a day ago (and is not held): the memory stays bounded
            self._last_seen = {fp: t for fp, t in self._last_seen.items() if (now - t).total_seconds() < 86400}
            kept = self._last_seen.keys() | {a.fingerprint for a in held}
            self._shown_by = {fp: by for fp, by in self._shown_by.items() if fp in kept}
        alerts = sort_alerts([*merged, *held]) if held else merged
        # On the first poll nothing is "new": everything was already firing.
        when = now if self.polls else datetime.min.replace(tzinfo=UTC)
        first_seen = {a.fingerprint: self.first_seen.get(a.fingerprint, when) for a in alerts}
        owners |= {a.fingerprint: a.sources for a in held}
        seen_at = {fp: self._last_seen[fp] for fp in firing}
        sightings = replace(judge, owners=owners, alerts=alerts, seen_at=seen_at)
        return sightings, first_seen, count(alerts)

    def _hear(self, name: str, process: datetime, alerts: list[Alert]) -> None:
        """Note the senders of an answer's alerts, for its process (its four latest, for replicas)."""
        processes = self._heard.get(name, {})
        had = processes.get(process, frozenset())
        senders = had.union(sender(u) for u in {a.generator_url for a in alerts})  # a URL per rule, not per alert
        if senders != had:
            latest = sorted({*processes, process})[-4:]
            self._heard[name] = {p: senders if p == process else processes[p] for p in latest}

    def is_new(self, alert: Alert, within: float) -> bool:
        seen = self.first_seen.get(alert.fingerprint)
        return seen is not None and (self.clock() - seen).total_seconds() < within

    def new_now(self, within: float) -> set[str]:
        """The fingerprints of the alerts first seen less than `within` seconds ago (one clock
        reading for all of them: the groups holding one are found on every poll)."""
        since = self.clock() - timedelta(seconds=within)
        return {fingerprint for fingerprint, seen in self.first_seen.items() if seen > since}

    def counts(self) -> dict[str, int]:
        """How many alerts are firing, silenced, inhibited; stale (any state, from a source not
        answering); unseen (in no answer now, not known to have resolved); and the console's own
        pages, counted apart: a page is no alert about the system. Counted once per poll."""
        if self._counted[0] is not self.alerts:
            self._counted = (self.alerts, count(self.alerts))
        return dict(self._counted[1])

    def silent_sources(self) -> list[str]:
        """Sources that have never answered: an empty list from them is no all-clear."""
        return [name for name, status in self.status.items() if status.last_ok is None]

    def _clusters(self, sources: Iterable[str]) -> list[list[AlertmanagerClient]]:
        """The clusters `sources` belong to, each as its members, healthy members first."""
        wanted = set(sources)
        clusters: dict[str, list[AlertmanagerClient]] = {}
        for client in self.clients:
            clusters.setdefault(client.source.cluster or client.name, []).append(client)
        picked = [members for members in clusters.values() if wanted & {c.name for c in members}]
        return [sorted(members, key=lambda c: self.status[c.name].stale) for members in picked]

    async def _on_cluster(
        self, members: list[AlertmanagerClient], call: Callable[[AlertmanagerClient], Awaitable[T]]
    ) -> tuple[str, T]:
        """Run `call` on the first member of a cluster that answers."""
        errors = []
        for client in members:
            try:
                return client.name, await call(client)
            except AlertmanagerError as error:
                errors.append(str(error))
        raise AlertmanagerError("; ".join(errors))

    async def create_silence(self, request: SilenceRequest, sources: Iterable[str]) -> list[tuple[str, str]]:
        """Send the silence to every cluster among `sources`; (source, silence ID) for each.

        Raises AlertmanagerError if any cluster refused it; the others keep their silence
        and the message says which failed.
        """
        results = await asyncio.gather(
            *(self._on_cluster(m, lambda c: c.create_silence(request)) for m in self._clusters(sources)),
            return_exceptions=True,
        )
        failures = [str(r) for r in results if isinstance(r, AlertmanagerError)]
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, AlertmanagerError):
                raise result
        if failures:
            created = [r for r in results if not isinstance(r, BaseException)]
            done = f" (created on {', '.join(s for s, _ in created)})" if created else ""
            raise AlertmanagerError("; ".join(failures) + done)
        return [r for r in results if not isinstance(r, BaseException)]

    async def silences(self) -> list[Silence]:
        """Every silence of every cluster, read from one member each."""
        everything = [c.name for c in self.clients]
        results = await asyncio.gather(
            *(self._on_cluster(m, lambda c: c.silences()) for m in self._clusters(everything))
        )
        order = {"active": 0, "pending": 1, "expired": 2}
        found = [s for _, silences in results for s in silences]
        # Live silences ending soonest first; expired ones after, the latest first.
        return sorted(
            found, key=lambda s: (order[s.state], s.ends_at.timestamp() * (-1 if s.state == "expired" else 1))
        )

    async def expire_silence(self, silence: Silence) -> None:
        await self._on_cluster(self._clusters([silence.source])[0], lambda c: c.expire_silence(silence.id))

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))
