"""When the terminal rings: a new alert at or above `notify.severity`, never for the alerts
already firing when the console started (or when their source first answered); an incident
escalated or assigned to you; your shift starting within 15 minutes. Each once. The ring is no
action: nothing records it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from oncall_tui.core.alerts.models import SEVERITY_RANK, Alert
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.oncall.roster import LevelNow
from oncall_tui.core.text import clean_line


@dataclass
class AlertBell:
    severity: str = "critical"
    seen: set[str] = field(default_factory=set)
    """Fingerprints on the board at the last look."""
    answered: set[str] = field(default_factory=set)
    """Sources that have answered at least once: what one says in its first answer was firing
    before the console knew of it (at start, or it was down then), and never rings."""

    def new(self, alerts: Iterable[Alert], answered: Iterable[str]) -> list[Alert]:
        """The alerts to ring for: firing now (not muted, not in doubt), urgent enough, not on
        the board at the last look, and from a source heard from before. An alert that resolved
        and fires again rings again; one held through an Alertmanager restart is still on the
        board, so it does not."""
        alerts, known = list(alerts), set(self.answered)
        before, self.seen = self.seen, {a.fingerprint for a in alerts}
        self.answered |= set(answered)
        bar = SEVERITY_RANK.get(self.severity.lower(), len(SEVERITY_RANK))
        return [
            a
            for a in alerts
            if a.fingerprint not in before
            and any(s in known for s in a.sources)
            and a.severity_rank <= bar
            and a.state in ("active", "unprocessed")
            and not (a.stale or a.held or a.is_page)
        ]


def desktop_notification(title: str, body: str) -> str:
    """The escape sequences that ask the terminal for a desktop notification: OSC 9 (iTerm2,
    Windows Terminal, kitty, foot) and OSC 777 (rxvt, Konsole, VTE), with the text cleaned so
    that nothing in a label can end the sequence or start another."""
    title, body = (clean_line(t, 200).replace(";", ",") for t in (title, body))
    return f"\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07"


@dataclass
class ShiftBell:
    """Rings once when one of `me` takes over a level within `ahead` seconds."""

    me: set[str]
    ahead: float = 900.0
    rung: set[tuple[int, datetime]] = field(default_factory=set)

    def due(self, levels: Iterable[LevelNow], now: datetime) -> list[LevelNow]:
        found = []
        for level in levels:
            mine_next = bool(set(level.next_users) & self.me) and not set(level.users) & self.me
            if not (mine_next and level.until) or (level.level, level.until) in self.rung:
                continue
            if 0 < (level.until - now).total_seconds() <= self.ahead:
                self.rung.add((level.level, level.until))
                found.append(level)
        return found


@dataclass
class PageBell:
    """Rings once for each escalation that names one of `me` among its targets, and each
    incident reassigned to one of them, recorded by someone else (another console, PagerDuty)
    after the first look: what was on the record at start never rings."""

    me: set[str]
    looked: dict[str, int] | None = None
    """By incident: how many of its events were looked at; None before the first look."""

    def new(self, incidents: Iterable[Incident]) -> list[TimelineEvent]:
        first, looked = self.looked is None, self.looked or {}
        found = []
        for incident in incidents:
            start = looked.get(incident.id, 0)
            if not first:
                found += [e for e in incident.events[start:] if self._mine(e)]
            looked[incident.id] = len(incident.events)
        self.looked = looked
        return found

    def _mine(self, event: TimelineEvent) -> bool:
        if event.actor in self.me:
            return False  # their own doing, at this console or another of theirs
        if event.kind == "incident.escalated":
            return bool(set(map(str, event.data.get("targets") or ())) & self.me)
        if event.kind == "incident.reassigned":
            return str(event.data.get("to", "")) in self.me
        return False
