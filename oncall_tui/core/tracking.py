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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from oncall_tui.core.durations import format_duration

State = Literal["firing", "resolved", "waiting", "unknown"]


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


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
    """When the Alertmanager process started, from `GET /api/v2/status` (`uptime`), at its last answer."""
    epoch: datetime | None = None
    """Since when its answers are one life: the first `started` this console saw, or (on the
    console's clock) the first answer after a restart it saw happen. An alert seen before the
    epoch may simply have been forgotten by the restart."""
    restarts: int = 0

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def answered(self) -> bool:
        """It has answered at least once, and its last poll succeeded."""
        return self.last_ok is not None and self.error is None

    def saw_start(self, started: datetime, now: datetime) -> bool:
        """Take in the `started` of an answer; True if it is a restart."""
        restarted = self.started is not None and started != self.started  # a crash loop restarts within a second
        if self.started is None:
            self.epoch = started
        elif restarted:
            self.epoch, self.restarts = now, self.restarts + 1
        self.started = started
        return restarted

    def copy(self) -> SourceStatus:
        return SourceStatus(
            self.name,
            self.cluster,
            self.last_ok,
            self.error,
            self.failing_since,
            self.started,
            self.epoch,
            self.restarts,
        )


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
        return f"no data from {status.name} ({reason})"
    since = clock_time(status.failing_since) if status.failing_since else "?"
    reason = (status.error or "").removeprefix(f"{status.name}: ")
    return f"{status.name} not answering since {since} ({reason})"


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

    def presence(self, fingerprint: str, owners: Iterable[str] = (), seen_at: datetime | None = None) -> Presence:
        """The alert's state. `owners` and `seen_at` are what the record knows (the sources it
        was linked from, and when it was last known firing), for alerts this board has not seen."""
        showing = self.firing.get(fingerprint)
        if showing:
            return Presence("firing", "", showing)
        known = [s for s in (*owners, *self.owners.get(fingerprint, ())) if s in self.sources]
        owned = list(dict.fromkeys(known)) or list(self.sources)
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
