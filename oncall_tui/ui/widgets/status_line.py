"""The top line: who is at the keyboard, each source's health, a storm, and the time.

It is drawn to fit its width: with many sources the reasons give way first, then the ages
and the `AM` prefixes, then long names are shortened; every source always shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from rich.text import Text
from textual.widgets import Static

from oncall_tui.core.alerts.board import SourceStatus
from oncall_tui.core.alerts.tracking import clock_time
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_and_local

DETAIL, FAILING, SHORT, TINY, TINIEST = 0, 1, 2, 3, 4
"""How much the header says: all; why failing sources fail, the others short; all short; ..."""
RECENT = timedelta(minutes=10)
"""A restart is said in the header this long: while the alerts it forgot may be coming back."""


def abbreviations(names: list[str], shortest: int) -> dict[str, str]:
    """Each name cut to the fewest letters (at least `shortest`) that still tell them apart."""
    for length in range(shortest, max((len(n) for n in names), default=0) + 1):
        cut = {n: n if len(n) <= length else n[:length] + "…" for n in names}
        if len(set(cut.values())) == len(set(names)):
            return cut
    return {n: n for n in names}


def describe_source(
    status: SourceStatus, now: datetime, detail: int = DETAIL, short: str = "", room: int = 200
) -> Text:
    """`AM prod ✓ 1s` when healthy; `AM prod ~ busy, answered 4s ago: <reason>` while it turns
    questions away or answers slowly; `AM prod ✗ stale since 14:32:05 UTC: <reason>` when down.
    At `FAILING` a failing source keeps its reason (cut to `room`) and the `AM` goes; at
    `SHORT` reasons go too (`prod ✓ 1s`, `prod ✗ stale`); at `TINY`, `prod✓` with its `short` name."""
    busy = status.busy if status.error is None else None  # busy, not down: its last answer stands
    if detail >= TINY:
        mark = "✗" if status.error else "~" if busy else "…" if status.last_ok is None else "✓"
        return Text(f"{short or status.name}{mark}", style="bold" if status.error else "")
    name, prefix = status.name, "AM " if detail == DETAIL else ""
    reason = clean_line((status.error or busy or "").removeprefix(f"{status.name}: "), room)
    if busy:
        said = f"answered {format_age((now - status.last_ok).total_seconds())} ago" if status.last_ok else "no data yet"
        return Text(f"{prefix}{name} ~ busy, {said}" + (f": {reason}" if detail <= FAILING else ""), style="bold")
    if status.last_ok is None:
        if status.error is None:
            return Text(f"{prefix}{name} … connecting")
        return Text(f"{prefix}{name} ✗ no data" + (f": {reason}" if detail <= FAILING else ""), style="bold")
    if status.error is None:
        text = Text(f"{prefix}{name} ✓ {format_age((now - status.last_ok).total_seconds())}")
        if status.restarts and status.started and status.epoch and now - status.epoch < RECENT:
            # the alerts it forgot may be coming back: said whenever there is room for its reason
            ago = format_age((now - status.started).total_seconds())
            text.append(f" (restarted {clock_time(status.started)})" if detail == DETAIL else f" (restarted {ago} ago)")
        if status.uptime_error and detail <= FAILING:  # its alerts are good; whether one resolved, unknown
            text.append(" (start unknown)", style="bold")
        return text
    if detail > FAILING:
        return Text(f"{prefix}{name} ✗ stale", style="bold")
    if detail == FAILING and room < 32:  # the reason matters more than since when
        return Text(f"{name} ✗ stale: {reason}", style="bold")
    since = clock_time(status.failing_since) if status.failing_since else "?"
    since = since if detail == DETAIL else since.removesuffix(" UTC")  # the clock beside says UTC
    return Text(f"{prefix}{name} ✗ stale since {since}: {reason}", style="bold")


class StatusLine(Static):
    """Redrawn every second (the ages and the clock move), and after every poll; laid out for
    its width."""

    def __init__(
        self,
        user: str,
        read_only: bool,
        clock: Callable[[], datetime],
        read: Callable[[], tuple[list[SourceStatus], str | None]] = lambda: ([], None),
        **kwargs: object,
    ) -> None:
        """`read`: each source's status, and the storm marker (`INC-… 1,671 groups · 4,997
        alerts`) while one rages."""
        super().__init__(**kwargs)
        self.user = user
        self.read_only = read_only
        self.clock = clock
        self._read = read
        self._statuses: list[SourceStatus] = []
        self.pagerduty: str | None = None
        """PagerDuty's state, when it is used: `✓`, `… connecting`, `✗ <why>`."""
        self._storm: str | None = None
        self.cannot_record: str | None = None
        """Why the data dir cannot be written, when it cannot (checked at start)."""

    def on_mount(self) -> None:
        self.set_interval(1.0, self.show)

    def show(self) -> None:
        self._statuses, self._storm = self._read()
        self.set_class(bool(self.cannot_record) or any(s.stale for s in self._statuses), "-stale")
        self.refresh()

    def line(self, width: int) -> Text:
        """The most detailed line that fits `width` cells."""
        now = self.clock()
        tries = [
            (DETAIL, 200),
            *((FAILING, room) for room in (80, 48, 32, 20, 14, 10)),
            (SHORT, 0),
            (TINY, 0),
            (TINIEST, 0),
        ]
        for detail, room in tries:  # why a source fails is the last thing to go, after the decoration
            line = self._line(now, detail, room)
            if line.cell_len <= width:
                return line
        return line  # even the tiniest is cut at the edge: every source still shows first

    def _line(self, now: datetime, detail: int, room: int = 200) -> Text:
        user = clean_line(self.user, 30 if detail <= FAILING else 12)
        line = Text.assemble(("oncall-tui", "bold"), " · ", user) if detail < TINY else Text(user)
        if self.read_only:
            line.append(" · READ-ONLY" if detail < TINY else " RO", style="bold reverse")
        if self.cannot_record:
            shown = f": {clean_line(self.cannot_record, 120)}" if detail <= FAILING else ""
            line.append(f" · ✗ cannot record{shown}", style="bold")
        short = abbreviations([s.name for s in self._statuses], 4 if detail == TINY else 2) if detail >= TINY else {}
        for status in self._statuses:
            line.append(" · " if detail <= FAILING or line.plain.endswith(("record", "RO")) else " ")
            shown = (
                SHORT if detail == FAILING and not (status.error or status.busy) else detail
            )  # reasons for its trouble
            line.append_text(describe_source(status, now, shown, short.get(status.name, ""), room))
        if self._storm:
            line.append(" · ")
            line.append(f"⚡ storm {self._storm}" if detail <= FAILING else "⚡ storm", style="bold reverse")
        pagerduty = self.pagerduty
        if pagerduty:
            shown = clean_line(pagerduty, 80) if detail <= FAILING else pagerduty[:1]
            line.append(f" · PagerDuty {shown}", style="bold" if pagerduty.startswith("✗") else "")
        clock = utc_and_local(now) if detail == DETAIL else now.strftime("%H:%M:%S UTC" if detail < TINY else "%H:%M")
        line.append(f" · {clock}" if detail < TINY else f" {clock}")
        return line

    def render(self) -> Text:
        return self.line(self.size.width or 160)
