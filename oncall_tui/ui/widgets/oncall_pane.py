"""The on-call pane: each escalation level's person now, the handoff with a countdown, who is next."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import work
from textual.dom import NoScreen

from oncall_tui.core.oncall.handoffs import Handoff
from oncall_tui.core.oncall.roster import LevelNow
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import in_zones
from oncall_tui.services import Services
from oncall_tui.ui.widgets.redrawn import Redrawn


def countdown(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


class OnCallPane(Redrawn):
    """Redrawn every second (the countdowns move) and at each handoff; a line a level on a
    narrow screen, where it sits above the incident. Handoffs of the local schedules are read
    here, and go on the record of every open incident."""

    def __init__(self, services: Services, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.services = services

    def on_mount(self) -> None:
        self.set_interval(1.0, self.show)
        self.show()

    def on_resize(self) -> None:
        self.show()  # laid out again: the screen may have turned narrow or wide

    def show(self) -> None:
        oncall, now = self.services.oncall, self.services.clock()
        self.took(oncall.read_local(now))
        self.draw(oncall.levels, now, oncall.me())

    def took(self, changed: list[Handoff]) -> None:
        """A new reading brought these handoffs: on the record (not when read-only)."""
        if changed and not self.services.read_only:
            self._record(changed)

    @work(thread=True, group="incident", description="Recording on-call handoffs")
    def _record(self, changed: list[Handoff]) -> None:
        for problem in self.services.desk.record_handoffs(changed, self.services.oncall.agent):
            self.notify(problem, severity="error")

    def draw(self, levels: list[LevelNow], now: datetime, me: str) -> None:
        try:
            compact = self.screen.has_class("-narrow")  # a line a level: the handoff only
        except NoScreen:  # not mounted yet, or being removed
            compact = False
        text = Text.assemble(("ON CALL", "bold"))
        if not levels:
            text.append("\n\nNo escalation configured: see oncall: in config.yaml.")
        for level in levels:
            text.append(f"\nL{level.level} ")
            for n, user in enumerate(level.users or ("nobody",)):
                text.append(", " if n else "")
                text.append(clean_line(user, 30), style="bold reverse" if user == me else "bold")
            if compact:
                if level.until:
                    nxt = ", ".join(clean_line(u, 20) for u in level.next_users) or "nobody"
                    text.append(f" → {nxt} in {countdown((level.until - now).total_seconds())}", style="dim")
                continue
            if level.source != "users":
                text.append(f"  {clean_line(level.source, 40)}", style="dim")
            if level.until and level.zone:
                text.append(f"\n   until {in_zones(level.until, level.zone, with_date=False)}")
                text.append(f" (in {countdown((level.until - now).total_seconds())})", style="bold")
                text.append(f"\n   next {', '.join(clean_line(u, 30) for u in level.next_users) or 'nobody'}")
        self.update(text)
