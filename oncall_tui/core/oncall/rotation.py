"""Who is on call, computed from schedule layers with PagerDuty's semantics.

A layer applies from `start` to an optional `end`. Its user at time T is
`users[floor((T - rotation_virtual_start) / rotation_turn_length_seconds) mod n]`.
Restrictions (daily, or weekly from a day of the week) mask a layer without stopping its
rotation: the turn count goes on underneath. Layers are listed bottom-up, as PagerDuty
numbers them; the highest layer with someone on call wins, and overrides beat every layer.

Time zones, deliberately: every layer time (start, end, virtual start, restriction
windows) is wall-clock time in the schedule's zone, and turns are counted on that wall
clock. A daily rotation handing off at 09:00 therefore hands off at 09:00 local on both
sides of a DST change, as PagerDuty schedules do; the turn across the change is 23 or 25
real hours long. A wall-clock handoff that falls in the hour skipped in spring happens
at the first instant after it; in the hour repeated in autumn, at its first occurrence.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window when a layer is on: daily from `start` for `seconds`, or weekly from `day` (1 = Monday)."""

    start: time
    seconds: int
    day: int | None = None  # None: every day

    def contains(self, local: datetime) -> bool:
        """Whether a naive wall-clock time is inside one of the windows."""
        period = 7 if self.day is not None else 1
        first = datetime.combine(local.date(), self.start)
        if self.day is not None:
            first -= timedelta(days=(local.isoweekday() - self.day) % 7)
        for back in (0, period):  # the window that began most recently, and the one before it
            begin = first - timedelta(days=back)
            if begin <= local < begin + timedelta(seconds=self.seconds):
                return True
        return False

    def edges(self, since: datetime, until: datetime) -> Iterator[datetime]:
        """Window starts and ends (naive, wall clock) between two naive times."""
        period = timedelta(days=7 if self.day is not None else 1)
        begin = datetime.combine(since.date(), self.start) - period
        if self.day is not None:
            begin -= timedelta(days=(begin.isoweekday() - self.day) % 7)
        while begin <= until:
            yield begin
            yield begin + timedelta(seconds=self.seconds)
            begin += period


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    users: tuple[str, ...]
    start: datetime  # naive, wall clock in the schedule's zone (as are the next two)
    rotation_virtual_start: datetime
    turn_seconds: int
    end: datetime | None = None
    restrictions: tuple[Restriction, ...] = ()

    def turn(self, local: datetime) -> int:
        """How many turns have passed at a wall-clock time (it keeps counting under restrictions)."""
        return math.floor((local - self.rotation_virtual_start).total_seconds() / self.turn_seconds)

    def user_at(self, local: datetime) -> str | None:
        """Who this layer puts on call at a wall-clock time, or None where it does not apply."""
        if not self.users or local < self.start or (self.end is not None and local >= self.end):
            return None
        if self.restrictions and not any(r.contains(local) for r in self.restrictions):
            return None
        return self.users[self.turn(local) % len(self.users)]

    def edges(self, since: datetime, until: datetime) -> Iterator[datetime]:
        """Every wall-clock time in [since, until] where this layer's answer may change."""
        yield self.start
        if self.end is not None:
            yield self.end
        first = self.turn(since)
        for k in range(first, self.turn(until) + 2):
            yield self.rotation_virtual_start + timedelta(seconds=k * self.turn_seconds)
        for restriction in self.restrictions:
            yield from restriction.edges(since, until)


@dataclass(frozen=True, slots=True)
class Override:
    user: str
    start: datetime  # aware
    end: datetime  # aware


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call from `start` to `end` (aware, UTC). `user` None: nobody."""

    user: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    name: str
    zone: ZoneInfo
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    def local(self, moment: datetime) -> datetime:
        """An aware instant as naive wall-clock time in the schedule's zone.

        During the hour repeated in autumn the wall clock is held just before the end of
        that hour, so it never runs backwards: what happened at its first pass stays done.
        """
        here = moment.astimezone(self.zone)
        if here.fold == 1 and here.utcoffset() != here.replace(fold=0).utcoffset():
            first_pass = here.replace(fold=0).astimezone(UTC)  # the same wall time, an hour earlier
            change = _offset_change(first_pass, moment.astimezone(UTC), self.zone)
            held = (change + (here.replace(fold=0).utcoffset() - here.utcoffset())).astimezone(self.zone)
            return held.replace(tzinfo=None, fold=0) - timedelta(microseconds=1)
        return here.replace(tzinfo=None)

    def instant(self, local: datetime) -> datetime:
        """A naive wall-clock time as an aware UTC instant: in the spring gap, the first instant
        after it; in the repeated autumn hour, its first occurrence."""
        before = local.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if before.astimezone(self.zone).replace(tzinfo=None) == local:
            return before
        after = local.replace(tzinfo=self.zone, fold=1).astimezone(UTC)  # a gap: the offset changes inside it
        return _offset_change(min(before, after), max(before, after), self.zone)

    def on_call(self, moment: datetime) -> str | None:
        """The final schedule at one instant: overrides, then the highest layer with someone."""
        for override in reversed(self.overrides):  # the latest override wins among overlapping ones
            if override.start <= moment < override.end:
                return override.user
        local = self.local(moment)
        for layer in reversed(self.layers):
            user = layer.user_at(local)
            if user is not None:
                return user
        return None

    def final(self, since: datetime, until: datetime) -> list[Shift]:
        """The final schedule between two instants, as shifts (consecutive equal users merged)."""
        points = {since, until}
        lo, hi = self.local(since) - timedelta(days=1), self.local(until) + timedelta(days=1)
        for layer in self.layers:
            points.update(self.instant(p) for p in layer.edges(lo, hi) if lo <= p <= hi)
        for override in self.overrides:
            points.update((override.start, override.end))
        ordered = sorted(p for p in points if since <= p <= until)
        shifts: list[Shift] = []
        for start, end in pairwise(ordered):
            if start == end:
                continue
            user = self.on_call(start)
            if shifts and shifts[-1].user == user and shifts[-1].end == start:
                shifts[-1] = Shift(user, shifts[-1].start, end)
            else:
                shifts.append(Shift(user, start, end))
        return shifts

    def handoff(self, moment: datetime, horizon: timedelta = timedelta(days=62)) -> tuple[Shift | None, Shift | None]:
        """The shift on now and the next one with someone else (None past the horizon)."""
        shifts = self.final(moment, moment + horizon)
        now = shifts[0] if shifts else None
        following = next((s for s in shifts[1:] if now is None or s.user != now.user), None)
        return now, following


def _offset_change(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (lo, hi] whose UTC offset in `zone` is the one `hi` has (to the second)."""
    target = hi.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0) if hi.microsecond else hi
