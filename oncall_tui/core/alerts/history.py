"""An alert's past: its firing episodes, from Prometheus's `ALERTS` or the console's own record,
and what they say (how often, how long, whether it flaps) as numbers and as a picture.

Both sources answer in `Episode`s over a `Window`, and say what part of the window they can
vouch for (`Window.watched`): Prometheus keeps everything it evaluated; the local record only
what a console saw while its Alertmanagers answered. Time nobody watched is drawn blank,
never as quiet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from oncall_tui.core.durations import format_duration
from oncall_tui.core.text import clean_line

FLAP_WITHIN = timedelta(minutes=30)
"""An alert that fires again this soon after it resolved flapped."""
FLAPPING_AT = 2
"""This many flaps in a window, and the alert is called flapping."""
BLOCKS = "▁▂▃▄▅▆▇█"
QUIET, UNWATCHED = "·", " "


class HistoryError(Exception):
    """The history could not be read. `str()` is one line naming the source."""


class NotInHistoryError(HistoryError):
    """The source answers, but has nothing of the alert asked about."""


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of an alert firing."""

    fingerprint: str
    labels: dict[str, str]
    start: datetime
    end: datetime | None
    """When it was last seen firing before it resolved; None while it fires."""
    resolved_by: datetime | None = None
    """The latest it can have resolved (when the console learned it), where that is later than
    `end` by more than a poll: the console was away, and the end lies in between."""
    unseen: bool = False
    """The record never saw it resolve: `end` is when it was last seen firing (the console, or
    its Alertmanagers, were away since)."""
    began_before: bool = False
    """It was firing when the window begins: its start is earlier."""
    added: bool = False
    """From the local history, added to Prometheus's answer (Prometheus has no `ALERTS` of it)."""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def seconds(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    watched: tuple[tuple[datetime, datetime], ...] = ()
    """The spans the source can vouch for (for Prometheus, from its oldest sample on)."""

    def watched_seconds(self, start: datetime, end: datetime) -> float:
        return sum(max(0.0, (min(end, b) - max(start, a)).total_seconds()) for a, b in self.watched)


@dataclass(frozen=True, slots=True)
class Found:
    """What a history source answered."""

    episodes: list[Episode]
    window: Window
    source: str
    """`prometheus` or `local history`, for the line that says where it comes from."""
    caveat: str = ""
    """What the answer may miss (a Prometheus step too coarse for short episodes)."""
    trouble: str = ""
    """Why the configured source did not answer, when this answer is the local history's."""


class History(Protocol):
    """Prometheus, or the local record: both answer the same questions."""

    source: str

    def episodes(
        self,
        start: datetime,
        end: datetime,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> Found: ...

    def close(self) -> None: ...


RETRY_AFTER = 60.0
"""Seconds a Prometheus that failed is left alone (the local history answers meanwhile)."""


class Fallback:
    """Prometheus first; when it cannot answer, the local history, saying why. A Prometheus
    that failed is asked again only after `RETRY_AFTER`, so a hung one holds up nobody. Asked
    of alerts by name or labels (not of one alert), it answers with Prometheus's and, for the
    alerts it has no `ALERTS` of (another Prometheus's, or sent to Alertmanager by something
    else), the local history's: every alert the console knows of, none left out."""

    def __init__(self, primary: History, local: History) -> None:
        self.primary, self.local = primary, local
        self.source = primary.source
        self._failed: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.primary.close()

    def episodes(
        self,
        start: datetime,
        end: datetime,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> Found:
        with self._lock:
            failed = self._failed
        why = failed[1] if failed and time.monotonic() - failed[0] < RETRY_AFTER else None
        if why is None:
            try:
                found = self.primary.episodes(start, end, name, labels, fingerprint)
                return found if fingerprint else self._with_local(found, start, end, name, labels)
            except NotInHistoryError as error:
                why = str(error)
            except HistoryError as error:
                why = str(error)
                with self._lock:
                    self._failed = (time.monotonic(), why)
        try:
            found = self.local.episodes(start, end, name, labels, fingerprint)
        except HistoryError as second:
            raise HistoryError(f"{why}; {second}") from None
        return replace(found, trouble=f"{why}: from the local history instead")

    def _with_local(
        self, found: Found, start: datetime, end: datetime, name: str | None, labels: dict[str, str] | None
    ) -> Found:
        try:
            local = self.local.episodes(start, end, name, labels)
        except NotInHistoryError:  # none yet: Prometheus's answer is all there is
            return found
        except HistoryError as error:  # unreadable: said, for what it may leave out
            said = f"alerts Prometheus has none of may be missing: {error}"
            return replace(found, caveat="; ".join(filter(None, (found.caveat, said))))
        known = _Series(found.episodes)
        more = [replace(episode, added=True) for episode in local.episodes if not known.has(episode.labels)]
        if not more:
            return found
        alerts = len({episode.fingerprint for episode in more})
        watched = round(100 * watched_share(local.window))
        said = f"{alerts} alert(s) not in Prometheus's answer: from the local history (the console watched {watched}% of it)"
        episodes = sorted([*found.episodes, *more], key=lambda episode: episode.start)
        return replace(found, episodes=episodes, caveat="; ".join(filter(None, (found.caveat, said))))


class _Series:
    """The label sets of Prometheus's `ALERTS` series in an answer, to tell whether an alert as
    Alertmanager has it is one of them: its labels include a series' (Prometheus adds its
    external labels to what it sends, and may relabel them away), alertname and all."""

    def __init__(self, episodes: Iterable[Episode]) -> None:
        self._by_name: dict[str, list[dict[str, str]]] = {}
        for episode in episodes:
            self._by_name.setdefault(episode.name, []).append(episode.labels)
        self._keys = {name: {k for labels in sets for k in labels} for name, sets in self._by_name.items()}
        self._exact = {frozenset(labels.items()) for sets in self._by_name.values() for labels in sets}

    def has(self, labels: dict[str, str]) -> bool:
        name = labels.get("alertname", "")
        keys = self._keys.get(name)
        if keys is None:
            return False
        if frozenset((k, v) for k, v in labels.items() if k in keys) in self._exact:  # (all a rule's series alike)
            return True
        return any(series.items() <= labels.items() for series in self._by_name[name])


def union(spans: Iterable[tuple[datetime, datetime]]) -> tuple[tuple[datetime, datetime], ...]:
    """The spans merged where they overlap or touch: time watched twice counts once."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return tuple(out)


def matches(labels: dict[str, str], wanted: dict[str, str] | None) -> bool:
    return not wanted or all(labels.get(k) == v for k, v in wanted.items())


def flaps(episodes: Iterable[Episode]) -> int:
    """How many times an alert fired again within `FLAP_WITHIN` of resolving (each of its label
    sets on its own)."""
    count = 0
    last_end: dict[str, datetime | None] = {}
    for episode in sorted(episodes, key=lambda e: (e.fingerprint, e.start)):
        before = last_end.get(episode.fingerprint)
        if before is not None and episode.start - before <= FLAP_WITHIN:
            count += 1
        last_end[episode.fingerprint] = episode.end
    return count


@dataclass(frozen=True, slots=True)
class Summary:
    fires: int
    longest: float
    flaps: int

    @property
    def flapping(self) -> bool:
        return self.flaps >= FLAPPING_AT


def summarize(episodes: Sequence[Episode], now: datetime) -> Summary:
    longest = max((e.seconds(now) for e in episodes), default=0.0)
    return Summary(len(episodes), longest, flaps(episodes))


def strip(episodes: Sequence[Episode], window: Window, cells: int) -> str:
    """The window as `cells` characters: how much of each cell the alert fired, as a block
    from ▁ to █; `·` watched and quiet; blank where nobody watched."""
    span = (window.end - window.start) / cells
    out = []
    for index in range(cells):
        a = window.start + span * index
        b = a + span
        watched = window.watched_seconds(a, b)
        fired = sum(
            max(0.0, (min(b, e.end or window.end) - max(a, e.start)).total_seconds()) for e in episodes if e.start < b
        )
        if fired > 0:
            share = min(1.0, fired / max(1e-9, span.total_seconds()))
            out.append(BLOCKS[min(len(BLOCKS) - 1, int(share * len(BLOCKS)))])
        elif watched > 0:
            out.append(QUIET)
        else:
            out.append(UNWATCHED)
    return "".join(out)


def fnv_fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (64-bit FNV-1a over the sorted names and values,
    each followed by 0xff), so a series from Prometheus is known as the alert Alertmanager showed."""
    value = 14695981039346656037
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                value = ((value ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def watched_share(window: Window) -> float:
    total = (window.end - window.start).total_seconds()
    return window.watched_seconds(window.start, window.end) / total if total else 0.0


def _moment(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def episode_end(episode: Episode) -> str:
    """Its end as the record knows it: `firing now`, a time, or the span it lies in."""
    if episode.end is None:
        return "firing now"
    if episode.unseen:
        return f"unknown, last seen firing {_moment(episode.end)}"
    if episode.resolved_by:
        return f"{_moment(episode.end)} (resolved by {_moment(episode.resolved_by)}, unseen between)"
    return _moment(episode.end)


def where_from(found: Found) -> str:
    return found.source + (f", {found.caveat}" if found.caveat else "")


FLAPPING = f"flapping (fired again within {format_duration(FLAP_WITHIN.total_seconds())} of resolving)"


def watched_line(found: Found) -> str | None:
    """How much of the window the source can vouch for (None: Prometheus keeps all of it)."""
    span = format_duration((found.window.end - found.window.start).total_seconds())
    share = round(100 * watched_share(found.window))
    if found.source == "local history":
        return f"the console watched {share}% of the {span} asked about: the rest is not in its record"
    if share >= 100:
        return None
    if not found.window.watched:
        return f"{found.source} keeps nothing of the {span} asked about"
    since = _moment(found.window.watched[0][0])
    return f"{found.source} keeps data from {since}: {share}% of the {span} asked about; before it, nothing is known"


def describe_found(found: Found, name: str, now: datetime) -> str:
    """`oncall-tui history`: each episode's start, end, duration and labels, then the summary."""
    lines = [
        f"{clean_line(name, 120)}: {len(found.episodes)} episode(s) since {_moment(found.window.start)} ({where_from(found)})"
    ]
    if found.trouble:
        lines.append(found.trouble)
    rows = []
    for episode in found.episodes:
        start = ("before " if episode.began_before else "") + _moment(episode.start)
        shown = ", ".join(
            f"{clean_line(k, 60)}={clean_line(v, 200)}" for k, v in sorted(episode.labels.items()) if k != "alertname"
        )
        shown += " (from the local history)" if episode.added else ""
        rows.append((start, episode_end(episode), format_duration(episode.seconds(now)), shown))
    if rows:
        width = [max(len(row[i]) for row in rows) for i in range(3)]
        lines.append(f"{'start':<{width[0]}}  {'end':<{width[1]}}  {'duration':>{max(8, width[2])}}  labels")
        lines += [f"{a:<{width[0]}}  {b:<{width[1]}}  {c:>{max(8, width[2])}}  {d}" for a, b, c, d in rows]
        summary = summarize(found.episodes, now)
        flapping = f", {FLAPPING}" if summary.flapping else ""
        lines.append(f"longest {format_duration(summary.longest)}, {summary.flaps} flap(s){flapping}")
    else:
        lines.append("no episodes: alertnames and label values are matched exactly (case too)")
    watched = watched_line(found)
    if watched:
        lines.append(watched)
    return "\n".join(lines) + "\n"
