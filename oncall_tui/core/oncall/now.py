"""Who is on call now: the levels the console shows, escalates to and records at a declaration.

They come from the local schedules (read again at each handoff and once a minute) or from
PagerDuty (whose worker hands each reading in). Each new reading is compared with the last:
what changed is a handoff, for the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.oncall.handoffs import Handoff, handoffs
from oncall_tui.core.oncall.roster import LevelNow, Roster, escalation_plan

LOCAL_EVERY = 60.0
"""Seconds between two readings of the local schedules, at most (a handoff is read at once)."""


class OnCallNow:
    """The latest reading of the levels. Replaced whole, never changed in place: worker
    threads read it (a declaration records it) while the UI thread takes new readings."""

    def __init__(self, roster: Roster, from_pagerduty: bool, me: str, email: str = "") -> None:
        self.roster = roster
        self.from_pagerduty = from_pagerduty
        self.levels: list[LevelNow] = []
        self.read_at: datetime | None = None
        self.pagerduty_answered = False
        """PagerDuty answered its last sync (its levels, when empty, then mean nobody)."""
        self._me, self._email = me, email

    @property
    def agent(self) -> str:
        """On whose word a handoff is recorded."""
        return "pagerduty" if self.from_pagerduty else "schedule"

    def take(self, levels: list[LevelNow], now: datetime) -> list[Handoff]:
        """A new reading; the handoffs since the last one."""
        changed = handoffs(self.levels, levels)
        self.levels, self.read_at = levels, now
        self.pagerduty_answered |= self.from_pagerduty  # its reading came: no longer "asking"
        return changed

    def read_local(self, now: datetime) -> list[Handoff]:
        """The local schedules read again when due (a minute on, or a handoff reached); the
        handoffs that brought. PagerDuty's levels are its worker's to take."""
        if self.from_pagerduty:
            return []
        due = self.read_at is None or (now - self.read_at).total_seconds() >= LOCAL_EVERY
        if due or any(lv.until and now >= lv.until for lv in self.levels):
            return self.take(self.roster.levels(now), now)
        return []

    def me(self) -> str:
        """The user as the levels name them (PagerDuty knows people by name or email)."""
        if self.from_pagerduty and self._email:
            return next((u for lv in self.levels for u in lv.users if u in (self._me, self._email)), self._me)
        return self._me

    def next_handoff_in(self, now: datetime) -> float | None:
        """Seconds until the first level hands off, if any does."""
        ahead = [(lv.until - now).total_seconds() for lv in self.levels if lv.until]
        return min(ahead) if ahead else None

    def recorded(self) -> list[dict[str, Any]] | None:
        """Who is on call at each level, as a declaration records it (None: PagerDuty's levels
        are not loaded yet, so the record says nothing rather than "nobody")."""
        if self.from_pagerduty and not self.pagerduty_answered and not self.levels:
            return None
        return [{"level": lv.level, "users": list(lv.users), "source": lv.source} for lv in self.levels]

    def escalation_plan(self, level: int, now: datetime) -> tuple[list[str], int] | str:
        """See `roster.escalation_plan`."""
        return escalation_plan(level, now, self.roster, self.levels if self.from_pagerduty else None)
