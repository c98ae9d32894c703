"""Whether an alert still fires, by the word of the Alertmanagers that own it.

An alert leaves the set only when its own source says so: the source returned it with
`endsAt` in the past, or the very process that showed it (known by its start, `uptime` in
`GET /api/v2/status`) answers without it. Alertmanager keeps silences on disk but forgets
alerts when it restarts, until Prometheus sends them again (within its resend interval, a
minute by default): a process that never showed the alert is no word on it until it has been
up for `resend_grace`, and meanwhile the alert is "not seen since NAME restarted". Past the
grace its absence is that process's word only if the alert's sender (the origin of its
`generatorURL`) has sent it anything since it started: a Prometheus that is down resends
nothing, and its alerts are unknown, not resolved, until it is heard from or their last
`endsAt` passes (when the old process would have let them go too). This holds
answer by answer, so replicas behind one URL, each its own process, are judged each by its
own. A source that is down, or has never answered, says nothing: the
alerts it owns are unknown, and the alerts of every other source are tracked as usual.

Members of one HA cluster share their alerts, so any member that answers speaks for the
cluster. Everything here is plain data and a clock: no I/O, no UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.durations import format_duration

State = Literal["firing", "resolved", "waiting", "unknown"]


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


@lru_cache(maxsize=1024)
def sender(generator_url: str) -> str:
    """Who sent an alert, as far as Alertmanager's answer says: its `generatorURL`'s scheme and
    host (`http://prometheus:9090`), or "" for alerts sent without one."""
    try:
        parts = urlsplit(generator_url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


NEVER = datetime.min.replace(tzinfo=UTC)
"""A `seen` for an alert the record never had firing: every process started after it."""

START_SLACK = timedelta(seconds=1)
"""A source's clock is read from its Date header, to the second: a start this close before
the previous answer may still be a new process."""


@dataclass(slots=True)
class SourceStatus:
    """How one Alertmanager answered lately, and since when its answering process is up."""

    name: str
    cluster: str = ""
    """Members of one HA cluster share this (by default each source is its own cluster)."""
    last_ok: datetime | None = None
    error: str | None = None
    failing_since: datetime | None = None
    started: datetime | None = None
    """When the process of its last answer started, on the console's clock (its `uptime`,
    read through its Date header), if that answer said."""
    start_said: datetime | None = None
    """The same, as the source said it, on its own clock."""
    said_at: datetime | None = None
    """Its own clock when it gave its last answer (its Date header; the console's without one)."""
    start_known_at: datetime | None = None
    """The same, for its last answer whose start was known (what a new start is compared with)."""
    epoch: datetime | None = None
    """When the console saw its latest restart (or its start, at the first answer): for the header."""
    restarts: int = 0
    uptime_error: str | None = None
    """Why its last answer's start is unknown (its status could not be read), when it is."""
    busy: str | None = None
    """Why it is busy, while it is (it turned questions away, or answers slower than the poll
    interval): its last alerts stand, asked for less often; not stale until answers stop."""
    busy_since: datetime | None = None
    refused_since: datetime | None = None
    """Since when it has turned every poll away (503, 429): its last alerts stand on screen,
    but it gives no word now, so nothing it owns is judged resolved meanwhile."""
    retry_after: float | None = None
    """What its last `Retry-After` asked for, in seconds."""

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def answered(self) -> bool:
        """It has answered at least once, and its last poll succeeded (was not turned away)."""
        return self.last_ok is not None and self.error is None and self.refused_since is None

    def saw_start(self, said: datetime | None, started: datetime | None, now: datetime, said_at: datetime) -> bool:
        """Take in an answer given at `said_at` (its clock) by a process started at `said` (its
        clock; `started` on ours; None: unknown). True if it looks like a restart (for the
        header: what is recorded is decided alert by alert, see `Sightings`): another process
        than last time, started after the previous answer (replicas behind one URL each have
        their own start, but started long before)."""
        previous, self.said_at = self.start_known_at, said_at
        if said is None or started is None:
            return False
        self.start_known_at = said_at
        restarted = previous is not None and said != self.start_said and said > previous - START_SLACK
        if self.epoch is None:
            self.epoch = started
        elif restarted:
            self.epoch, self.restarts = now, self.restarts + 1
        self.started, self.start_said = started, said
        return restarted

    def copy(self) -> SourceStatus:
        return replace(self)


@dataclass(frozen=True, slots=True)
class Presence:
    """What the sources say of one alert now, and why."""

    state: State
    reason: str = ""
    sources: tuple[str, ...] = ()
    """The sources whose word this is."""

    @property
    def agent(self) -> str:
        """Who the console recorded it for: `alertmanager:prod`."""
        return f"alertmanager:{self.sources[0]}" if self.sources else "alertmanager"


def _no_answer(status: SourceStatus) -> str:
    if status.refused_since is not None and status.error is None:
        reason = (status.busy or "busy").removeprefix(f"{status.name}: ")
        return f"{status.name} turning polls away since {clock_time(status.refused_since)} ({reason})"
    if status.last_ok is None:
        reason = status.error.removeprefix(f"{status.name}: ") if status.error else "it has not answered yet"
        return f"no data from {status.name}: {reason}"
    since = clock_time(status.failing_since) if status.failing_since else "?"
    reason = (status.error or "").removeprefix(f"{status.name}: ")
    return f"{status.name} not answering since {since}: {reason}"


@dataclass(frozen=True)
class Sightings:
    """One moment of the board: what every source said, for deciding about any alert.

    `firing` and `ended` hold, by fingerprint, the sources whose latest answer (only of
    sources whose last poll succeeded) showed the alert firing, or returned it ended.
    `shown_by` holds, by fingerprint and source, the processes (their starts, as each said
    them) that have shown the alert. `heard` holds, by source and process, the senders it has
    had alerts from; `senders` and `ends`, by fingerprint, the sender and last `endsAt` of
    each alert the board holds while it is absent from every answer.
    """

    now: datetime
    grace: float
    sources: Mapping[str, SourceStatus]
    firing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ended: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The sources that reported each alert when it was last seen."""
    alerts: list[Alert] = field(default_factory=list)
    """The merged alerts of this moment (what the screen shows), held ones included."""
    shown_by: Mapping[str, Mapping[str, frozenset[datetime]]] = field(default_factory=dict)
    seen_at: Mapping[str, datetime] = field(default_factory=dict)
    """By fingerprint, when the answer that last showed it firing was asked (`now` if absent):
    a whole answer a filter's narrowed ones stand beside may be older than this moment."""
    as_of: Mapping[str, datetime] = field(default_factory=dict)
    """By source, when it was asked for the oldest of its answers that stand (`now` if absent):
    what it does not show was absent then, not necessarily now."""
    heard: Mapping[str, Mapping[datetime, frozenset[str]]] = field(default_factory=dict)
    senders: Mapping[str, str] = field(default_factory=dict)
    ends: Mapping[str, datetime] = field(default_factory=dict)
    """By fingerprint, the last `endsAt` of each alert the board holds while it is absent."""

    def presence(
        self, fingerprint: str, owners: Iterable[str] = (), seen: datetime | None = None, sent_by: str | None = None
    ) -> Presence:
        """The alert's state. `owners`: the sources the record says it came from, for alerts
        this board has not seen (none: every source must say); `seen`: when the record last had
        it firing, and `sent_by`: its sender (`sender(generatorURL)`), for an alert no process
        of a source has shown this board (a console started since): a source that restarted
        after `seen` is judged as one this board saw restart."""
        showing = self.firing.get(fingerprint)
        if showing:
            return Presence("firing", "", showing)
        recorded = list(dict.fromkeys((*owners, *self.owners.get(fingerprint, ()))))
        owned = [s for s in recorded if s in self.sources]
        if recorded and not owned:  # its sources are no longer configured: nobody here can say
            gone = ", ".join(recorded)
            return Presence("unknown", f"its source {gone} is no longer in the config", tuple(recorded))
        owned = owned or list(self.sources)  # not recorded (older journals): every source must say
        clusters: dict[str, list[SourceStatus]] = {}
        for name in owned:
            status = self.sources[name]
            clusters.setdefault(status.cluster or name, []).append(status)
        shown = self.shown_by.get(fingerprint, {})
        verdicts = [self._cluster(members, shown, fingerprint, seen, sent_by) for members in clusters.values()]
        for state in ("unknown", "waiting"):
            chosen = [v for v in verdicts if v.state == state]
            if chosen:
                return _joined(state, chosen)
        return _joined("resolved", verdicts)

    def _cluster(
        self,
        members: list[SourceStatus],
        shown: Mapping[str, frozenset[datetime]],
        fingerprint: str,
        seen: datetime | None,
        sent_by: str | None,
    ) -> Presence:
        """The word of one cluster: a member that answered and says it resolved speaks for all
        (they share their alerts); else a member waiting out a restart; else unknown, and why."""
        verdicts = [
            self._source(fingerprint, m, shown.get(m.name, frozenset()), seen, sent_by) for m in members if m.answered
        ]
        verdicts += [Presence("unknown", _no_answer(m), (m.name,)) for m in members if not m.answered]
        for state in ("resolved", "waiting", "unknown"):
            chosen = [v for v in verdicts if v.state == state]
            if chosen:
                return chosen[0] if state == "resolved" else _joined(state, chosen)
        raise AssertionError("a cluster has members")

    def _source(
        self,
        fingerprint: str,
        status: SourceStatus,
        starts: frozenset[datetime],
        seen: datetime | None = None,
        sent_by: str | None = None,
    ) -> Presence:
        """The word of one source that answered and does not show the alert firing. `starts`:
        the processes of this source that have shown it."""
        name, started = status.name, status.started
        if name in self.ended.get(fingerprint, ()):
            return Presence("resolved", f"{name} returned it with endsAt in the past", (name,))
        if status.uptime_error or started is None or status.start_said is None:
            reason = (status.uptime_error or "it did not say").removeprefix(f"{name}: ")
            return Presence(
                "unknown", f"absent from {name}, which may have restarted: its start is unknown ({reason})", (name,)
            )
        # the process that showed it (or, to a console started since, that was up when the
        # record last had it firing) says it is gone
        if not starts and seen is not None and started + START_SLACK < seen:  # up when the record had it firing
            if self.as_of.get(name, self.now) < seen:  # its answer is older than the record: no word yet
                return Presence(
                    "waiting",
                    f"waiting for {name}'s next answer: its last is older than the record of it firing",
                    (name,),
                )
            return Presence("resolved", f"absent from {name}'s answer ({name} up since {_when(started)})", (name,))
        if status.start_said in starts:
            return Presence("resolved", f"absent from {name}'s answer ({name} up since {_when(started)})", (name,))
        if self.as_of.get(name, self.now) < started + timedelta(seconds=self.grace):  # not sent it yet, maybe
            return Presence("waiting", f"not seen since {name} restarted at {clock_time(started)}", (name,))
        grace = format_duration(self.grace)
        resent = (
            f"not seen in the {grace} since {name} restarted at {_when(started)}"
            " (Prometheus resends firing alerts within that)"
        )
        if not starts and seen is None:  # the record knows no more
            return Presence("resolved", resent, (name,))
        origin = self.senders.get(fingerprint, sent_by)
        if origin and origin in self.heard.get(name, {}).get(status.start_said, ()):  # it sent others, not this
            return Presence("resolved", resent, (name,))
        ends = self.ends.get(fingerprint)
        if ends is not None and ends <= self.now:  # had it not restarted, Alertmanager would have let it go
            return Presence(
                "resolved",
                f"not sent again since {name} restarted at {_when(started)}, and its endsAt {_when(ends)} has passed:"
                " expired, as Alertmanager lets an alert go that its sender no longer sends",
                (name,),
            )
        since = f"since {name} restarted at {_when(started)}"  # (with its date: it may be long ago)
        if origin:
            why = f"its sender {origin} may be down: nothing from it {since}"
        elif origin == "":
            why = f"not sent again {since}; it has no generatorURL to tell its sender by"
        else:
            why = f"not sent again {since}; its sender is not known here"
        return Presence("unknown", why, (name,))


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _joined(state: State, verdicts: list[Presence]) -> Presence:
    reasons = list(dict.fromkeys(v.reason for v in verdicts if v.reason))
    sources = tuple(dict.fromkeys(s for v in verdicts for s in v.sources))
    return Presence(state, "; ".join(reasons), sources)
