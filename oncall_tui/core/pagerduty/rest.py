"""PagerDuty's REST API v2: who is on call, and incidents kept in step with the journal.

Built on the `pagerduty` package's `RestApiV2Client` (auth header, `From` header, base URL,
its httpx client). It is synchronous: the console calls it from worker threads only.
Retries are ours, not the package's, so that they are bounded and the user sees them:

- 429: wait as `ratelimit-reset` or `Retry-After` says (at most a minute), telling the
  user "PagerDuty rate limited, retrying in Ns"; give up after a few tries.
- 5xx and network errors: retried `retries` times with a growing pause, then one line.
- 401/403: one line, "PagerDuty token rejected", at once.

Every failure is a `PagerDutyError` whose text never contains the token.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pagerduty

from oncall_tui.core.alerts.models import parse_time
from oncall_tui.core.config import PagerDuty, tls_verify
from oncall_tui.core.durations import header_seconds
from oncall_tui.core.oncall.roster import LevelNow
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now

# The package logs retries and server errors; unhandled, they would reach stderr, which is
# the console's screen. Our own one-line errors say the same to the user.
logging.getLogger("pagerduty").addHandler(logging.NullHandler())
logging.getLogger("pagerduty").propagate = False

RATE_LIMIT_TRIES = 5
MAX_WAIT = 60.0
PAGE_LIMIT = 100
MAX_PAGES = 50


class PagerDutyError(Exception):
    """A request failed; `str()` is one line for the user. `status` is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _RateLimitedError(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


class _Client(pagerduty.RestApiV2Client):
    """The package's client, with its own retrying turned off: `PagerDutyApi` retries, visibly."""

    max_network_attempts = 0

    def postprocess(self, response: Any, suffix: str | None = None) -> None:
        super().postprocess(response, suffix)
        if response.status_code == 429:  # the package would retry forever, silently
            raise _RateLimitedError(response)


def _error_detail(response: Any) -> str:
    """`{"error": {"message", "code", "errors"}}` as one line, or the start of the body."""
    try:
        error = response.json().get("error") or {}
        message = str(error.get("message") or "")
        details = [str(e) for e in error.get("errors") or []]
        code = error.get("code")
    except (ValueError, AttributeError):
        return clean_line(response.text, 120)
    text = message + (f": {'; '.join(details)}" if details else "") + (f" (code {code})" if code else "")
    return clean_line(text, 200)


def wait_seconds(headers: Any, now: datetime, attempt: int) -> float:
    """How long a 429 asks us to wait: `ratelimit-reset` (seconds), else `Retry-After`, else back off."""
    for name in ("ratelimit-reset", "retry-after"):
        seconds = header_seconds(headers.get(name), now)
        if seconds is not None:
            return min(max(seconds, 0.5), MAX_WAIT)
    return min(2.0**attempt, MAX_WAIT)


class PagerDutyApi:
    """The REST calls the console makes, with bounded, announced retries."""

    backoff = 0.5
    """Seconds before the first retry after a 5xx or network error; doubled each time."""

    def __init__(
        self,
        config: PagerDuty,
        email: str | None,
        on_wait: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.on_wait = on_wait or (lambda message: None)
        self.clock = clock
        self.host = urlsplit(config.base_url).hostname or config.base_url
        self._closed = threading.Event()
        self._me: dict[str, Any] | None = None
        try:
            verify = tls_verify(config.ca_bundle, "pagerduty.ca_bundle")
        except ValueError as error:
            raise PagerDutyError(str(error)) from None
        self._client = _Client(config.read_token(), base_url=config.base_url, default_from=email, verify=verify)
        self._client.timeout = config.timeout
        self.email = email

    def close(self) -> None:
        """Stop waiting in retries (they raise) and close the connections."""
        self._closed.set()
        self._client.close()

    def _pause(self, seconds: float, message: str) -> None:
        self.on_wait(message)
        if self._closed.wait(seconds):
            raise PagerDutyError("PagerDuty: stopped while waiting to retry")

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One call, retried as the module says; the decoded JSON body, or PagerDutyError."""
        what = f"PagerDuty {method} {path.split('?')[0]}"
        limited = failures = 0
        while True:
            try:
                response = self._client.request(method, path, params=params, json=body)
            except _RateLimitedError as error:
                limited += 1
                if limited >= RATE_LIMIT_TRIES:
                    raise PagerDutyError(f"{what}: still rate limited after {limited} tries", 429) from None
                wait = wait_seconds(error.response.headers, self.clock(), limited)
                self._pause(wait, f"PagerDuty rate limited, retrying in {math.ceil(wait)}s")
                continue
            except pagerduty.HttpError as error:  # the package raises on 401 by itself
                raise self._rejected(error.response) from None
            except pagerduty.Error as error:  # a network error: the package no longer retries
                failures += 1
                cause = error.__cause__ or error
                reason = clean_line(str(cause), 120) or type(cause).__name__
                if failures > self.config.retries:
                    raise PagerDutyError(f"{what}: cannot reach {self.host}: {reason}") from None
                self._pause(min(self.backoff * 2**failures, 8.0), f"PagerDuty unreachable ({reason}), retrying")
                continue
            status = response.status_code
            if status in (401, 403):
                raise self._rejected(response)
            if status >= 500:
                failures += 1
                if failures > self.config.retries:
                    tries = f"{failures} tries" if failures > 1 else "1 try"
                    raise PagerDutyError(f"{what}: HTTP {status} after {tries}: {_error_detail(response)}", status)
                self._pause(min(self.backoff * 2**failures, 8.0), f"PagerDuty answered HTTP {status}, retrying")
                continue
            if status >= 300:
                raise PagerDutyError(f"{what}: HTTP {status}: {_error_detail(response)}", status)
            if status == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise PagerDutyError(f"{what}: the answer is not JSON", status) from None

    def _rejected(self, response: Any) -> PagerDutyError:
        status = response.status_code
        why = "not allowed to do this" if status == 403 else "check $PAGERDUTY_API_KEY or pagerduty.token_file"
        return PagerDutyError(f"PagerDuty token rejected (HTTP {status}: {why})", status)

    def pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a classic paginated list (limit/offset/more)."""
        offset = 0
        for _ in range(MAX_PAGES):
            page = self.request("GET", path, params={**(params or {}), "limit": PAGE_LIMIT, "offset": offset})
            items = page.get(key)
            if not isinstance(items, list):
                raise PagerDutyError(f"PagerDuty GET {path}: the answer has no {key!r} list")
            yield from items
            if not page.get("more") or not items:
                return
            offset += len(items)

    # -- who we are -------------------------------------------------------------------------
    def me(self) -> dict[str, Any] | None:
        """The PagerDuty user whose email is the From header (None if there is none)."""
        if self._me is None and self.email:
            users = self.request("GET", "/users", params={"query": self.email, "limit": 25}).get("users") or []
            self._me = next((u for u in users if str(u.get("email", "")).lower() == self.email.lower()), {})
        return self._me or None

    def find_user(self, who: str) -> dict[str, Any]:
        """A user by email, name or ID, for reassigning; PagerDutyError if none or several match."""
        users = self.request("GET", "/users", params={"query": who, "limit": 25}).get("users") or []
        exact = [u for u in users if who.lower() in (str(u.get(k, "")).lower() for k in ("email", "name", "id"))]
        found = exact or users
        if len(found) != 1:
            names = ", ".join(str(u.get("email") or u.get("name")) for u in found[:5])
            raise PagerDutyError(f"PagerDuty has {len(found)} users matching {who!r}" + (f": {names}" if names else ""))
        return found[0]

    # -- on call ----------------------------------------------------------------------------
    def oncall_levels(self, now: datetime, window: timedelta = timedelta(days=30)) -> list[LevelNow]:
        """Each escalation level's on-call users now, the handoff, and who is next."""
        params: dict[str, Any] = {
            "include[]": ["users"],
            "earliest": "true",
            "since": now.astimezone(UTC).isoformat(),
            "until": (now + window).astimezone(UTC).isoformat(),
        }
        if self.config.escalation_policy_ids:
            params["escalation_policy_ids[]"] = list(self.config.escalation_policy_ids)
        if self.config.schedule_ids:
            params["schedule_ids[]"] = list(self.config.schedule_ids)
        return levels_from_oncalls(list(self.pages("/oncalls", "oncalls", params)), now, now + window)

    # -- incidents --------------------------------------------------------------------------
    def open_incidents(self) -> list[dict[str, Any]]:
        params = {"statuses[]": ["triggered", "acknowledged"], "service_ids[]": list(self.config.service_ids)}
        return list(self.pages("/incidents", "incidents", params))

    def incident(self, incident_id: str) -> dict[str, Any]:
        return self.request("GET", f"/incidents/{incident_id}")["incident"]

    def by_key(self, incident_key: str) -> dict[str, Any] | None:
        params = {"incident_key": incident_key, "service_ids[]": list(self.config.service_ids)}
        return next(iter(self.pages("/incidents", "incidents", params)), None)

    def create_incident(self, title: str, urgency: str, incident_key: str, details: dict[str, Any]) -> dict[str, Any]:
        """POST /incidents. A retry after a lost answer is recognised by its incident_key, not doubled."""
        body = {
            "incident": {
                "type": "incident",
                "title": title[:1024],
                "service": {"id": self.config.service_ids[0], "type": "service_reference"},
                "urgency": urgency,
                "incident_key": incident_key,
                "body": {"type": "incident_body", "details": details},
            }
        }
        try:
            return self.request("POST", "/incidents", body=body)["incident"]
        except PagerDutyError as error:
            if error.status != 400:
                raise
            existing = self.by_key(incident_key)  # an earlier try got through before the error
            if existing is None:
                raise
            return existing

    def update_incident(self, incident_id: str, **fields: Any) -> dict[str, Any]:
        body = {"incident": {"type": "incident_reference", **fields}}
        return self.request("PUT", f"/incidents/{incident_id}", body=body)["incident"]

    def add_note(self, incident_id: str, text: str) -> dict[str, Any]:
        return self.request("POST", f"/incidents/{incident_id}/notes", body={"note": {"content": text}})["note"]

    def notes(self, incident_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/incidents/{incident_id}/notes").get("notes") or [])

    def log_entries(self, incident_id: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/incidents/{incident_id}/log_entries", "log_entries"))

    # -- check ------------------------------------------------------------------------------
    def check(self) -> list[tuple[bool, str]]:
        """`oncall-tui check`: the token works, and every configured ID exists."""
        results: list[tuple[bool, str]] = []
        try:
            me = self.me()
        except PagerDutyError as error:
            return [(False, str(error))]
        if self.email:
            who = (
                f"From user {self.email} found" if me else f"no PagerDuty user has the email {self.email} (user.email)"
            )
            results.append((bool(me), f"PagerDuty {self.host}: token accepted; {who}"))
        else:
            results.append((True, f"PagerDuty {self.host}: token accepted"))
        for key, path in (
            ("escalation_policy_ids", "escalation_policies"),
            ("schedule_ids", "schedules"),
            ("service_ids", "services"),
        ):
            for item_id in getattr(self.config, key):
                try:
                    found = next(iter(self.request("GET", f"/{path}/{item_id}").values()), {})
                    name = clean_line(str(found.get("summary") or found.get("name") or ""), 60)
                    results.append((True, f"pagerduty.{key}: {item_id} is {name!r}"))
                except PagerDutyError as error:
                    results.append((False, f"pagerduty.{key}: {item_id}: {error}"))
        return results


def _time(value: Any) -> datetime | None:
    return parse_time(value, "time") if value else None


@dataclass(frozen=True, slots=True)
class _Entry:
    policy: str
    level: int
    user: str
    start: datetime | None
    end: datetime | None


def levels_from_oncalls(
    oncalls: list[dict[str, Any]], now: datetime, horizon: datetime | None = None
) -> list[LevelNow]:
    """`GET /oncalls?earliest=true` entries as levels: current users, handoff (the current
    entries' `end`; null means on call for good) and the next users (the earliest start after it).
    A shift reaching the end of the window asked about (`horizon`) with nobody after it has no
    known handoff: its `end` is only where the window was cut."""
    entries = []
    for item in oncalls:
        user = item.get("user") or {}
        policy = (item.get("escalation_policy") or {}).get("summary") or "?"
        name = user.get("name") or user.get("summary") or user.get("id") or "?"
        entries.append(
            _Entry(
                policy, int(item.get("escalation_level") or 1), name, _time(item.get("start")), _time(item.get("end"))
            )
        )
    out = []
    for policy, level in sorted({(e.policy, e.level) for e in entries}):
        mine = [e for e in entries if (e.policy, e.level) == (policy, level)]
        current = [e for e in mine if (e.start is None or e.start <= now) and (e.end is None or e.end > now)]
        ends = [e.end for e in current if e.end is not None]
        until = min(ends) if ends and len(ends) == len(current) else None
        later = [e for e in mine if e.start is not None and e.start > now]
        first = min((e.start for e in later), default=None)
        following = tuple(sorted({e.user for e in later if e.start == first}))
        if until is not None and horizon is not None and until >= horizon and not following:
            until = None
        out.append(LevelNow(level, policy, tuple(sorted({e.user for e in current})), until, following, ZoneInfo("UTC")))
    return out


def reference(incident: dict[str, Any]) -> dict[str, Any]:
    """What the journal keeps of a PagerDuty incident."""
    return {
        "id": incident.get("id"),
        "number": incident.get("incident_number"),
        "url": incident.get("html_url"),
        "status": incident.get("status"),
    }
