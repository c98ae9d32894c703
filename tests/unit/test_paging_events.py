"""Paging through a PagerDuty service's Events API v2 (the local HTTPS server that behaves
like the real one): trigger on escalation, acknowledge on ack, resolve on resolution or a
further escalation; a page the API refused is never "paged"."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from oncall_tui.core.incidents.desk import IncidentDesk, NotPagedError
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.paging.pagers import PagerDutyEventsPager, PageRequest
from oncall_tui.sim.pagerduty_events import EventsServer
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.widgets.incident_view import describe
from tests.conftest import ROUTING_KEY, SteppedClock, make_config, notes, until
from tests.pagerduty_world import events_api_for


def _desk(
    server: EventsServer, tmp_path: Path, clock: SteppedClock, actor: str = "alice"
) -> tuple[IncidentDesk, list[str]]:
    api, waits, _ = events_api_for(server)
    return IncidentDesk(tmp_path, actor, pager=PagerDutyEventsPager(api), clock=clock).load(), waits


def test_trigger_acknowledge_and_resolve(pagerduty_events: EventsServer, tmp_path: Path, clock: SteppedClock) -> None:
    alice, _ = _desk(pagerduty_events, tmp_path, clock)
    incident = alice.declare("ml-api returns 5xx", severity="SEV-1")
    event = alice.escalate(incident.id, ["dana"], last_level=3)
    key = f"{incident.id}-{incident.uid}-L2"
    assert event.summary == "Escalated to level 2: page for dana accepted by PagerDuty Events"
    assert event.data["paged"][0]["detail"] == f"accepted, dedup_key {key}"
    page = pagerduty_events.service.alert(key)
    assert page is not None and page.status == "triggered" and page.severity == "critical"
    assert page.summary == f"Page for dana: {incident.id} SEV-1 ml-api returns 5xx"

    dana, _ = _desk(pagerduty_events, tmp_path, clock, "dana")
    dana.acknowledge(incident.id)
    assert pagerduty_events.service.alert(key).status == "acknowledged"
    acked = dana.get(incident.id).events[-1]
    assert (acked.kind, acked.who) == ("page.acknowledged", "oncall-tui (paging)")
    assert acked.summary == "Acknowledged the page to dana (level 2) through PagerDuty Events: acknowledged by dana"

    alice.escalate(incident.id, ["erin"], last_level=3)  # level 3: level 2's page stands down
    assert pagerduty_events.service.alert(key).status == "resolved"
    assert pagerduty_events.service.alert(f"{incident.id}-{incident.uid}-L3").status == "triggered"
    alice.resolve(incident.id, "rolled back")
    assert pagerduty_events.service.alert(f"{incident.id}-{incident.uid}-L3").status == "resolved"
    ends = [e.data["reason"] for e in incident.events if e.kind == "page.resolved"]
    assert ends == ["escalated to level 3", "the incident was resolved"]


def test_a_second_trigger_is_one_alert(pagerduty_events: EventsServer, tmp_path: Path, clock: SteppedClock) -> None:
    desk, _ = _desk(pagerduty_events, tmp_path, clock)
    incident = desk.declare("ml-api returns 5xx")
    desk.escalate(incident.id, ["dana"], last_level=2)
    [page] = incident.pages.values()
    desk.pager.send(desk.pager.plan(_request(incident))[0], clock())  # another console sends it again
    assert [e.outcome for e in pagerduty_events.service.events] == ["triggered", "deduplicated"]
    assert len(pagerduty_events.service.alerts_for(page.key)) == 1


def _request(incident: Incident) -> PageRequest:
    return PageRequest(incident.id, incident.uid, incident.title, incident.severity, 2, ("dana",), "alice")


def test_a_429_is_retried_then_paged(pagerduty_events: EventsServer, tmp_path: Path, clock: SteppedClock) -> None:
    desk, waits = _desk(pagerduty_events, tmp_path, clock)
    incident = desk.declare("ml-api returns 5xx")
    pagerduty_events.fail(429, times=1)
    event = desk.escalate(incident.id, ["dana"], last_level=2)
    assert event.data["paged"] and waits and "HTTP 429" in waits[0]


def test_a_400_is_a_failure_on_the_record(pagerduty_events: EventsServer, tmp_path: Path, clock: SteppedClock) -> None:
    desk, _ = _desk(pagerduty_events, tmp_path, clock)
    incident = desk.declare("ml-api returns 5xx")
    pagerduty_events.fail(400, times=1)
    with pytest.raises(NotPagedError, match=r"^Not paged: dana through PagerDuty Events: PagerDuty Events: HTTP 400"):
        desk.escalate(incident.id, ["dana"], last_level=2)
    failed = incident.events[-1]
    assert failed.kind == "incident.action_failed" and incident.escalation_level == 1 and not incident.pages
    assert ROUTING_KEY not in failed.to_line().decode()


async def test_the_confirmation_says_how_the_page_goes(
    sim: SimServer, pagerduty_events: EventsServer, clock: SteppedClock, tmp_path: Path
) -> None:
    raw = {"routing_key": ROUTING_KEY, "url": pagerduty_events.enqueue_url, "ca_bundle": str(pagerduty_events.ca_path)}
    config = make_config(
        sim.url,
        data_dir=str(tmp_path / "data"),
        oncall={"escalation": [{"level": 1, "users": ["alice"]}, {"level": 2, "users": ["dana"]}]},
        paging={"pagerduty_events": raw},
    )
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        incident = await _declare(app, pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ConfirmScreen)
        assert str(app.screen.query_one("#confirm-question").render()) == (
            f"Page dana through PagerDuty Events (level 2) · {incident.id}?"
        )
        assert "its escalation policy decides who is notified" in str(app.screen.query_one("#confirm-detail").render())
        pagerduty_events.fail(400, times=1)
        await pilot.press("y")
        await until(
            lambda: any(n.startswith("Not paged: dana through PagerDuty Events") for n in notes(app)),
            what="the red line",
        )
        assert "NOT paged" in str(app.main.incident_pane.render()) and incident.escalation_level == 1
        await pilot.press("e", "y")  # e tries again
        await until(lambda: incident.escalation_level == 2 and not app.main.incident_pane.pending, what="the page")
        assert "NOT paged" not in str(app.main.incident_pane.render())
        assert "paged dana L2 through PagerDuty Events" in str(app.main.incident_pane.render())


async def _declare(app: OncallApp, pilot: Pilot) -> Incident:
    await pilot.press("i", *"ml-api down", "enter")
    await until(lambda: app.services.desk.open_incidents() and not app.main.incident_pane.pending, what="the incident")
    return app.main.incident_pane.active()


def test_part_of_a_level_not_paged_stays_a_red_line(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("ml-api returns 5xx")
    paged = {
        "key": "k",
        "who": ["dana"],
        "level": 2,
        "via": "alertmanager:prod",
        "how": "Alertmanager prod",
        "at": None,
    }
    erin = {"erin": "prod: unreachable (connection refused)"}
    desk.record(
        incident.id,
        "incident.escalated",
        "Escalated to level 2: paged dana",
        {"level": 2, "targets": ["dana", "erin"], "paged": [paged], "page_error": erin},
    )
    shown = describe(desk.get(incident.id), (1, 1), clock()).plain
    assert "paged dana L2 through Alertmanager prod" in shown
    assert "✗ erin NOT paged 14:32:05 UTC: prod: unreachable (connection refused) (reach them another way)" in shown
