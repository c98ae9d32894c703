"""What a poll means for the incidents, without a UI: linked alerts that fired again or
resolved (by their own sources' word, see `tracking`), and incidents auto_declare opened.

The console runs `PollFollower.follow` in a thread after each merged poll and shows what
`Followed.notice` says: one line however many alerts a storm brings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oncall_tui.core.alerts.tracking import Presence, Sightings
from oncall_tui.core.config import IncidentsConfig
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.text import clean_line


@dataclass
class Followed:
    """What one poll recorded, and what could not be recorded."""

    events: list[TimelineEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    doubts: dict[str, dict[str, Presence]] = field(default_factory=dict)
    """By incident and fingerprint: the linked alerts whose sources cannot vouch for them now."""

    @property
    def declared(self) -> list[TimelineEvent]:
        return [e for e in self.events if e.kind == "incident.declared"]

    def notice(self) -> str | None:
        """One line for every incident this poll declared (a storm's included), and for a quiet
        storm that new groups joined again; or None."""
        declared = self.declared
        revived = [e for e in self.events if e.kind == "alert.linked" and e.data.get("revived")]
        if not declared and not revived:
            return None
        own = [e for e in declared if not e.data.get("storm")]
        parts = []
        if len(own) == 1:
            parts.append(f"{own[0].incident}: {clean_line(own[0].summary, 200)}")
        elif own:
            parts.append(f"Auto-declared {len(own)} incidents: {', '.join(e.incident for e in own)}")
        parts += [f"{e.incident}: {clean_line(e.summary, 200)}" for e in declared if e.data.get("storm")]
        parts += [f"{e.incident} (alert storm): {clean_line(e.summary, 200)}" for e in revived]
        return "; ".join(parts)


class PollFollower:
    """Keeps the open incidents in step with what the Alertmanagers say."""

    def __init__(self, desk: IncidentDesk, config: IncidentsConfig) -> None:
        self.desk = desk
        self.config = config

    def follow(self, sightings: Sightings, record: bool = True) -> Followed:
        """Record what changed since the last poll (`sightings`: one moment of the board, its
        alerts included). Each part is tried even if another failed. `record=False` (read-only)
        records nothing and only finds the doubts."""
        followed = Followed()
        try:
            followed.events += self.desk.track_alerts(sightings, followed.doubts, record)
        except IncidentError as error:
            followed.errors.append(str(error))
        if self.config.auto_declare and record:
            # Only what a source says now: stale alerts and alerts a restart forgot declare nothing.
            fresh = [a for a in sightings.alerts if not a.stale and not a.held]
            try:
                followed.events += self.desk.auto_declare(
                    fresh,
                    self.config.auto_declare,
                    self.config.group_by,
                    self.config.auto_declare_limit,
                    self.config.auto_declare_window,
                )
            except IncidentError as error:
                followed.errors.append(str(error))
        return followed
