"""The top line: who is at the keyboard, each source's health, and the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from oncall_tui.core.board import SourceStatus
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_and_local


def describe_source(status: SourceStatus, now: datetime) -> Text:
    """`AM prod ✓ 1s` when healthy; `AM prod ✗ stale since 14:32:05 UTC: <reason>` when not."""
    if status.error is None and status.last_ok is None:
        return Text(f"AM {status.name} … connecting")
    if status.error is None:
        return Text(f"AM {status.name} ✓ {format_age((now - status.last_ok).total_seconds())}")
    since = status.failing_since.strftime("%H:%M:%S UTC") if status.failing_since else "?"
    reason = status.error.removeprefix(f"{status.name}: ")
    return Text(f"AM {status.name} ✗ stale since {since}: {reason}", style="bold")


class StatusLine(Static):
    """Redrawn every second by the app, and after every poll."""

    def __init__(self, user: str, read_only: bool, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.read_only = read_only
        self.clock = clock
        self.cannot_record: str | None = None
        """Why the data dir cannot be written, when it cannot (the app checks it at start)."""

    def show(self, statuses: list[SourceStatus], pagerduty: str | None = None) -> None:
        now = self.clock()
        line = Text.assemble(("oncall-tui", "bold"), " · ", self.user)
        if self.read_only:
            line.append(" · READ-ONLY", style="bold reverse")
        if self.cannot_record:
            line.append(f" · ✗ cannot record: {clean_line(self.cannot_record, 120)}", style="bold")
        for status in statuses:
            line.append(" · ")
            line.append_text(describe_source(status, now))
        if pagerduty:
            line.append(f" · PagerDuty {clean_line(pagerduty, 80)}", style="bold" if pagerduty.startswith("✗") else "")
        line.append(f" · {utc_and_local(now)}")
        self.set_class(bool(self.cannot_record) or any(s.stale for s in statuses), "-stale")
        self.update(line)
