"""Times as the console shows them: UTC first, the user's local time beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    """The clock every part of the console reads, unless a test hands it another."""
    return datetime.now(UTC)


def in_zones(moment: datetime, zone: ZoneInfo, with_date: bool = True) -> str:
    """A time in a schedule's zone, then the user's and UTC where they differ:
    `Mon 2024-03-11 00:00 PDT / 08:00 CET / 07:00 UTC`."""
    there = moment.astimezone(zone)
    shown = [there.strftime("%a %Y-%m-%d %H:%M %Z" if with_date else "%a %H:%M %Z")]
    offsets = {there.utcoffset()}
    for other in (moment.astimezone(), moment.astimezone(UTC)):
        if other.utcoffset() not in offsets:
            offsets.add(other.utcoffset())
            shown.append(other.strftime("%H:%M %Z"))
    return " / ".join(shown)


def utc_and_local(moment: datetime, with_date: bool = True) -> str:
    """`2026-11-27 14:32:05 UTC (15:32 CET)`; the local part is left out where it equals UTC."""
    utc = moment.astimezone(UTC)
    local = moment.astimezone()
    shown = utc.strftime("%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC")
    if local.utcoffset() != utc.utcoffset():
        shown += local.strftime(" (%H:%M %Z)")
    return shown
