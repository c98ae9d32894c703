"""Paging through a PagerDuty service's Events API v2 integration, without a REST API token.

A page is an alert event sent to `/v2/enqueue` with the integration's routing key: `trigger`
opens an alert on the service (or joins the open one with the same `dedup_key`), `acknowledge`
and `resolve` move that alert on. The console's dedup_key is the incident id and the level
(`INC-20261127-0001-3fa2b1c0-L2`), so a trigger retried after a lost answer is the same alert, not two.

The API is asynchronous: a 202 means PagerDuty *accepted* the event for processing, and that
is all a return value here claims. Retries follow PagerDuty's table: a 429, a 5xx or a network
error is retried `retries` times with a growing pause (1s, 2s, 4s…, or what `Retry-After`
says), each announced through `on_wait`; a 400 (an invalid event) or any other answer is not.
Every failure is an `EventsError` whose text is one line and never contains the routing key.
Synchronous (httpx): call it from worker threads.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from oncall_tui import __version__
from oncall_tui.core.config import PagerDutyEvents, tls_verify
from oncall_tui.core.durations import header_seconds
from oncall_tui.core.text import clean_line, secret_pattern
from oncall_tui.core.timefmt import utc_now

SERVICE = "PagerDuty Events"
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_LIMIT = 1024
"""PagerDuty's limit on `payload.summary`, in characters: longer summaries are cut to fit."""
DEDUP_KEY_LIMIT = 255
MAX_BACKOFF = 30.0
"""The longest pause between two attempts that the backoff grows to."""
MAX_RETRY_AFTER = 60.0
"""The longest `Retry-After` obeyed: a worker never waits longer than this for one retry."""
CLIENT = "oncall-tui"
HIDDEN = "<routing key>"

# Network trouble worth another try; anything else httpx raises (a bad certificate, a
# redirect loop, an undecodable body) will not mend by itself.
_RETRIED = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)


class EventsError(Exception):
    """An event was not accepted. `str()` is one line for the status line; `status` is the
    HTTP status of the last answer, if one came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _seconds(seconds: float) -> str:
    return f"{round(seconds, 2):g}s"


def _untrusted(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind an httpx error, if that is what it is."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _detail(response: httpx.Response) -> str:
    """An error answer as text: `message (error; error)` from its JSON body, else the body itself."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    if not isinstance(body, dict):
        return str(body)
    message = str(body.get("message") or body.get("status") or "")
    errors = body.get("errors")
    details = [str(e) for e in errors] if isinstance(errors, list) else []
    return message + (f" ({'; '.join(details)})" if details else "")


class EventsApi:
    """Alert events for one Events API v2 integration: trigger, acknowledge, resolve."""

    backoff: float = 1.0
    """Seconds before the first retry; doubled for each one after it, up to MAX_BACKOFF."""

    def __init__(
        self,
        config: PagerDutyEvents,
        on_wait: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.on_wait = on_wait or (lambda message: None)
        self.sleep = sleep
        self._key = config.routing_key.get_secret_value().strip()
        self._hide = secret_pattern(self._key)
        self.host = urlsplit(config.url).netloc
        self._closed = False
        try:
            verify = tls_verify(config.ca_bundle, "paging.pagerduty_events.ca_bundle")
        except ValueError as error:
            raise EventsError(self._line(str(error), False)) from None
        self._client = httpx.Client(
            verify=verify,
            timeout=config.timeout,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": f"{CLIENT}/{__version__}"},
        )

    # -- the three events -------------------------------------------------------------------
    def trigger(
        self,
        dedup_key: str,
        summary: str,
        severity: str,
        source: str,
        custom_details: dict[str, Any] | None = None,
        links: list[dict[str, Any]] | None = None,
        timestamp: datetime | None = None,
    ) -> dict[str, Any]:
        """Open the alert `dedup_key` (or add to it while it is open). A summary longer than
        PagerDuty allows is cut to fit and ends in an ellipsis. Without `timestamp`, PagerDuty
        stamps the event when it receives it. Returns the decoded 202 answer."""
        if severity not in SEVERITIES:
            raise EventsError(self._line(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}"))
        if len(summary) > SUMMARY_LIMIT:
            summary = summary[: SUMMARY_LIMIT - 1] + "…"
        payload: dict[str, Any] = {"summary": summary, "source": source, "severity": severity}
        if timestamp is not None:
            if timestamp.tzinfo is None:
                raise ValueError("timestamp must be timezone-aware")
            payload["timestamp"] = timestamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if custom_details is not None:
            payload["custom_details"] = custom_details
        body: dict[str, Any] = {
            "routing_key": self._key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": payload,
            "client": CLIENT,
        }
        if links:
            body["links"] = links
        return self._send(body)

    def acknowledge(self, dedup_key: str) -> dict[str, Any]:
        """Acknowledge the open alert `dedup_key` (PagerDuty drops it if none is open)."""
        return self._send({"routing_key": self._key, "event_action": "acknowledge", "dedup_key": dedup_key})

    def resolve(self, dedup_key: str) -> dict[str, Any]:
        """Resolve the open alert `dedup_key` (PagerDuty drops it if none is open)."""
        return self._send({"routing_key": self._key, "event_action": "resolve", "dedup_key": dedup_key})

    def close(self) -> None:
        """Close the connections; a retry waiting when this is called gives up after its pause."""
        self._closed = True
        self._client.close()

    def __enter__(self) -> EventsApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------
    def _quote(self, text: str, limit: int) -> str:
        """Outside text (an answer, an error) made safe to show: the routing key hidden, also
        where escapes or invisible characters were put inside it to split it, and only then cut
        to `limit`, so that no cut leaves a part of the key behind."""
        return clean_line(self._hide.sub(HIDDEN, text), limit)

    def _line(self, text: str, prefix: bool = True) -> str:
        """`text` as one line for the user, naming the service."""
        return self._quote(f"{SERVICE}: {text}" if prefix else text, 300)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        dedup_key = body["dedup_key"]
        if not isinstance(dedup_key, str) or not dedup_key.strip() or len(dedup_key) > DEDUP_KEY_LIMIT:
            raise EventsError(self._line(f"dedup_key must be 1 to {DEDUP_KEY_LIMIT} characters"))
        attempts = 1 + self.config.retries
        for attempt in range(1, attempts + 1):
            if self._closed:
                raise EventsError(self._line("closed; the event was not sent"))
            retry_after: float | None = None
            status: int | None = None
            detail = ""
            try:
                response = self._client.post(self.config.url, json=body)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                if not isinstance(error, _RETRIED) or _untrusted(error) is not None:
                    raise self._failed(error) from None
                problem = self._network_problem(error)
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return self._accepted(response, dedup_key)
                phrase = "rate limited" if status == 429 else _phrase(status)
                problem = f"HTTP {status} ({phrase})"
                detail = self._quote(_detail(response), 200)
                retry_after = header_seconds(response.headers.get("retry-after"), utc_now())
            if attempt == attempts:
                tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                said = f": {detail}" if detail else ""
                raise EventsError(self._line(f"{problem} after {tries}{said}"), status)
            if retry_after is not None:
                wait = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
            else:
                wait = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            self.on_wait(self._line(f"{problem}; retrying in {_seconds(wait)} (attempt {attempt + 1} of {attempts})"))
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _network_problem(self, error: httpx.HTTPError) -> str:
        if isinstance(error, httpx.ConnectTimeout):
            return f"cannot reach {self.host} (no connection within {_seconds(self.config.timeout)})"
        if isinstance(error, httpx.TimeoutException):
            return f"no answer from {self.host} within {_seconds(self.config.timeout)}"
        reason = self._quote(str(error), 120) or type(error).__name__
        return f"cannot reach {self.host} ({reason})"

    def _failed(self, error: Exception) -> EventsError:
        untrusted = _untrusted(error)
        if untrusted is not None:
            why = untrusted.verify_message or untrusted.reason or "certificate verify failed"
            return EventsError(
                self._line(
                    f"the TLS certificate of {self.host} is not trusted ({why}); if a proxy re-signs TLS, "
                    "give its CA in paging.pagerduty_events.ca_bundle"
                )
            )
        reason = self._quote(str(error), 120) or type(error).__name__
        return EventsError(self._line(f"cannot send to {self.host} ({reason})"))

    def _accepted(self, response: httpx.Response, dedup_key: str) -> dict[str, Any]:
        """The 202 answer, decoded, or EventsError: nothing else counts as accepted."""
        status = response.status_code
        if status != 202:
            detail = self._quote(_detail(response), 200) or _phrase(status)
            if 200 <= status < 300:
                raise EventsError(self._line(f"unexpected answer HTTP {status} (not 202 Accepted): {detail}"), status)
            raise EventsError(self._line(f"HTTP {status}: {detail}"), status)
        try:
            answer = response.json()
        except ValueError:
            start = self._quote(response.text.strip(), 80) or "empty"
            raise EventsError(self._line(f"HTTP 202, but the answer is not JSON ({start})"), status) from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise EventsError(
                self._line(f"HTTP 202, but the answer does not say success ({self._quote(_detail(response), 200)})"),
                status,
            )
        if answer.get("dedup_key") != dedup_key:
            named = self._quote(str(answer.get("dedup_key")), 80)
            raise EventsError(
                self._line(f"HTTP 202, but the answer names dedup_key {named!r}, not {dedup_key!r}"), status
            )
        return answer


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"
