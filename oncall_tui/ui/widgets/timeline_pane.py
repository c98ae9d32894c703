"""The timeline pane: the active incident's events as they are recorded, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_and_local


class TimelinePane(RichLog):
    """Shows events only once they are in the journal (fsynced): the incident pane's, as it draws them."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, auto_scroll=True, min_width=20, **kwargs)
        self.notes_only = False
        self._shown: tuple[str | None, int] = ("", -1)  # incident id, events shown; nothing yet
        self._incident: Incident | None = None
        self._width = 0

    def on_resize(self) -> None:
        """Lines are wrapped as they are written: a new width writes them all again."""
        if self.size.width != self._width:
            self._width = self.size.width
            self._shown = ("", -1)
            self.show(self._incident)

    def show(self, incident: Incident | None) -> None:
        """Append what is new; redraw when the incident or the filter changed."""
        self._incident = incident
        incident_id = incident.id if incident else None
        events = list(incident.events) if incident else []  # a worker may append meanwhile: count what was shown
        shown_id, count = self._shown
        if incident_id != shown_id or len(events) < count:
            self.clear()
            count = 0
            if incident is None:
                self.write(Text("No incident: its timeline shows here.", style="italic"))
        for event in events[count:]:
            if not self.notes_only or event.kind == "note":
                self.write(self.line(event))
        self._shown = (incident_id, len(events))

    def toggle_notes_only(self) -> None:
        self.notes_only = not self.notes_only
        self._shown = ("", -1)
        self.border_subtitle = "notes only (t: all)" if self.notes_only else "all events (t: notes only)"
        self.show(self._incident)

    @staticmethod
    def line(event: TimelineEvent) -> Text:
        return Text.assemble(
            (utc_and_local(event.ts, with_date=False), "dim"),
            " ",
            (clean_line(event.who, 40), "bold"),
            " ",
            clean_line(event.summary, 2000),
        )
