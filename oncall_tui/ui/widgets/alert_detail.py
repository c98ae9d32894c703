"""The detail area: everything about the selected alert, as plain text."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer

from oncall_tui.core.alerts.history import FLAPPING, Found, History, HistoryError, strip, summarize, watched_share
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.durations import format_age, format_duration
from oncall_tui.core.text import clean_block, clean_line
from oncall_tui.core.timefmt import utc_and_local
from oncall_tui.ui.widgets.redrawn import Redrawn

FIRST_ANNOTATIONS = ("summary", "description", "runbook_url", "runbook")
LONG_VALUE = 2000
CELLS = 48
WEEK, DAY = timedelta(days=7), timedelta(days=1)
RELOAD_AFTER = 30.0
"""Seconds a shown history is kept before it is read again."""


class AlertDetail(VerticalScroll):
    """Annotations, labels and times of one alert. Untrusted text is never read as markup."""

    @dataclass
    class HistoryRead(Message):
        """The reader thread's answer for one alert (or why there is none)."""

        fingerprint: str
        when: datetime
        found: tuple[Found, Found] | str
        """The last 24 hours and the last 7 days (each as finely as its source can), or why not."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        history: History,
        unsaid: Callable[[str], str] = str,
        recording: bool = True,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.history = history
        self.unsaid = unsaid
        """Writes a secret the config got from the environment as its ${VAR} (a URL's password)."""
        self.recording = recording
        """Whether this console writes the local history (not when read-only)."""
        self._wanted: Alert | None = None
        self._reading = False
        self._lock = threading.Lock()
        self.alert: Alert | None = None
        self.body = Redrawn(id="alert-detail-body")
        self.past: tuple[str, datetime, tuple[Found, Found] | str] | None = None
        """The selected alert's history as last read: its fingerprint, when, and what came (or why not)."""
        self._asking: Timer | None = None

    def compose(self) -> ComposeResult:
        yield self.body

    def on_mount(self) -> None:
        self.set_interval(1.0, lambda: self.show(self.alert))  # the age moves

    def show(self, alert: Alert | None) -> None:
        self.alert = alert
        if not self.display:  # behind the runbook: drawn, and its history read, once it shows
            return
        if alert is not None and self._due(alert):
            if self._asking is not None:
                self._asking.stop()
            # a moment after the cursor stops: keys running down the list ask nothing
            self._asking = self.set_timer(0.2, lambda: self._read_history(alert))
        self.body.update(self.describe(alert))

    def on_show(self) -> None:
        self.show(self.alert)

    def on_resize(self) -> None:
        self.show(self.alert)  # the strips fit the pane's width: zoomed, wider at once

    def _due(self, alert: Alert) -> bool:
        if self.past is None or self.past[0] != alert.fingerprint:
            return True
        return (self.clock() - self.past[1]).total_seconds() >= RELOAD_AFTER and self._asking is None

    def _read_history(self, alert: Alert) -> None:
        """Ask in the reader thread: one question at a time, the latest alert next. A daemon
        thread of its own, so a Prometheus that hangs holds up no other work, nor the exit."""
        with self._lock:
            self._wanted = alert
            if self._reading:
                return
            self._reading = True
        threading.Thread(target=self._reader, name="history-read", daemon=True).start()

    def _reader(self) -> None:
        while True:
            with self._lock:
                alert, self._wanted = self._wanted, None
                if alert is None:
                    self._reading = False
                    return
            now = self.clock()
            found: tuple[Found, Found] | str
            try:
                found = tuple(  # type: ignore[assignment]
                    self.history.episodes(now - span, now, alert.name, alert.labels, alert.fingerprint)
                    for span in (DAY, WEEK)
                )
            except HistoryError as error:
                found = self.unsaid(str(error))
            except Exception as error:  # a bug here must not stop the console: said in the pane
                found = f"not read ({type(error).__name__}: {self.unsaid(str(error))})"
            self.post_message(self.HistoryRead(alert.fingerprint, now, found))  # thread-safe

    def on_alert_detail_history_read(self, read: HistoryRead) -> None:
        self._asking = None
        if self.alert is not None and self.alert.fingerprint == read.fingerprint:
            self.past = (read.fingerprint, read.when, read.found)
            self.show(self.alert)

    def describe_history(self, alert: Alert) -> Text:
        text = Text()
        if self.past is None or self.past[0] != alert.fingerprint:
            return Text("history: reading…\n", style="italic")
        _, _, found = self.past
        if isinstance(found, str):
            text.append("history: ", style="bold")
            if "none yet" in found and not self.recording:
                found += "; this console is read-only and records nothing"
            return text.append(f"{clean_line(found, 300)}\n")
        day, week = found
        unwatched = day.source == "local history" or any(watched_share(f.window) < 1 for f in found)
        blank = " · blank: unwatched" if unwatched else ""
        text.append("history", style="bold")
        text.append(f" · {day.source}{blank}" + "".join(f"; {c}" for c in _caveats(day, week)) + "\n")
        if day.trouble or week.trouble:
            text.append(f"{clean_line(day.trouble or week.trouble, 300)}\n", style="italic")
        cells = max(12, min(CELLS, self.size.width - 22))  # the strips fit the pane, as wide as 48 cells
        for label, part in (("24h", day), (" 7d", week)):
            text.append(f"  {label} │")
            text.append(strip(part.episodes, part.window, cells), style="bold")
            text.append(f"│ {len(part.episodes)} time{'' if len(part.episodes) == 1 else 's'}\n")
        summary = summarize(day.episodes, self.clock())  # what fires now counts up to now
        if summary.fires:
            text.append(f"  24h: longest {format_duration(summary.longest)} · {summary.flaps} flap(s)")
            if summary.flapping:
                text.append(f" · {FLAPPING}", style="bold")
            text.append("\n")
        return text

    def describe(self, alert: Alert | None) -> Text:
        if alert is None:
            return Text("No alert selected.", style="italic")
        text = Text()
        text.append(clean_line(alert.name, 200) or "(no alertname)", style="bold")
        text.append(f"  {clean_line(alert.severity, 20) or 'no severity'} · {alert.state}")
        if alert.held:
            text.append(
                f" · unseen: {clean_line(alert.held, 200)} (shown until it is known whether it resolved)",
                style="italic",
            )
        elif alert.stale:
            text.append(" · stale (its source is not answering)", style="italic")
        age = format_age((self.clock() - alert.starts_at).total_seconds())
        text.append(f"\nfiring for {age}, since {utc_and_local(alert.starts_at)}\n")
        text.append_text(self.describe_history(alert))  # the picture first: at 80x24 little else is in view
        text.append(f"from {', '.join(alert.sources)} · fingerprint {alert.fingerprint}\n")
        if alert.silenced_by:
            text.append(f"silenced by {', '.join(alert.silenced_by)}\n")
        if alert.inhibited_by:
            text.append(f"inhibited by {', '.join(alert.inhibited_by)}\n")
        ordered = [k for k in FIRST_ANNOTATIONS if k in alert.annotations]
        ordered += sorted(k for k in alert.annotations if k not in FIRST_ANNOTATIONS)
        for key in ordered:
            text.append(f"\n{clean_line(key, 60)}: ", style="bold")
            text.append(clean_block(alert.annotations[key], LONG_VALUE))
        if alert.generator_url:
            text.append("\ngeneratorURL: ", style="bold")
            text.append(clean_line(alert.generator_url, LONG_VALUE))
        text.append("\n\nlabels\n", style="bold")
        if not alert.labels:
            text.append("  (none)\n")
        for key, value in sorted(alert.labels.items()):
            text.append(f"  {clean_line(key, 60)}=", style="bold")
            text.append(clean_line(value, LONG_VALUE) + "\n")
        return text


_STEPS = re.compile(r"in steps of (\S+): (.*)")


def _caveats(day: Found, week: Found) -> list[str]:
    """Each caveat once; the two steps in one (`in steps of 9s (24h), 1m1s (7d): …`)."""
    caveats = list(dict.fromkeys(f.caveat for f in (day, week) if f.caveat))
    steps = [_STEPS.match(c) for c in caveats]
    if len(caveats) == 2 and all(steps) and steps[0].group(2) == steps[1].group(2):
        return [f"in steps of {steps[0].group(1)} (24h), {steps[1].group(1)} (7d): {steps[0].group(2)}"]
    return caveats
