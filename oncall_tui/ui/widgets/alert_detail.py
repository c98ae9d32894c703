"""The detail area: everything about the selected alert, as plain text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_block, clean_line
from oncall_tui.core.timefmt import utc_and_local

FIRST_ANNOTATIONS = ("summary", "description", "runbook_url", "runbook")
LONG_VALUE = 2000


class AlertDetail(VerticalScroll):
    """Annotations, labels and times of one alert. Untrusted text is never read as markup."""

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.alert: Alert | None = None
        self.body = Static(id="alert-detail-body")

    def compose(self) -> ComposeResult:
        yield self.body

    def on_mount(self) -> None:
        self.set_interval(1.0, lambda: self.show(self.alert))  # the age moves

    def show(self, alert: Alert | None) -> None:
        self.alert = alert
        self.body.update(self.describe(alert))

    def describe(self, alert: Alert | None) -> Text:
        if alert is None:
            return Text("No alert selected.", style="italic")
        text = Text()
        text.append(clean_line(alert.name, 200) or "(no alertname)", style="bold")
        text.append(f"  {clean_line(alert.severity, 20) or 'no severity'} · {alert.state}")
        if alert.held:
            text.append(
                f" · unseen: {clean_line(alert.held, 200)} (kept until its source says it resolved)", style="italic"
            )
        elif alert.stale:
            text.append(" · stale (its source is not answering)", style="italic")
        age = format_age((self.clock() - alert.starts_at).total_seconds())
        text.append(f"\nfiring for {age}, since {utc_and_local(alert.starts_at)}")
        text.append(f"\nfrom {', '.join(alert.sources)} · fingerprint {alert.fingerprint}\n")
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
