"""A local HTTPS server speaking the subset of PagerDuty's REST API v2 the console uses.

PagerDuty cannot be reached from here, so tests and benches talk to this instead. It
enforces what the real API does: `Authorization: Token token=...` (401 otherwise), a `From`
header naming a known user on incident writes (400, code 2016), limit/offset/more paging,
the `{"error": {"message", "code", "errors"}}` body, `incident_key` deduplication, and 429
with rate-limit headers on demand (`fail`). `/oncalls` is computed by the console's own
rotation engine from real schedules, never canned. Certificates come from `trustme` (a
test dependency, see `loopback_https`), so clients trust it only through a CA bundle.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oncall_tui.core.alerts.models import parse_time
from oncall_tui.core.config import ScheduleConfig
from oncall_tui.core.oncall.roster import build_schedule
from oncall_tui.core.oncall.rotation import Schedule
from oncall_tui.core.timefmt import utc_now
from oncall_tui.sim.loopback_https import LoopbackHttpsServer, QuietHandler, send_json

BASE = "https://api.pagerduty.invalid"


class PDError(Exception):
    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {"message": message, "code": code, "errors": errors or []}}


@dataclass
class Fault:
    """Answer the next `times` requests matching `method` and `path` (a prefix) with `status`."""

    method: str
    path: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    after_apply: bool = False  # carry the request out, then answer with the error (a lost answer)


@dataclass
class Policy:
    name: str
    levels: list[tuple[int, str | None, list[str]]]  # (level, schedule id, user ids)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimPagerDuty:
    """The account: users, services, schedules, escalation policies and incidents."""

    def __init__(self, token: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.token = token
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[str, dict[str, Any]] = {}
        self.services: dict[str, str] = {}
        self.schedules: dict[str, Schedule] = {}
        self.policies: dict[str, Policy] = {}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.log_entries: dict[str, list[dict[str, Any]]] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.answers: list[dict[str, Any]] = []
        """Every successful answer (method, path, status, body), as sent: for contract tests."""
        self.requests: list[dict[str, Any]] = []
        """Every request: method, path, query, body, and whether From/Authorization were sent."""
        self._next = 0

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:06d}"

    # -- setting up -----------------------------------------------------------------------
    def add_user(self, name: str, email: str, user_id: str | None = None) -> str:
        user_id = user_id or self._id("PU")
        self.users[user_id] = {"id": user_id, "name": name, "email": email}
        return user_id

    def add_service(self, service_id: str, name: str) -> None:
        self.services[service_id] = name

    def add_schedule(self, schedule_id: str, config: ScheduleConfig) -> None:
        self.schedules[schedule_id] = build_schedule(config)

    def add_policy(self, policy_id: str, name: str, levels: list[tuple[int, str | None, list[str]]]) -> None:
        self.policies[policy_id] = Policy(name, levels)

    def fail(self, method: str, path: str, status: int, times: int = 1, **kw: Any) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, status, times, **kw))

    def user_named(self, name: str) -> dict[str, Any]:
        return next(u for u in self.users.values() if u["name"] == name)

    # -- objects as the API shows them ----------------------------------------------------------
    def _ref(self, kind: str, item_id: str, summary: str) -> dict[str, Any]:
        plural = {"escalation_policy": "escalation_policies"}.get(kind, kind + "s")
        return {
            "id": item_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{BASE}/{plural}/{item_id}",
            "html_url": f"https://sim.pagerduty.invalid/{plural}/{item_id}",
        }

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        return self._ref("user", user_id, self.users[user_id]["name"])

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users[user_id]
        return {
            **self._ref("user", user_id, user["name"]),
            "type": "user",
            "name": user["name"],
            "email": user["email"],
        }

    def _log(self, incident_id: str, kind: str, summary: str, agent: str | None, channel: str) -> None:
        entry_id = self._id("R")
        service = self.incidents[incident_id]["service"]
        agent_ref = self._user_ref(agent) if agent else self._ref("service", service["id"], service["summary"])
        self.log_entries[incident_id].append(
            {
                "id": entry_id,
                "type": kind,
                "summary": summary,
                "self": f"{BASE}/log_entries/{entry_id}",
                "created_at": _ts(self.clock()),
                "channel": {"type": channel},
                "agent": agent_ref,
                "incident": self._ref("incident", incident_id, self.incidents[incident_id]["title"]),
            }
        )

    # -- the API ------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "body": body,
                    "from": headers.get("from"),
                    "authorized": headers.get("authorization") == f"Token token={self.token}",
                }
            )
            if headers.get("authorization") != f"Token token={self.token}":
                raise PDError(401, "Unauthorized", 2006)
            fault = next(
                (f for f in self.faults if f.method == method and path.startswith(f.path) and f.times > 0), None
            )
            if fault and not fault.after_apply:
                return self._fault(fault)
            writes = method in ("POST", "PUT") and path.startswith("/incidents")
            actor = None
            if writes:
                actor = next(
                    (u for u, v in self.users.items() if v["email"].lower() == (headers.get("from") or "").lower()),
                    None,
                )
                if actor is None:
                    raise PDError(400, "Invalid Input Provided", 2016, ["A valid From header is required."])
            status, payload = self._route(method, path, query, body, actor)
            if fault:
                return self._fault(fault)
            self.answers.append(
                {"method": method, "path": path, "status": status, "body": json.loads(json.dumps(payload))}
            )
            return status, payload, {}

    def _fault(self, fault: Fault) -> tuple[int, Any, dict[str, str]]:
        fault.times -= 1
        message = {429: "Rate Limit Exceeded", 503: "Service Unavailable"}.get(fault.status, "Error")
        return (
            fault.status,
            {"error": {"message": message, "code": 2020 if fault.status == 429 else 0, "errors": []}},
            fault.headers,
        )

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, actor: str | None
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["users"]:
            wanted = (query.get("query") or [""])[0].lower()
            users = [
                self._user(u)
                for u, v in self.users.items()
                if not wanted or wanted in f"{v['name']} {v['email']}".lower()
            ]
            return 200, self._page(users, query, "users")
        if (
            method == "GET"
            and len(parts) == 2
            and parts[0] in ("users", "services", "schedules", "escalation_policies")
        ):
            return 200, self._one(parts[0], parts[1])
        if method == "GET" and parts == ["oncalls"]:
            return 200, self._page(self._oncalls(query), query, "oncalls")
        if parts[:1] == ["incidents"]:
            return self._incidents(method, parts[1:], query, body, actor)
        raise PDError(404, "Not Found", 2100)

    def _one(self, kind: str, item_id: str) -> dict[str, Any]:
        if kind == "users" and item_id in self.users:
            return {"user": self._user(item_id)}
        if kind == "services" and item_id in self.services:
            name = self.services[item_id]
            service = {**self._ref("service", item_id, name), "type": "service", "name": name}
            policy_id, policy = next(iter(self.policies.items()))
            return {"service": {**service, "escalation_policy": self._ref("escalation_policy", policy_id, policy.name)}}
        if kind == "schedules" and item_id in self.schedules:
            schedule = self.schedules[item_id]
            body = {**self._ref("schedule", item_id, schedule.name), "type": "schedule", "name": schedule.name}
            return {"schedule": {**body, "time_zone": str(schedule.zone)}}
        if kind == "escalation_policies" and item_id in self.policies:
            policy = self.policies[item_id]
            rules = [
                {
                    "escalation_delay_in_minutes": 15,
                    "targets": [self._ref("schedule", sid, self.schedules[sid].name)]
                    if sid
                    else [self._user_ref(u) for u in users],
                }
                for _, sid, users in sorted(policy.levels)
            ]
            body = {**self._ref("escalation_policy", item_id, policy.name), "type": "escalation_policy"}
            return {"escalation_policy": {**body, "name": policy.name, "escalation_rules": rules}}
        raise PDError(404, "Not Found", 2100)

    def _page(self, items: list[Any], query: dict[str, list[str]], key: str) -> dict[str, Any]:
        try:
            limit = min(int((query.get("limit") or ["25"])[0]), 100)
            offset = int((query.get("offset") or ["0"])[0])
        except ValueError:
            raise PDError(400, "Invalid Input Provided", 2001, ["limit and offset must be integers"]) from None
        if limit < 1 or offset < 0:
            raise PDError(400, "Invalid Input Provided", 2001, ["limit must be positive and offset not negative"])
        return {
            key: items[offset : offset + limit],
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": None,
        }

    def _oncalls(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Computed from the schedules, as PagerDuty does: one entry per (policy, level, user, shift)."""
        now = self.clock()
        since = parse_time(query["since"][0], "since") if query.get("since") else now
        until = parse_time(query["until"][0], "until") if query.get("until") else since + timedelta(days=1)
        if until <= since:
            raise PDError(400, "Invalid Input Provided", 2001, ["until must be after since"])
        policy_ids = query.get("escalation_policy_ids[]")
        schedule_ids = query.get("schedule_ids[]")
        users_in_full = "users" in query.get("include[]", [])
        out: list[dict[str, Any]] = []
        for policy_id, policy in self.policies.items():
            if policy_ids and policy_id not in policy_ids:
                continue
            if schedule_ids and not any(s in schedule_ids for _, s, _ in policy.levels):
                continue
            for level, schedule_id, user_ids in policy.levels:
                if schedule_id:
                    schedule = self.schedules[schedule_id]
                    shifts = [
                        (self.user_named(s.user)["id"], s.start, s.end) for s in schedule.final(since, until) if s.user
                    ]
                else:
                    shifts = [(u, None, None) for u in user_ids]
                seen: set[str] = set()
                for user_id, start, end in shifts:
                    if query.get("earliest") == ["true"] and user_id in seen:
                        continue
                    seen.add(user_id)
                    entry = {
                        "escalation_policy": self._ref("escalation_policy", policy_id, policy.name),
                        "escalation_level": level,
                        "user": self._user(user_id) if users_in_full else self._user_ref(user_id),
                        "start": _ts(start) if start else None,
                        "end": _ts(end) if end else None,
                    }
                    if schedule_id:
                        entry["schedule"] = self._ref("schedule", schedule_id, self.schedules[schedule_id].name)
                    out.append(entry)
        return out

    # -- incidents ------------------------------------------------------------------------------
    def open_incident(
        self, title: str, service_id: str, urgency: str = "high", key: str | None = None, by: str | None = None
    ) -> dict[str, Any]:
        """An incident triggered outside the console (an integration, another responder)."""
        with self.lock:
            incident_id = self._id("Q")
            now = _ts(self.clock())
            number = len(self.incidents) + 1
            self.incidents[incident_id] = {
                **self._ref("incident", incident_id, f"[#{number}] {title}"),
                "type": "incident",
                "incident_number": number,
                "title": title,
                "created_at": now,
                "updated_at": now,
                "last_status_change_at": now,
                "status": "triggered",
                "incident_key": key or incident_id,
                "urgency": urgency,
                "service": self._ref("service", service_id, self.services[service_id]),
                "assignments": [],
                "escalation_level": 1,
            }
            self.log_entries[incident_id], self.notes[incident_id] = [], []
            self._log(incident_id, "trigger_log_entry", "Triggered", by, "api" if by else "auto")
            return self.incidents[incident_id]

    def _incidents(
        self, method: str, rest: list[str], query: dict[str, list[str]], body: Any, actor: str | None
    ) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                statuses = query.get("statuses[]")
                services = query.get("service_ids[]")
                key = (query.get("incident_key") or [None])[0]
                found = [
                    i
                    for i in self.incidents.values()
                    if (not statuses or i["status"] in statuses)
                    and (not services or i["service"]["id"] in services)
                    and (key is None or i["incident_key"] == key)
                ]
                return 200, self._page(found, query, "incidents")
            if method == "POST":
                return 201, {"incident": self._create(body, actor)}
        if not rest or rest[0] not in self.incidents:
            raise PDError(404, "Not Found", 2100, ["Incident not found"])
        incident_id, what = rest[0], rest[1:]
        incident = self.incidents[incident_id]
        if method == "GET" and not what:
            return 200, {"incident": incident}
        if method == "PUT" and not what:
            return 200, {"incident": self._update(incident, body, actor)}
        if what == ["log_entries"] and method == "GET":
            return 200, self._page(self.log_entries[incident_id], query, "log_entries")
        if what == ["notes"] and method == "GET":
            return 200, {"notes": self.notes[incident_id]}
        if what == ["notes"] and method == "POST":
            content = ((body or {}).get("note") or {}).get("content")
            if not isinstance(content, str) or not content.strip():
                raise PDError(400, "Invalid Input Provided", 2001, ["Note content is required"])
            note = {
                "id": self._id("PN"),
                "user": self._user_ref(actor),
                "channel": {"summary": "The PagerDuty website or APIs"},
                "content": content,
                "created_at": _ts(self.clock()),
            }
            self.notes[incident_id].append(note)
            self._log(incident_id, "annotate_log_entry", "Note added", actor, "note")
            return 200, {"note": note}
        raise PDError(404, "Not Found", 2100)

    def _create(self, body: Any, actor: str | None) -> dict[str, Any]:
        fields = (body or {}).get("incident") if isinstance(body, dict) else None
        if not isinstance(fields, dict) or fields.get("type") != "incident" or not fields.get("title"):
            raise PDError(400, "Invalid Input Provided", 2001, ["incident.type and incident.title are required"])
        service = (fields.get("service") or {}).get("id")
        if service not in self.services:
            raise PDError(400, "Invalid Input Provided", 2001, ["Service not found"])
        key = fields.get("incident_key")
        if key and any(i["incident_key"] == key and i["status"] != "resolved" for i in self.incidents.values()):
            raise PDError(
                400,
                "Invalid Input Provided",
                2001,
                ["Open incident with key matching dedup_key already exists on this service"],
            )
        return self.open_incident(fields["title"], service, fields.get("urgency", "high"), key, by=actor)

    def _update(self, incident: dict[str, Any], body: Any, actor: str | None) -> dict[str, Any]:
        fields = (body or {}).get("incident") if isinstance(body, dict) else None
        if not isinstance(fields, dict) or fields.get("type") not in ("incident", "incident_reference"):
            raise PDError(400, "Invalid Input Provided", 2001, ["incident.type is required"])
        now = _ts(self.clock())
        status = fields.get("status")
        if status is not None:
            if status not in ("acknowledged", "resolved"):
                raise PDError(400, "Invalid Input Provided", 2001, [f"Unknown status {status}"])
            if incident["status"] == "resolved":
                raise PDError(400, "Incident Already Resolved", 2001, ["Incident Already Resolved"])
            kind = "acknowledge_log_entry" if status == "acknowledged" else "resolve_log_entry"
            incident.update(status=status, last_status_change_at=now, last_status_change_by=self._user_ref(actor))
            self._log(incident["id"], kind, f"{status.capitalize()} by {self.users[actor]['name']}", actor, "api")
        if "escalation_level" in fields:
            level = fields["escalation_level"]
            if not isinstance(level, int) or level < 1:
                raise PDError(400, "Invalid Input Provided", 2001, ["escalation_level must be a positive integer"])
            incident["escalation_level"] = level
            self._log(incident["id"], "escalate_log_entry", f"Escalated to level {level}", actor, "api")
        if "assignments" in fields:
            ids = [a.get("assignee", {}).get("id") for a in fields["assignments"]]
            if not ids or any(i not in self.users for i in ids):
                raise PDError(400, "Invalid Input Provided", 2001, ["Assignee not found"])
            incident["assignments"] = [{"at": now, "assignee": self._user_ref(i)} for i in ids]
            self._log(
                incident["id"],
                "assign_log_entry",
                "Reassigned to " + ", ".join(self.users[i]["name"] for i in ids),
                actor,
                "api",
            )
        incident["updated_at"] = now
        return incident


class _Handler(QuietHandler):
    server: PagerDutyServer

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        extra: dict[str, str] = {}
        try:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise PDError(400, "Invalid Input Provided", 2001, ["The request body is not JSON"]) from None
            status, payload, extra = self.server.account.handle(method, url.path, parse_qs(url.query), headers, body)
        except PDError as error:
            status, payload = error.status, error.body
        send_json(self, status, payload, extra)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")


class PagerDutyServer(LoopbackHttpsServer):
    """Serves a SimPagerDuty over HTTPS on a free loopback port, from a daemon thread."""

    def __init__(self, account: SimPagerDuty, cert_dir: Path) -> None:
        self.account = account
        super().__init__(_Handler, cert_dir, "pagerduty-test-ca.pem", "pagerduty-sim")


def guide_account(token: str, clock: Callable[[], datetime] = utc_now) -> SimPagerDuty:
    """The guide's team: a weekly rotation of alice, bob and carol from 2024-01-01 in Los
    Angeles (level 1), dana at level 2, and the ml-api service."""
    account = SimPagerDuty(token, clock)
    for name in ("alice", "bob", "carol", "dana"):
        account.add_user(name, f"{name}@example.com", user_id=f"PU{name.upper()}")
    account.add_service("PSVC1", "ml-api")
    start = datetime(2024, 1, 1)
    weekly = ScheduleConfig.model_validate(
        {
            "name": "ML Platform On-Call",
            "time_zone": "America/Los_Angeles",
            "layers": [
                {
                    "name": "Weekly",
                    "start": start,
                    "rotation_virtual_start": start,
                    "rotation_turn_length_seconds": 604800,
                    "users": ["alice", "bob", "carol"],
                }
            ],
        }
    )
    account.add_schedule("PSCHED1", weekly)
    account.add_policy("PPOL1", "ML Platform", [(1, "PSCHED1", []), (2, None, ["PUDANA"])])
    return account
