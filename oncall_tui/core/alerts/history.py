"""An alert's past: its firing episodes, from Prometheus's `ALERTS` or the console's own record,
and what they say (how often, how long, whether it flaps) as numbers and as a picture.

Both sources answer in `Episode`s over a `Window`, and say what part of the window they can
vouch for (`Window.watched`): Prometheus keeps everything it evaluated; the local record only
what a console saw while its Alertmanagers answered. Time nobody watched is drawn blank,
never as quiet.
"""

from __future__ import annotations

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
    """The spans the source can vouch for (for Prometheus, the whole window)."""

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


class Fallback:
    """Prometheus first; when it cannot answer, the local history, saying why."""

    def __init__(self, primary: History, local: History) -> None:
        self.primary, self.local = primary, local
        self.source = primary.source

    def episodes(
        self,
        start: datetime,
        end: datetime,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> Found:
        try:
            return self.primary.episodes(start, end, name, labels, fingerprint)
        except HistoryError as error:
            try:
                found = self.local.episodes(start, end, name, labels, fingerprint)
            except HistoryError as second:
                raise HistoryError(f"{error}; {second}") from None
            return replace(found, trouble=f"{error}: from the local history instead")


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
    firing_now: bool
    flaps: int

    @property
    def flapping(self) -> bool:
        return self.flaps >= FLAPPING_AT


def summarize(episodes: Sequence[Episode], now: datetime) -> Summary:
    longest = max((e.seconds(now) for e in episodes), default=0.0)
    return Summary(len(episodes), longest, any(e.end is None for e in episodes), flaps(episodes))


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
        return f"{_moment(episode.end)} (resolved by {episode.resolved_by.astimezone(UTC):%H:%M:%S}; nobody watched between)"
    return _moment(episode.end)


def where_from(found: Found) -> str:
    return found.source + (f", {found.caveat}" if found.caveat else "")


def describe_found(found: Found, name: str, now: datetime) -> str:
    """`oncall-tui history`: each episode's start, end, duration and labels, then the summary."""
    lines = [
        f"{clean_line(name, 120)}: {len(found.episodes)} episode(s) since {_moment(found.window.start)} ({where_from(found)})"
    ]
    if found.trouble:
        lines.append(found.trouble)
    if found.episodes:
        lines.append(f"{'start':<25} {'end':<25} {'duration':>9}  labels")
    for episode in found.episodes:
        start = ("before " if episode.began_before else "") + _moment(episode.start)
        shown = ", ".join(
            f"{clean_line(k, 60)}={clean_line(v, 200)}" for k, v in sorted(episode.labels.items()) if k != "alertname"
        )
        lines.append(f"{start:<25} {episode_end(episode):<25} {format_duration(episode.seconds(now)):>9}  {shown}")
    if found.episodes:
        summary = summarize(found.episodes, now)
        flapping = (
            f", flapping (fired again within {format_duration(FLAP_WITHIN.total_seconds())} of resolving)"
            if summary.flapping
            else ""
        )
        lines.append(f"longest {format_duration(summary.longest)}, {summary.flaps} flap(s){flapping}")
    if found.source == "local history":
        lines.append(
            f"the console watched {round(100 * watched_share(found.window))}% of the window: the rest is not in its record"
        )
    return "\n".join(lines) + "\n"
