"""The PagerDuty test server's answers, and the console's request bodies, against the
official REST API description (../shared/contracts/pagerduty-rest-openapiv3.json)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.pagerduty.incidents import PagerDutyProvider, sync
from oncall_tui.sim.pagerduty import PagerDutyServer
from tests.conftest import TOKEN, SteppedClock
from tests.contracts import require_pagerduty_contract, validate_pagerduty
from tests.pagerduty_world import api_for

TEMPLATES = [
    (re.compile(r"^/incidents/[^/]+/notes$"), "/incidents/{id}/notes"),
    (re.compile(r"^/incidents/[^/]+/log_entries$"), "/incidents/{id}/log_entries"),
    (re.compile(r"^/incidents/[^/]+$"), "/incidents/{id}"),
    (re.compile(r"^/(users|services|schedules|escalation_policies)/[^/]+$"), r"/\1/{id}"),
]


def template(path: str) -> str:
    for pattern, replacement in TEMPLATES:
        if pattern.match(path):
            return pattern.sub(replacement, path)
    return path


@pytest.fixture(autouse=True)
def _contract() -> None:
    require_pagerduty_contract()


def test_the_validator_rejects_what_the_schema_forbids() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate_pagerduty({"incident": {"type": "incident", "status": "on fire"}}, "/incidents/{id}", "put")
    with pytest.raises(jsonschema.ValidationError):
        validate_pagerduty({"oncalls": [{"escalation_level": "one"}]}, "/oncalls", "get", "200")


def test_every_answer_and_every_request_body_fits(
    pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    account = pagerduty.account
    api, _ = api_for(pagerduty, clock, schedule_ids=["PSCHED1"])
    desk = IncidentDesk(tmp_path, "alice", PagerDutyProvider(api), clock).load()
    api.oncall_levels(clock())
    api.check()
    account.open_incident("Checkout latency high", "PSVC1")
    sync(api, desk)
    incident = desk.declare("HighErrorRate: ml-api", severity="SEV-2")
    desk.acknowledge(incident.id)
    desk.escalate(incident.id, ["dana"])
    desk.reassign(incident.id, "bob")
    desk.note(incident.id, "rolled back")
    desk.resolve(incident.id, "rollback")
    sync(api, desk)
    checked = set()
    for answer in account.answers:
        path = template(answer["path"])
        validate_pagerduty(answer["body"], path, answer["method"].lower(), str(answer["status"]))
        checked.add((answer["method"], path))
    for request in account.requests:
        if request["body"] is not None:
            validate_pagerduty(request["body"], template(request["path"]), request["method"].lower())
    assert checked >= {
        ("GET", "/oncalls"),
        ("GET", "/users"),
        ("GET", "/incidents"),
        ("POST", "/incidents"),
        ("PUT", "/incidents/{id}"),
        ("POST", "/incidents/{id}/notes"),
        ("GET", "/incidents/{id}/notes"),
        ("GET", "/incidents/{id}/log_entries"),
        ("GET", "/escalation_policies/{id}"),
        ("GET", "/schedules/{id}"),
        ("GET", "/services/{id}"),
    }


def test_error_bodies_fit(pagerduty: PagerDutyServer) -> None:
    account = pagerduty.account
    for headers, status in (({}, 401), ({"authorization": f"Token token={TOKEN}"}, 400)):
        try:
            account.handle("POST", "/incidents", {}, headers, {"incident": {"type": "incident", "title": "x"}})
        except Exception as error:  # PDError carries the body the server sends
            assert error.status == status  # type: ignore[attr-defined]
            validate_pagerduty(error.body, "/incidents", "post", str(status))  # type: ignore[attr-defined]
        else:
            raise AssertionError("expected an error answer")
