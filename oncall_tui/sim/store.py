"""An in-memory Alertmanager: alerts, silences and one inhibition rule, as 0.25 behaves.

Only what the console uses, but with the real semantics: alerts expire at `endsAt`,
silences mute matching alerts while active, an edited silence keeps its ID unless its
matchers change (then the old one is expired and a new ID returned), expiring an expired
silence succeeds, an unknown ID is an error.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_tui.core.alerts.matchers import MatcherError, matches_all, parse_matcher
from oncall_tui.core.alerts.models import PayloadError, SilenceMatcher, parse_time

RESOLVE_TIMEOUT = timedelta(minutes=5)


class SimError(Exception):
    """An API error: `status` is the HTTP status, `str()` the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(labels: dict[str, str]) -> str:
    digest = hashlib.sha256("\xff".join(f"{k}\xfe{v}" for k, v in sorted(labels.items())).encode())
    return digest.hexdigest()[:16]


class SimAlertmanager:
    """Thread-safe store. `clock` is injectable so tests and the scenario can move time."""

    def __init__(self, clock: Callable[[], datetime] | None = None, inhibit_equal: str = "service") -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.started = self.clock()
        self.inhibit_equal = inhibit_equal
        self._alerts: dict[str, dict[str, Any]] = {}
        self._silences: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- alerts ---------------------------------------------------------------------------
    def post_alerts(self, items: Any) -> None:
        if not isinstance(items, list):
            raise SimError(400, "expected a list of alerts")
        now = self.clock()
        with self._lock:
            for item in items:
                labels = item.get("labels") if isinstance(item, dict) else None
                if not isinstance(labels, dict) or not labels or not all(isinstance(v, str) for v in labels.values()):
                    raise SimError(400, "invalid label set")
                fp = fingerprint(labels)
                try:
                    starts = parse_time(item["startsAt"], "startsAt") if item.get("startsAt") else now
                    ends = parse_time(item["endsAt"], "endsAt") if item.get("endsAt") else now + RESOLVE_TIMEOUT
                except PayloadError as error:
                    raise SimError(400, str(error)) from None
                old = self._alerts.get(fp)
                if old and old["endsAt"] > now:  # still firing: keep its start
                    starts = min(starts, old["startsAt"])
                self._alerts[fp] = {
                    "labels": dict(labels),
                    "annotations": dict(item.get("annotations") or {}),
                    "startsAt": starts,
                    "endsAt": ends,
                    "updatedAt": now,
                    "generatorURL": item.get("generatorURL", ""),
                }

    def restart(self, silences_saved: bool = True) -> None:
        """As a real Alertmanager restarts: a new `uptime`, silences kept (they are on disk, if
        it saved them before: not `silences_saved`, they are lost), alerts gone until they are
        posted again."""
        with self._lock:
            self.started = self.clock()
            self._alerts.clear()
            if not silences_saved:
                self._silences.clear()

    def resolve(self, labels: dict[str, str]) -> None:
        with self._lock:
            alert = self._alerts.get(fingerprint(labels))
            if alert:
                alert["endsAt"] = alert["updatedAt"] = self.clock()

    def get_alerts(self, filters: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The alerts not yet resolved; with `filters` (`filter` in the API: matchers in its
        syntax), those matching each. SimError 400 for a matcher it cannot read."""
        try:
            wanted = [parse_matcher(text) for text in filters]
        except MatcherError as error:
            raise SimError(400, f"bad matcher format: {error}") from None
        now = self.clock()
        with self._lock:
            firing = {fp: a for fp, a in self._alerts.items() if a["endsAt"] > now}
            active_silences = [s for s in self._silences.values() if self._silence_state(s, now) == "active"]
            out = []
            for fp, alert in sorted(firing.items()):
                labels = alert["labels"]
                if not matches_all(wanted, labels):
                    continue
                silenced_by = sorted(s["id"] for s in active_silences if matches_all(s["matchers"], labels))
                inhibited_by = self._inhibitors(fp, labels, firing)
                out.append(
                    {
                        "annotations": alert["annotations"],
                        "endsAt": iso(alert["endsAt"]),
                        "fingerprint": fp,
                        "receivers": [{"name": "demo"}],
                        "startsAt": iso(alert["startsAt"]),
                        "status": {
                            "inhibitedBy": inhibited_by,
                            "silencedBy": silenced_by,
                            "state": "suppressed" if silenced_by or inhibited_by else "active",
                        },
                        "updatedAt": iso(alert["updatedAt"]),
                        "generatorURL": alert["generatorURL"],
                        "labels": labels,
                    }
                )
            return out

    def _inhibitors(self, fp: str, labels: dict[str, str], firing: dict[str, dict[str, Any]]) -> list[str]:
        """Alertmanager's classic rule: a critical alert inhibits warnings with the same `service`."""
        key = labels.get(self.inhibit_equal)
        if labels.get("severity") != "warning" or key is None:
            return []
        return sorted(
            other_fp
            for other_fp, other in firing.items()
            if other_fp != fp
            and other["labels"].get("severity") == "critical"
            and other["labels"].get(self.inhibit_equal) == key
        )

    # -- silences -------------------------------------------------------------------------
    @staticmethod
    def _silence_state(silence: dict[str, Any], now: datetime) -> str:
        if silence["endsAt"] <= now:
            return "expired"
        return "pending" if silence["startsAt"] > now else "active"

    def post_silence(self, body: Any) -> str:
        if not isinstance(body, dict):
            raise SimError(400, "expected a silence object")
        now = self.clock()
        try:
            matchers = tuple(
                SilenceMatcher(m["name"], m["value"], bool(m["isRegex"]), m.get("isEqual", True) is not False)
                for m in body["matchers"]
            )
            starts = parse_time(body["startsAt"], "startsAt")
            ends = parse_time(body["endsAt"], "endsAt")
            created_by, comment = str(body["createdBy"]), str(body["comment"])
        except (KeyError, TypeError, PayloadError) as error:
            raise SimError(400, f"silence invalid: {error}") from None
        if not matchers:
            raise SimError(400, "silence invalid: at least one matcher required")
        if matches_all(matchers, {}):
            raise SimError(400, "silence invalid: at least one matcher must not match the empty string")
        if ends < starts:
            raise SimError(400, "silence invalid: end time can't be before start time")
        if ends < now:
            raise SimError(400, "silence invalid: end time can't be in the past")
        with self._lock:
            old_id = body.get("id")
            if old_id:
                old = self._silences.get(old_id)
                if old is None:
                    raise SimError(404, "silence not found")
                if old["matchers"] == matchers and self._silence_state(old, now) != "expired":
                    old.update(endsAt=ends, createdBy=created_by, comment=comment, updatedAt=now)
                    return old_id
                if self._silence_state(old, now) != "expired":
                    old["endsAt"] = old["updatedAt"] = now
            silence_id = str(uuid.uuid4())
            self._silences[silence_id] = {
                "id": silence_id,
                "matchers": matchers,
                "startsAt": max(starts, now),
                "endsAt": ends,
                "createdBy": created_by,
                "comment": comment,
                "updatedAt": now,
            }
            return silence_id

    def expire_silence(self, silence_id: str) -> None:
        now = self.clock()
        with self._lock:
            silence = self._silences.get(silence_id)
            if silence is None:
                raise SimError(500, "silence not found")
            if self._silence_state(silence, now) != "expired":
                silence["endsAt"] = silence["updatedAt"] = now

    def _silence_json(self, silence: dict[str, Any], now: datetime) -> dict[str, Any]:
        return {
            "id": silence["id"],
            "status": {"state": self._silence_state(silence, now)},
            "updatedAt": iso(silence["updatedAt"]),
            "comment": silence["comment"],
            "createdBy": silence["createdBy"],
            "endsAt": iso(silence["endsAt"]),
            "matchers": [m.to_api() for m in silence["matchers"]],
            "startsAt": iso(silence["startsAt"]),
        }

    def get_silences(self) -> list[dict[str, Any]]:
        now = self.clock()
        with self._lock:
            return [self._silence_json(s, now) for s in self._silences.values()]

    def get_silence(self, silence_id: str) -> dict[str, Any]:
        with self._lock:
            silence = self._silences.get(silence_id)
            if silence is None:
                raise SimError(404, "silence not found")
            return self._silence_json(silence, self.clock())

    def status(self) -> dict[str, Any]:
        return {
            "cluster": {"peers": [], "status": "disabled"},
            "config": {"original": "# oncall-tui simulator: no routing, one inhibit rule\n"},
            "uptime": iso(self.started),
            "versionInfo": {
                "branch": "sim",
                "buildDate": "",
                "buildUser": "oncall-tui",
                "goVersion": "none",
                "revision": "sim",
                "version": "0.25.0-oncall-tui-sim",
            },
        }
