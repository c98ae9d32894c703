"""A local HTTPS server that behaves like PagerDuty's Events API v2 (`POST /v2/enqueue`).

PagerDuty cannot be reached from here, so tests talk to this instead. Each event is checked
against the official schema when `../shared/contracts/pagerduty-events-v2-openapiv3.json` is
beside the repo, and always against the rules the real API enforces itself, so a clean clone
without the contracts rejects the same events: a 32-character alphanumeric `routing_key`,
`event_action` one of trigger/acknowledge/resolve, a `dedup_key` of at most 255 characters
(required to acknowledge or resolve), and for a trigger a `payload` with `summary` (at most
1024 characters), `source` and a `severity` of critical/error/warning/info, its `timestamp`
ISO 8601 if given.

Answers are the real API's: 202 `{"status": "success", "message": "Event processed",
"dedup_key"}`; 400 `{"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}`; a body that is not a JSON object 400 "Unrecognized object"; a well-formed
routing key that no integration has 400 with the plain text `Invalid routing key`, as
PagerDuty answers it; 429, 500 or 503 on demand (`fail`).

It keeps what PagerDuty keeps, per routing key and dedup_key: a trigger opens an alert, or is
deduplicated into the open one; acknowledge and resolve move the open alert on, and are
dropped (still 202: the real API is asynchronous) when none is open; a trigger after a
resolve opens a new alert. `events` lists the accepted events, `alerts` every alert.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oncall_tui.core.timefmt import utc_now
from oncall_tui.sim.loopback_https import LoopbackHttpsServer, QuietHandler, send_json

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "pagerduty-events-v2-openapiv3.json"
PATH = "/v2/enqueue"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_BODY = 512 * 1024  # "Events API payloads are limited to 512 KB"

INVALID = {"status": "invalid event", "message": "Event object is invalid"}
UNRECOGNIZED = {
    "status": "Unrecognized object",
    "message": "Event object format is unrecognized",
    "errors": ["JSON parse error"],
}
FAULT_BODIES = {  # the real API does not document these bodies; they have the schema's Error shape
    429: {"status": "Request Limit Exceeded", "message": "Too many API calls at a time"},
    500: {"status": "Internal Server Error", "message": "The server experienced an error while processing the event"},
    503: {"status": "Service Unavailable", "message": "The service is unavailable, retry after some time"},
}


@dataclass
class Fault:
    """Answer the next `times` events with `status` (and `body`, else the usual one)."""

    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a str is sent as text/plain
    after_apply: bool = False  # take the event in, then answer with the error (a lost answer)


@dataclass
class AcceptedEvent:
    """An event answered 202, and what it did: triggered, deduplicated, acknowledged,
    resolved, or dropped (an acknowledge or resolve with no open alert)."""

    body: dict[str, Any]
    dedup_key: str
    outcome: str
    received_at: datetime


@dataclass
class Alert:
    """One alert on the service: its dedup_key stays, its status moves triggered →
    acknowledged → resolved. `events` are the accepted events applied to it."""

    routing_key: str
    dedup_key: str
    status: str
    summary: str
    severity: str
    source: str
    events: list[AcceptedEvent] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status != "resolved"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_iso_time(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None


def _problems(event: dict[str, Any]) -> list[str]:
    """What the real API says is wrong with an event, in its words where they are known."""
    problems: list[str] = []
    key = event.get("routing_key")
    if _missing(key):
        problems.append("'routing_key' is missing or blank")
    elif not isinstance(key, str):
        problems.append("'routing_key' must be a string")
    else:
        if len(key) != 32:
            problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        if not key.isascii() or not key.isalnum():
            problems.append("'routing_key' cannot contain non-alphanumeric characters.")
    action = event.get("event_action")
    if _missing(action):
        problems.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        problems.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        problems.append("'dedup_key' must be a string")
    elif isinstance(dedup_key, str) and len(dedup_key) > 255:
        problems.append("'dedup_key' is longer than 255 characters")
    elif action in ("acknowledge", "resolve") and _missing(dedup_key):
        problems.append("'dedup_key' is missing or blank")
    payload = event.get("payload")
    if action == "trigger" and payload is None:
        problems.append("'payload' is missing or blank")
    elif payload is not None and not isinstance(payload, dict):
        problems.append("'payload' must be an object")
    elif payload is not None:
        problems += _payload_problems(payload)
    for name, required in (("links", "href"), ("images", "src")):
        items = event.get(name)
        if items is None:
            continue
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get(required), str) for i in items
        ):
            problems.append(f"'{name}' must be a list of objects, each with a '{required}' string")
    for name in ("client", "client_url"):
        if name in event and not isinstance(event[name], str):
            problems.append(f"'{name}' must be a string")
    return problems


def _payload_problems(payload: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name in ("summary", "source", "severity"):
        value = payload.get(name)
        if _missing(value):
            problems.append(f"'payload.{name}' is missing or blank")
        elif not isinstance(value, str):
            problems.append(f"'payload.{name}' must be a string")
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > 1024:
        problems.append("'payload.summary' is longer than 1024 characters")
    severity = payload.get("severity")
    if isinstance(severity, str) and severity.strip() and severity not in SEVERITIES:
        problems.append("'payload.severity' must be one of critical, error, warning, info")
    if "timestamp" in payload and not _is_iso_time(payload["timestamp"]):
        problems.append("'payload.timestamp' is not an ISO 8601 time with an offset")
    for name in ("component", "group", "class"):
        if name in payload and not isinstance(payload[name], str):
            problems.append(f"'payload.{name}' must be a string")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("'payload.custom_details' must be an object")
    return problems


def _schema_validator(contract: Path | None) -> Any:
    """A validator of `/enqueue` request bodies from the official schema, or None when the
    file (or jsonschema, a test dependency) is absent."""
    if contract is None or not contract.is_file():
        return None
    try:
        import jsonschema
    except ImportError:
        return None
    doc = json.loads(contract.read_text(encoding="utf-8"))
    where = "#/paths/~1enqueue/post/requestBody/content/application~1json/schema"
    return jsonschema.Draft7Validator({"$ref": where, "paths": doc["paths"], "components": doc["components"]})


class SimEventsService:
    """A PagerDuty service's Events API v2 integrations (one per routing key) and their alerts."""

    def __init__(
        self,
        routing_keys: Iterable[str],
        clock: Callable[[], datetime] = utc_now,
        contract: Path | None = CONTRACT,
    ) -> None:
        """`contract` None checks events by the built-in rules only, as on a clean clone."""
        self.routing_keys = set(routing_keys)
        self.clock = clock
        self.lock = threading.RLock()
        self.schema = _schema_validator(contract)
        self.faults: list[Fault] = []
        self.alerts: list[Alert] = []
        """Every alert, oldest first; a dedup_key triggered again after a resolve has several."""
        self.events: list[AcceptedEvent] = []
        """Every event answered 202, oldest first."""
        self.requests: list[Any] = []
        """Every request body as received: the decoded JSON, or the raw text if it is not JSON."""
        self.answers: list[dict[str, Any]] = []
        """Every answer as sent: status and body (JSON, or a str sent as text), for contract tests."""

    def fail(
        self,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        after_apply: bool = False,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, times, dict(headers or {}), body, after_apply))

    def alert(self, dedup_key: str, routing_key: str | None = None) -> Alert | None:
        """The latest alert with `dedup_key` (on `routing_key`, if given)."""
        with self.lock:
            found = [a for a in self.alerts if a.dedup_key == dedup_key and routing_key in (None, a.routing_key)]
            return found[-1] if found else None

    def alerts_for(self, dedup_key: str) -> list[Alert]:
        with self.lock:
            return [a for a in self.alerts if a.dedup_key == dedup_key]

    # -- the API ----------------------------------------------------------------------------
    def handle(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        """One `POST /v2/enqueue`: its status, body and extra headers."""
        with self.lock:
            status, payload, headers = self._handle(raw)
            self.answers.append({"status": status, "body": json.loads(json.dumps(payload))})
            return status, payload, headers

    def _handle(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            event = json.loads(raw)
        except ValueError:
            self.requests.append(raw.decode("utf-8", "replace"))
            return 400, UNRECOGNIZED, {}
        self.requests.append(event)
        fault = next((f for f in self.faults if f.times > 0), None)
        if fault and not fault.after_apply:
            return self._fault(fault)
        if not isinstance(event, dict):
            return 400, UNRECOGNIZED, {}
        problems = _problems(event)
        if not problems and self.schema is not None:
            problems = [
                f"{'.'.join(str(p) for p in error.absolute_path) or 'event'}: {error.message}"
                for error in self.schema.iter_errors(event)
            ]
        if problems:
            return 400, {**INVALID, "errors": problems}, {}
        if event["routing_key"] not in self.routing_keys:
            return 400, "Invalid routing key", {}
        dedup_key = self._apply(event)
        if fault:
            return self._fault(fault)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, {}

    def _fault(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        fault.times -= 1
        body = fault.body
        if body is None:
            phrase = HTTPStatus(fault.status).phrase
            body = FAULT_BODIES.get(fault.status, {"status": phrase, "message": phrase})
        return fault.status, body, fault.headers

    def _apply(self, event: dict[str, Any]) -> str:
        """Take an accepted event in; its dedup_key (generated for a trigger without one)."""
        routing_key, action = event["routing_key"], event["event_action"]
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        current = self.alert(dedup_key, routing_key)
        current = current if current is not None and current.open else None
        if action == "trigger" and current is None:
            payload = event["payload"]
            current = Alert(
                routing_key, dedup_key, "triggered", payload["summary"], payload["severity"], payload["source"]
            )
            self.alerts.append(current)
            outcome = "triggered"
        elif action == "trigger":
            outcome = "deduplicated"  # an acknowledged alert stays acknowledged
        elif current is None:
            outcome = "dropped"
        else:
            current.status = "acknowledged" if action == "acknowledge" else "resolved"
            outcome = current.status
        accepted = AcceptedEvent(event, dedup_key, outcome, self.clock())
        self.events.append(accepted)
        if current is not None:
            current.events.append(accepted)
        return dedup_key


class _Handler(QuietHandler):
    server: EventsServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if urlsplit(self.path).path != PATH:
            self.rfile.read(length)
            return send_json(self, 404, "Not Found")
        if length > MAX_BODY:
            self.close_connection = True
            return send_json(self, 400, {**INVALID, "errors": ["The event is larger than 512 KB"]})
        status, payload, headers = self.server.service.handle(self.rfile.read(length))
        send_json(self, status, payload, headers)

    def do_GET(self) -> None:
        send_json(self, 404, "Not Found")


class EventsServer(LoopbackHttpsServer):
    """Serves a SimEventsService over HTTPS on a free loopback port, from a daemon thread.
    `enqueue_url` is what `PagerDutyEvents.url` should be; `ca_path` its `ca_bundle`."""

    def __init__(self, service: SimEventsService, cert_dir: Path) -> None:
        self.service = service
        super().__init__(_Handler, cert_dir, "pagerduty-events-test-ca.pem", "pagerduty-events-sim")
        self.enqueue_url = self.url + PATH

    def fail(self, status: int, times: int = 1, **kw: Any) -> None:
        """Answer the next `times` events with `status` (see `SimEventsService.fail`)."""
        self.service.fail(status, times, **kw)
