"""When the terminal rings: a new alert at or above `notify.severity`, once, never for the
alerts already firing when the console started (or when their source first answered). The
ring is no action: nothing records it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from oncall_tui.core.alerts.models import SEVERITY_RANK, Alert
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
