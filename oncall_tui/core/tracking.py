"""Whether an alert still fires, by the word of the Alertmanagers that own it.

An alert leaves the set only when its own source says so: the source returned it with
`endsAt` in the past, or answered without it while it has been up continuously since it
last showed the alert. Alertmanager keeps silences on disk but forgets alerts when it
restarts, until Prometheus sends them again (within its resend interval, a minute by
default), so for `resend_grace` after a restart an absent alert is "not seen since NAME
restarted", not resolved. A source that is down, or has never answered, says nothing: the
alerts it owns are unknown, and the alerts of every other source are tracked as usual.

Members of one HA cluster share their alerts, so any member that answers speaks for the
cluster. Everything here is plain data and a clock: no I/O, no UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from oncall_tui.core.durations import format_duration
from oncall_tui.core.models import Alert

State = Literal["firing", "resolved", "waiting", "unknown"]


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


START_SLACK = timedelta(seconds=1)
"""A source's clock is read from its Date header, to the second: a start this close before
the previous answer may still be a new process."""


@dataclass(slots=True)
class SourceStatus:
    """How one Alertmanager answered lately, and since when it has been up."""

    name: str
    cluster: str = ""
    """Members of one HA cluster share this (by default each source is its own cluster)."""
    last_ok: datetime | None = None
    error: str | None = None
    failing_since: datetime | None = None
    started: datetime | None = None
    """When the Alertmanager process started, on the console's clock (its `uptime`, read
    through its Date header), at the last answer that said."""
    epoch: datetime | None = None
    """Since when its answers are one life, on the console's clock: the start the console
    first saw, or the first answer after a restart it saw. An alert last seen before the
    epoch may simply have been forgotten by the restart."""
    restarts: int = 0
    uptime_error: str | None = None
    """Why its last answer's start is unknown (its status could not be read), when it is."""
    _start_as_said: datetime | None = None
    _start_seen_at: datetime | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def answered(self) -> bool:
        """It has answered at least once, and its last poll succeeded."""
        return self.last_ok is not None and self.error is None

    def saw_start(self, as_said: datetime | None, started: datetime | None, now: datetime) -> bool:
        """Take in the start of an answer: `as_said` by the source, `started` on our clock
        (None: unknown). True if it is a restart: another process than last time, started
        after the last answer that said (replicas behind one URL each have their own start,
        but each started long before: those are no restart)."""
        if as_said is None or started is None:
            return False
        restarted = (
            self._start_seen_at is not None
            and as_said != self._start_as_said
            and started > self._start_seen_at - START_SLACK
        )
        if self.epoch is None:
            self.epoch = started
        elif restarted:
            self.epoch, self.restarts = now, self.restarts + 1
        self.started, self._start_as_said, self._start_seen_at = started, as_said, now
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
    `last_seen` is when the console last saw each alert firing in a fresh answer.
    """

    now: datetime
    grace: float
    sources: Mapping[str, SourceStatus]
    firing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ended: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    last_seen: Mapping[str, datetime] = field(default_factory=dict)
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The sources that reported each alert when it was last seen."""
    alerts: list[Alert] = field(default_factory=list)
    """The merged alerts of this moment (what the screen shows), held ones included."""

    def presence(self, fingerprint: str, owners: Iterable[str] = (), seen_at: datetime | None = None) -> Presence:
        """The alert's state. `owners` and `seen_at` are what the record knows (the sources it
        was linked from, and when it was last known firing), for alerts this board has not seen."""
        showing = self.firing.get(fingerprint)
        if showing:
            return Presence("firing", "", showing)
        recorded = list(dict.fromkeys((*owners, *self.owners.get(fingerprint, ()))))
        owned = [s for s in recorded if s in self.sources]
        if recorded and not owned:  # its sources are no longer configured: nobody here can say
            gone = ", ".join(recorded)
            return Presence("unknown", f"its source {gone} is no longer in the config", tuple(recorded))
        owned = owned or list(self.sources)  # not recorded (older journals): every source must say
        seen = [t for t in (self.last_seen.get(fingerprint), seen_at) if t is not None]
        last = max(seen) if seen else None
        clusters: dict[str, list[SourceStatus]] = {}
        for name in owned:
            status = self.sources[name]
            clusters.setdefault(status.cluster or name, []).append(status)
        verdicts = [self._cluster(fingerprint, members, last) for members in clusters.values()]
        for state in ("unknown", "waiting"):
            chosen = [v for v in verdicts if v.state == state]
            if chosen:
                return _joined(state, chosen)
        return _joined("resolved", verdicts)

    def _cluster(self, fingerprint: str, members: list[SourceStatus], last: datetime | None) -> Presence:
        """The word of one cluster: of its members that answered, else unknown."""
        answering = [m for m in members if m.answered]
        if not answering:
            return Presence("unknown", "; ".join(_no_answer(m) for m in members), tuple(m.name for m in members))
        verdicts = [self._source(fingerprint, m, last) for m in answering]
        waiting = [v for v in verdicts if v.state == "waiting"]
        return _joined("waiting", waiting) if waiting else verdicts[0]

    def _source(self, fingerprint: str, status: SourceStatus, last: datetime | None) -> Presence:
        """The word of one source that answered and does not show the alert firing."""
        name, started = status.name, status.started
        if name in self.ended.get(fingerprint, ()):
            return Presence("resolved", f"{name} returned it with endsAt in the past", (name,))
        if status.uptime_error:
            reason = status.uptime_error.removeprefix(f"{name}: ")
            return Presence(
                "unknown", f"absent from {name}, which may have restarted: its uptime is unreadable ({reason})", (name,)
            )
        up_since = f"{name} up since {started:%Y-%m-%d %H:%M:%S} UTC" if started else f"{name} answering"
        if last is None or status.epoch is None or last >= status.epoch:
            return Presence("resolved", f"absent from {name}'s answer ({up_since})", (name,))
        restart = clock_time(started) if started else "?"
        if self.now < status.epoch + timedelta(seconds=self.grace):
            return Presence("waiting", f"not seen since {name} restarted at {restart}", (name,))
        grace = format_duration(self.grace)
        return Presence(
            "resolved",
            f"not seen in the {grace} since {name} restarted at {restart} (Prometheus resends firing alerts within that)",
            (name,),
        )


def _joined(state: State, verdicts: list[Presence]) -> Presence:
    reasons = list(dict.fromkeys(v.reason for v in verdicts if v.reason))
    sources = tuple(dict.fromkeys(s for v in verdicts for s in v.sources))
    return Presence(state, "; ".join(reasons), sources)
