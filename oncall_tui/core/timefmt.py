"""Times as the console shows them: UTC first, the user's local time beside it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The clock every part of the console reads, unless a test hands it another."""
    return datetime.now(UTC)


def utc_and_local(moment: datetime, with_date: bool = True) -> str:
    """`2026-11-27 14:32:05 UTC (15:32 CET)`; the local part is left out where it equals UTC."""
    utc = moment.astimezone(UTC)
    local = moment.astimezone()
    shown = utc.strftime("%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC")
    if local.utcoffset() != utc.utcoffset():
        shown += local.strftime(" (%H:%M %Z)")
    return shown
