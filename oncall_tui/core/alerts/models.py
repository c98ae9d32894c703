"""Alerts and silences as the console sees them, parsed from Alertmanager API v2 JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from oncall_tui.core.alerts.re2 import quote_meta

SEVERITY_RANK = {"critical": 0, "page": 0, "error": 1, "warning": 2, "info": 3}
"""Lower sorts first. Unknown or missing severities sort after `info`."""
PAGE_ALERTNAME = "OncallPage"
"""The alertname of the console's own pages (core/paging/pagers.py), posted to Alertmanager."""


class PayloadError(ValueError):
    """A response had the wrong shape. The message names the first bad field."""


def parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a timestamp, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{where}: {value[:40]!r} is not a timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key}: expected a string")
    return value


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PayloadError(f"{where}: expected a list of strings")
    return tuple(value)


_INCIDENT_ID = re.compile(r"INC-\d{8}-\d{4}")
_PAGE_KEY = re.compile(r"(INC-\d{8}-\d{4})-[0-9a-f]{8}-L(\d+)(?:-.+)?")
"""`INC-20261127-0001-3fa2b1c0-L2-dana` (Alertmanager) or `…-L2` (PagerDuty Events)."""


@dataclass(slots=True)
class Alert:
    """One alert, deduplicated by fingerprint across every Alertmanager that reported it."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    state: str  # active | unprocessed | silenced | inhibited
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    stale: bool = False
    held: str = ""
    """Why it is still shown though no source answers with it now ("not seen since prod
    restarted at 14:32:05 UTC"): it is not known to have resolved."""
    order: tuple[int, float, str, str] = field(init=False, repr=False, compare=False)
    """Where it sorts: most severe first, then the newest (worked out once: 10,000 alerts are
    sorted on every poll)."""

    def __post_init__(self) -> None:
        self.order = (self.severity_rank, -self.starts_at.timestamp(), self.name, self.fingerprint)

    def alike(self, other: Alert) -> bool:
        """The same alert in what its group counts and the history records: its state, who
        silences it, its start, sources and doubts. Not who inhibits it (Alertmanager names one
        of the alerts that do, afresh on each answer), its end, or its annotations."""
        return self is other or (
            self.fingerprint == other.fingerprint  # the same labels
            and self.state == other.state
            and self.silenced_by == other.silenced_by
            and self.starts_at == other.starts_at
            and self.sources == other.sources
            and self.stale == other.stale
            and self.held == other.held
        )

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def is_page(self) -> bool:
        """A page an oncall-tui console sent (this one or another): shown as a page, never
        declared from, never paged about. Labels are anyone's to set: this asks for a page's
        whole shape, its key naming its incident and level."""
        if self.labels.get("alertname") != PAGE_ALERTNAME:  # (asked of 10,000 alerts a poll)
            return False
        incident, level = self.labels.get("incident", ""), self.labels.get("level", "")
        key = self.labels.get("page")
        if key is None:  # pages from before keys were labels
            return bool(_INCIDENT_ID.fullmatch(incident) and level.isdigit() and self.labels.get("oncall"))
        found = _PAGE_KEY.fullmatch(key)
        return found is not None and found.group(1) == incident and found.group(2) == level

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity.lower(), len(SEVERITY_RANK))

    @classmethod
    def from_api(cls, raw: Any, source: str = "") -> Alert:
        """Parse one item of `GET /api/v2/alerts`."""
        if not isinstance(raw, dict):
            raise PayloadError(f"alert: expected an object, got {type(raw).__name__}")
        fingerprint = raw.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise PayloadError("alert.fingerprint: missing")
        where = f"alert {fingerprint}"
        status = raw.get("status")
        if not isinstance(status, dict):
            raise PayloadError(f"{where}.status: missing")
        silenced_by = _string_list(status.get("silencedBy"), f"{where}.status.silencedBy")
        inhibited_by = _string_list(status.get("inhibitedBy"), f"{where}.status.inhibitedBy")
        if silenced_by:
            state = "silenced"
        elif inhibited_by:
            state = "inhibited"
        else:
            state = status.get("state", "active")
            if state not in ("active", "unprocessed", "suppressed"):
                raise PayloadError(f"{where}.status.state: unknown state {str(state)[:20]!r}")
            if state == "suppressed":  # suppressed by nothing named: show it as silenced
                state = "silenced"
        ends_at = raw.get("endsAt")
        generator_url = raw.get("generatorURL") or ""
        if not isinstance(generator_url, str):
            raise PayloadError(f"{where}.generatorURL: expected a string")
        return cls(
            fingerprint=fingerprint,
            labels=_string_map(raw.get("labels"), f"{where}.labels"),
            annotations=_string_map(raw.get("annotations") or {}, f"{where}.annotations"),
            starts_at=parse_time(raw.get("startsAt"), f"{where}.startsAt"),
            ends_at=parse_time(ends_at, f"{where}.endsAt") if ends_at else None,
            generator_url=generator_url,
            state=state,
            silenced_by=silenced_by,
            inhibited_by=inhibited_by,
            sources=(source,) if source else (),
        )


@dataclass(frozen=True, slots=True)
class SilenceMatcher:
    """One matcher of a silence, in the API's shape."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def operator(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.is_regex, self.is_equal)
        ]

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def __str__(self) -> str:
        """The matcher in Alertmanager's syntax, which `parse_matcher` reads back to the same matching.

        The value is quoted and escaped as Alertmanager's own `Matcher.String()` writes it:
        only `\\`, `"` and newline. That syntax has no escape for the other control
        characters, nor for the invisible ones that reorder text (U+202E, U+200E, U+2066–2069,
        U+061C), and they must never be put raw in an input box. So a value holding one is
        written as a regex matcher instead (`=` becomes `=~`, `!=` becomes `!~`) that matches
        exactly that one value: regex characters escaped as Go's `regexp.QuoteMeta` does and
        those characters, newline too, as RE2's `\\x{1b}`. A regex value holding one has it
        rewritten the same way. The console's own matching reads `\\x{…}` too (`core.re2`).
        """
        value, operator = self.value, self.operator
        if _UNTYPABLE.search(value):
            if self.is_regex:
                value = _hex_escape_regex(value)
            else:
                value, operator = _hex_escape_regex(quote_meta(value)), "=~" if self.is_equal else "!~"
        return f'{self.name}{operator}"{_open_metrics_escape(value)}"'


# What a matcher's text must not hold raw: C0 and C1 controls, DEL, and the bidirectional and
# invisible marks. Newline alone has an escape in the syntax (`\n`); the others have none.
_HIDDEN = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_HIDDEN_CHAR = re.compile(f"[{_HIDDEN}]")
_UNTYPABLE = re.compile(f"(?!\n)[{_HIDDEN}]")
_IN_REGEX = re.compile(rf"(\\Q.*?(?:\\E|\Z))|\\?([{_HIDDEN}])|\\.", re.DOTALL)


def _open_metrics_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _hex_escape_regex(pattern: str) -> str:
    """`pattern` with each hidden character, raw or after a backslash, as RE2's `\\x{…}`."""

    def hex_escape(char: str) -> str:
        return f"\\x{{{ord(char):x}}}"

    def one(found: re.Match[str]) -> str:
        if found.group(1):  # in \Q…\E, \x{…} would be text: step out of the quoting for it
            return _HIDDEN_CHAR.sub(lambda c: rf"\E{hex_escape(c.group(0))}\Q", found.group(1))
        if found.group(2):
            return hex_escape(found.group(2))
        return found.group(0)

    return _IN_REGEX.sub(one, pattern)


@dataclass(slots=True)
class Silence:
    """A silence as Alertmanager stores it."""

    id: str
    matchers: tuple[SilenceMatcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str  # active | pending | expired
    source: str = ""
    updated_at: datetime | None = None

    @classmethod
    def from_api(cls, raw: Any, source: str = "") -> Silence:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise PayloadError("silence: expected an object with an id")
        where = f"silence {raw['id']}"
        matchers = raw.get("matchers")
        if not isinstance(matchers, list):
            raise PayloadError(f"{where}.matchers: expected a list")
        parsed = []
        for m in matchers:
            if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("value"), str):
                raise PayloadError(f"{where}.matchers: each needs a name and a value")
            parsed.append(
                SilenceMatcher(m["name"], m["value"], bool(m.get("isRegex")), m.get("isEqual", True) is not False)
            )
        status = raw.get("status")
        state = status.get("state") if isinstance(status, dict) else None
        if state not in ("active", "pending", "expired"):
            raise PayloadError(f"{where}.status.state: missing or unknown")
        updated = raw.get("updatedAt")
        return cls(
            id=raw["id"],
            matchers=tuple(parsed),
            starts_at=parse_time(raw.get("startsAt"), f"{where}.startsAt"),
            ends_at=parse_time(raw.get("endsAt"), f"{where}.endsAt"),
            created_by=str(raw.get("createdBy", "")),
            comment=str(raw.get("comment", "")),
            state=state,
            source=source,
            updated_at=parse_time(updated, f"{where}.updatedAt") if updated else None,
        )


@dataclass(slots=True)
class SilenceRequest:
    """What the silence form submits: `POST /api/v2/silences`. `id` set = edit that silence."""

    matchers: tuple[SilenceMatcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    id: str | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "matchers": [m.to_api() for m in self.matchers],
            "startsAt": _iso(self.starts_at),
            "endsAt": _iso(self.ends_at),
            "createdBy": self.created_by,
            "comment": self.comment,
        }
        if self.id:
            body["id"] = self.id
        return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
