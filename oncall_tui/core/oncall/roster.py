"""Who is on call now, level by level, built from the `oncall:` section of the config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from oncall_tui.core.config import OnCall, ScheduleConfig
from oncall_tui.core.oncall.rotation import Layer, Override, Restriction, Schedule, Shift


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Config times: naive ones are wall-clock in the schedule's zone; aware ones are converted."""
    return moment if moment.tzinfo is None else moment.astimezone(zone).replace(tzinfo=None)


def build_schedule(config: ScheduleConfig) -> Schedule:
    zone = ZoneInfo(config.time_zone)
    layers = tuple(
        Layer(
            name=layer.name or f"Layer {n}",
            users=tuple(layer.users),
            start=_local(layer.start, zone),
            rotation_virtual_start=_local(layer.rotation_virtual_start, zone),
            turn_seconds=layer.rotation_turn_length_seconds,
            end=_local(layer.end, zone) if layer.end else None,
            restrictions=tuple(
                Restriction(r.start_time_of_day, r.duration_seconds, r.start_day_of_week) for r in layer.restrictions
            ),
        )
        for n, layer in enumerate(config.layers, 1)
    )
    schedule = Schedule(config.name, zone, layers)
    overrides = tuple(
        Override(o.user, schedule.instant(_local(o.start, zone)), schedule.instant(_local(o.end, zone)))
        for o in config.overrides
    )
    return Schedule(config.name, zone, layers, overrides)


@dataclass(frozen=True, slots=True)
class LevelNow:
    """One escalation level at one instant."""

    level: int
    source: str  # the schedule's name, or "users"
    users: tuple[str, ...]  # on call now (empty: nobody)
    until: datetime | None  # the next handoff; None: no change within the horizon, or named users
    next_users: tuple[str, ...]
    zone: ZoneInfo | None


class Roster:
    """The schedules and escalation of the config, asked at any instant."""

    def __init__(self, config: OnCall) -> None:
        self.schedules = {s.name: build_schedule(s) for s in config.schedules}
        self.escalation = sorted(config.escalation, key=lambda level: level.level)

    def levels(self, moment: datetime, horizon: timedelta = timedelta(days=62)) -> list[LevelNow]:
        out = []
        for level in self.escalation:
            if level.schedule is None:
                out.append(LevelNow(level.level, "users", tuple(level.users), None, (), None))
                continue
            schedule = self.schedules[level.schedule]
            now, following = schedule.handoff(moment, horizon)
            out.append(
                LevelNow(
                    level.level,
                    schedule.name,
                    (now.user,) if now and now.user else (),
                    now.end if now and following else None,
                    (following.user,) if following and following.user else (),
                    schedule.zone,
                )
            )
        return out

    def paged_at(self, level: int, moment: datetime) -> list[str]:
        """Who escalating to `level` pages at `moment`."""
        return next((list(lv.users) for lv in self.levels(moment) if lv.level == level), [])

    def final(self, name: str, since: datetime, until: datetime) -> list[Shift]:
        return self.schedules[name].final(since, until)


def escalation_plan(
    level: int, now: datetime, roster: Roster, pagerduty_levels: list[LevelNow] | None = None
) -> tuple[list[str], int] | str:
    """Who escalating to `level` pages now, and the last level there is: from PagerDuty's
    levels when on call comes from there (`pagerduty_levels`), else from the config's
    escalation (that level's schedule's on-call person, or its users); or, as a sentence,
    why there is no such level to escalate to."""
    if pagerduty_levels is not None:
        if not pagerduty_levels:
            return "PagerDuty's on-call levels are not loaded yet (see the header); try again in a moment"
        last = max(lv.level for lv in pagerduty_levels)
        targets = next((list(lv.users) for lv in pagerduty_levels if lv.level == level), [])
    else:
        if not roster.escalation:
            return "no escalation levels are configured (oncall.escalation in config.yaml)"
        last = max(lv.level for lv in roster.escalation)
        targets = roster.paged_at(level, now)
    if level > last:
        return f"level {level - 1} is the last escalation level: there is nobody further to page"
    return targets, last
