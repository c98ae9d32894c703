"""Parsing and showing durations the way Prometheus tools write them (`2s`, `1h30m`)."""

from __future__ import annotations

import math
import re
from datetime import datetime
from email.utils import parsedate_to_datetime

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`: a number of seconds or a string such as `90s`, `1h30m`, `500ms`.

    Raises ValueError with a message fit to show a user.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError("expected a duration such as 2s, 5m or 1h")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        compact = text.strip().replace(" ", "")
        parts = _PART.findall(compact)
        if not compact or "".join(n + u for n, u in parts) != compact:
            raise ValueError(f"{text!r} is not a duration (write e.g. 2s, 5m, 1h30m)")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


def format_age(seconds: float) -> str:
    """A short age for a table column: `42s`, `5m`, `3h`, `2d`."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def format_duration(seconds: float) -> str:
    """A duration in the compact form `parse_duration` reads back: `1h30m`, `45s`, `300ms`."""
    if 0 < seconds < 1:
        return f"{round(seconds * 1000)}ms"
    seconds = round(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def signed_duration(seconds: float) -> str:
    """`format_duration`, with a minus for a span that ends before it starts (a clock is off:
    an alert's `startsAt` from a sender ahead of ours): never shown as 0s."""
    return ("-" if seconds < 0 else "") + format_duration(abs(seconds))


def header_seconds(value: str | None, now: datetime) -> float | None:
    """The wait a header such as `Retry-After` asks for: seconds, or an HTTP date (`now` is
    what it is measured from). None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return seconds if math.isfinite(seconds) else None
