"""Incidents kept in step with PagerDuty: the provider behind the incident keys, and the sync.

`PagerDutyProvider.confirm` carries out each action in PagerDuty before the desk records it,
so the journal never says "acknowledged" unless PagerDuty said so. `sync` runs from the
console's PagerDuty worker: incidents opened in PagerDuty are adopted, status changes made
elsewhere are recorded, and log entries and notes are merged in once each.
"""

from __future__ import annotations

from typing import Any

from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.pagerduty.rest import PagerDutyApi, PagerDutyError, reference
from oncall_tui.core.text import clean_line

URGENT = ("SEV-1", "SEV-2")
SOURCE = "PagerDuty"


class PagerDutyProvider:
    """Every incident action, confirmed by PagerDuty first."""

    name = "pagerduty"

    def __init__(self, api: PagerDutyApi) -> None:
        self.api = api

    def confirm(self, incident: Incident, action: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._confirm(incident, action, data)
        except PagerDutyError as error:
            raise IncidentError(str(error)) from None

    def _confirm(self, incident: Incident, action: str, data: dict[str, Any]) -> dict[str, Any]:
        if action == "incident.declared":
            details = {
                "declared_in": f"oncall-tui {incident.id}",
                "severity": data["severity"],
                "alerts": [f"{a['name']} ({a['severity']}) since {a['starts_at']}" for a in data["alerts"]],
            }
            urgency = "high" if data["severity"] in URGENT else "low"
            created = self.api.create_incident(data["title"], urgency, incident.id, details)
            return {"pagerduty": reference(created)}
        remote = incident.pagerduty.get("id")
        if not remote:  # declared while incidents.provider was local: it stays local
            return {}
        if action == "incident.acknowledged":
            self.api.update_incident(remote, status="acknowledged")
        elif action == "incident.resolved":
            self.api.update_incident(remote, status="resolved", resolution=data["resolution"])
        elif action == "incident.escalated":
            self.api.update_incident(remote, escalation_level=data["level"])
        elif action == "incident.reassigned":
            user = self.api.find_user(data["to"])
            self.api.update_incident(remote, assignments=[{"assignee": {"id": user["id"], "type": "user_reference"}}])
            return {"pagerduty_user": user["id"]}
        elif action == "note":
            note = self.api.add_note(remote, data["text"])
            return {"merged": f"note:{note.get('id')}"}  # so the sync never merges it back
        return {}


def _who(reference: dict[str, Any] | None) -> str:
    reference = reference or {}
    return clean_line(str(reference.get("summary") or reference.get("name") or SOURCE), 60)


def sync(api: PagerDutyApi, desk: IncidentDesk) -> list[str]:
    """One round: adopt, follow status, merge log entries and notes. Returns lines to show."""
    told: list[str] = []
    remote = {r["id"]: r for r in api.open_incidents()}
    known = {i.pagerduty.get("id"): i for i in list(desk.incidents.values()) if i.pagerduty.get("id")}
    for pd_id, item in remote.items():
        if pd_id in known:
            continue
        sev = "SEV-2" if item.get("urgency") == "high" else "SEV-3"
        title = clean_line(str(item.get("title") or item.get("summary") or pd_id), 500)
        opened = {"created_at": item.get("created_at")}  # adopted: measured from when PagerDuty opened it
        incident = desk.declare(title, severity=sev, pagerduty=reference(item) | opened, agent="pagerduty")
        known[pd_id] = incident
        told.append(f"{incident.id}: PagerDuty #{item.get('incident_number')} {title}")
    me = (api.me() or {}).get("id")
    for pd_id, incident in known.items():
        if not incident.is_open:
            continue
        item = remote.get(pd_id) or api.incident(pd_id)  # gone from the open list: ask why
        _follow_status(desk, incident, item)
        _merge_activity(api, desk, incident, pd_id, me)
    return told


def _follow_status(desk: IncidentDesk, incident: Incident, item: dict[str, Any]) -> None:
    status, number = item.get("status"), item.get("incident_number")
    key = f"status:{status}:{item.get('last_status_change_at') or item.get('updated_at') or ''}"
    by = _who(item.get("last_status_change_by"))
    if status == "acknowledged" and incident.status == "triggered":
        desk.merge(
            incident.id,
            key,
            "incident.acknowledged",
            f"Acknowledged in PagerDuty (#{number})",
            {"source": "pagerduty", "at": item.get("last_status_change_at")},
            by,
        )
    elif status == "resolved":
        desk.merge(
            incident.id,
            key,
            "incident.resolved",
            f"Resolved in PagerDuty (#{number})",
            {
                "source": "pagerduty",
                "resolution": f"resolved in PagerDuty by {by}",
                "at": item.get("last_status_change_at"),
            },
            by,
        )


def _merge_activity(api: PagerDutyApi, desk: IncidentDesk, incident: Incident, pd_id: str, me: str | None) -> None:
    for entry in api.log_entries(pd_id):
        kind = str(entry.get("type", ""))
        agent = entry.get("agent") or {}
        if kind == "annotate_log_entry":
            continue  # notes come whole from /notes, below
        if me and agent.get("id") == me and (entry.get("channel") or {}).get("type") in ("api", "note"):
            continue  # this console's own action through the API: already on the record
        text = clean_line(str(entry.get("summary") or kind), 300)
        data = {"source": "pagerduty", "type": kind, "at": entry.get("created_at")}
        desk.merge(
            incident.id, f"log:{entry.get('id')}", "pagerduty.log_entry", f"PagerDuty: {text}", data, _who(agent)
        )
    for note in api.notes(pd_id):
        content = str(note.get("content") or "")
        data = {"text": content, "action_item": False, "source": "pagerduty", "at": note.get("created_at")}
        summary = f"Note: {clean_line(content, 300)}"
        desk.merge(incident.id, f"note:{note.get('id')}", "note", summary, data, _who(note.get("user")))
