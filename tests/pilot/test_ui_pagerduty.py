"""The console against the local HTTPS PagerDuty server: keys, the pane, a 429 burst, a 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from oncall_tui.sim.pagerduty import PagerDutyServer
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt
from tests.conftest import TOKEN, SteppedClock, alert, make_config, notes, until
from tests.pagerduty_world import pd_section

FIRING = [alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api")]


@pytest.fixture
async def console(
    sim: SimServer, pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> AsyncIterator[tuple[OncallApp, Pilot]]:
    sim.store.post_alerts(FIRING)
    config = make_config(
        sim.url,
        data_dir=str(tmp_path / "data"),
        pagerduty=pd_section(pagerduty),
        incidents={"provider": "pagerduty"},
        oncall={"provider": "pagerduty"},
    )
    app = oncall_app(config, clock=clock)
    app.services.pagerduty.backoff = 0.01
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: len(app.main.alert_list.alerts) == 1, what="the alerts")
        await until(lambda: app.main._pagerduty_ok, what="the first PagerDuty sync")
        yield app, pilot


async def adopted(app: OncallApp, pagerduty: PagerDutyServer) -> dict:
    """An incident opened in PagerDuty (by an integration), once the console has picked it up."""
    remote = pagerduty.account.open_incident("Checkout latency", "PSVC1")
    await until(lambda: app.main.incident_pane.active() is not None, what="the adopted incident")
    shown = app.main.incident_pane.active().id
    await until(lambda: shown in str(app.main.incident_pane.render()), what="the adopted incident on screen")
    return remote


async def confirm(app: OncallApp, pilot: Pilot, key: str) -> None:
    await pilot.press(key)
    await until(lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
    await pilot.press("enter")


async def answer(app: OncallApp, pilot: Pilot, key: str, text: str) -> None:
    await pilot.press(key)
    await until(lambda: isinstance(app.screen, TextPrompt), what="the prompt")
    app.screen.query_one("#prompt-input").value = text
    await pilot.press("enter")


async def test_oncall_pane_and_status_come_from_pagerduty(console: tuple[OncallApp, Pilot]) -> None:
    app, _ = console
    await until(lambda: "bob" in str(app.main.oncall_pane.render()), what="the on-call pane")
    shown = str(app.main.oncall_pane.render())
    assert "L1 bob  ML Platform" in shown and "next carol" in shown and "L2 dana" in shown
    assert "PagerDuty ✓" in str(app.main.status_line.render())


async def test_the_incident_keys_drive_pagerduty(console: tuple[OncallApp, Pilot], pagerduty: PagerDutyServer) -> None:
    app, pilot = console
    account = pagerduty.account
    await pilot.press("i")
    await until(lambda: isinstance(app.screen, TextPrompt), what="the declare prompt")
    await pilot.press("enter")
    await until(
        lambda: app.main.incident_pane.active() and app.main.incident_pane.active().pagerduty, what="the declaration"
    )
    incident = app.main.incident_pane.active()
    remote = account.incidents[incident.pagerduty["id"]]
    assert remote["title"] == "HighErrorRate: ml-api errors"
    await until(lambda: "PagerDuty #1" in str(app.main.incident_pane.render()), what="the PagerDuty number")

    await confirm(app, pilot, "a")
    await until(lambda: app.services.desk.get(incident.id).status == "acknowledged", what="the acknowledgement")
    assert remote["status"] == "acknowledged"
    await confirm(app, pilot, "e")
    await until(lambda: remote["escalation_level"] == 2, what="the escalation")
    await answer(app, pilot, "n", "rolled back ml-api")
    await until(lambda: account.notes[remote["id"]], what="the note")
    await answer(app, pilot, "W", "carol@example.com")
    await until(lambda: remote["assignments"], what="the reassignment")
    await answer(app, pilot, "R", "rollback to v41")
    await until(lambda: remote["status"] == "resolved", what="the resolution")
    await until(lambda: not app.services.desk.get(incident.id).is_open, what="the local resolution")
    kinds = [e.kind for e in app.services.desk.get(incident.id).events]
    for kind in ("incident.acknowledged", "incident.escalated", "note", "incident.reassigned", "incident.resolved"):
        assert kinds.count(kind) == 1, kinds


async def test_a_429_burst_is_shown_and_the_ack_still_lands(
    console: tuple[OncallApp, Pilot], pagerduty: PagerDutyServer
) -> None:
    app, pilot = console
    remote = await adopted(app, pagerduty)
    pagerduty.account.fail("PUT", "/incidents", 429, times=3, headers={"ratelimit-reset": "0"})
    await confirm(app, pilot, "a")
    await until(lambda: "PagerDuty rate limited, retrying in 1s" in notes(app), what="the rate-limit notice")
    assert "acknowledging…" in str(app.main.incident_pane.render())  # pending, not done
    await until(lambda: remote["status"] == "acknowledged", what="the acknowledgement")
    await until(lambda: any(n.startswith("Recorded: Acknowledged") for n in notes(app)), what="recorded")


async def test_a_503_marks_the_action_failed_and_records_nothing_done(
    console: tuple[OncallApp, Pilot], pagerduty: PagerDutyServer
) -> None:
    app, pilot = console
    remote = await adopted(app, pagerduty)
    pagerduty.account.fail("PUT", "/incidents", 503, times=10)
    await confirm(app, pilot, "a")
    await until(lambda: any("HTTP 503 after 3 tries" in n for n in notes(app)), what="the failure")
    incident = app.main.incident_pane.active()
    assert incident.status == "triggered" and remote["status"] == "triggered"
    assert incident.events[-1].kind == "incident.action_failed"
    assert incident.events[-1].summary.startswith("Failed: Acknowledged (PagerDuty PUT")
    await until(lambda: not app.main.incident_pane.pending, what="the key to work again")


async def test_a_wrong_token_is_one_line_and_the_console_goes_on(
    sim: SimServer, pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts(FIRING)
    config = make_config(
        sim.url,
        data_dir=str(tmp_path / "data"),
        pagerduty=pd_section(pagerduty, token="not-the-token"),
        incidents={"provider": "pagerduty"},
        oncall={"provider": "pagerduty"},
    )
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(
            lambda: "PagerDuty ✗" in str(app.main.status_line.render()), what="the PagerDuty error in the header"
        )
        await until(lambda: len(app.main.alert_list.alerts) == 1, what="alerts still shown")
        status = str(app.main.status_line.render())
        assert "PagerDuty ✗ PagerDuty token rejected (HTTP 401" in status
        await until(lambda: any("token rejected" in n for n in notes(app)), what="the notice")  # notices are messages
        assert [n for n in notes(app) if "token rejected" in n] == [app.main._pagerduty_error]
        assert TOKEN not in status and "not-the-token" not in " ".join(notes(app))


async def test_background_retries_stay_in_the_header(
    console: tuple[OncallApp, Pilot], pagerduty: PagerDutyServer
) -> None:
    app, _ = console
    pagerduty.account.fail("GET", "/incidents", 503, times=2)
    await until(lambda: pagerduty.account.faults[-1].times == 0, what="both 503s to be served")
    polls = len(pagerduty.account.answers)
    await until(lambda: len(pagerduty.account.answers) > polls + 3, what="more polls")
    await until(lambda: "PagerDuty ✓" in str(app.main.status_line.render()), what="the sync to end well")
    assert not [n for n in notes(app) if "retrying" in n or "503" in n]  # a retry that worked is no news


async def test_a_declaration_before_pagerduty_answered_records_no_oncall_rather_than_nobody(
    sim: SimServer, pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    pagerduty.account.fail("GET", "/", 503, times=10_000)  # PagerDuty is down when the console starts
    config = make_config(
        sim.url, data_dir=str(tmp_path / "data"), pagerduty=pd_section(pagerduty), oncall={"provider": "pagerduty"}
    )
    app = oncall_app(config, clock=clock)
    app.services.pagerduty.backoff = 0.01
    async with app.run_test(size=(160, 45)):
        await until(lambda: len(pagerduty.account.requests) >= 2, what="PagerDuty asked, and failing")
        assert app.services.oncall.recorded() is None  # not known: not "nobody"
        incident = await asyncio.to_thread(app.services.desk.declare, "ml-api returns 5xx")
        assert "oncall" not in incident.events[0].data
        pagerduty.account.faults.clear()
        await until(lambda: app.main._pagerduty_ok, what="PagerDuty answering again")
        await until(lambda: bool(app.services.oncall.recorded()), what="the levels loaded")
        later = await asyncio.to_thread(app.services.desk.declare, "checkout latency")
        assert later.events[0].data["oncall"][0]["users"] == ["bob"]  # the rotation's week at the frozen clock


async def test_a_page_to_your_pagerduty_name_is_yours_to_acknowledge(
    sim: SimServer, pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    config = make_config(
        sim.url,
        user={"name": "Dana S.", "email": "dana@example.com"},  # PagerDuty knows her as "dana"
        data_dir=str(tmp_path / "data"),
        pagerduty=pd_section(pagerduty),
        oncall={"provider": "pagerduty"},
        paging={"alertmanager": "prod"},
    )
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: "dana" in app.services.desk.names, what="her PagerDuty name learnt")
        assert {"Dana S.", "dana@example.com"} <= app.services.desk.names
        incident = await asyncio.to_thread(app.services.desk.declare, "ml-api returns 5xx")
        await asyncio.to_thread(app.services.desk.escalate, incident.id, ["dana"], 2)  # level 2, as PagerDuty names it
        app.main.incident_pane.choose(incident.id, "chosen")
        app.main.incident_pane.show()
        await confirm(app, pilot, "a")
        await until(lambda: incident.events[-1].kind == "page.resolved", what="her page ended")
        acked = next(e for e in incident.events if e.kind == "incident.acknowledged")
        assert (acked.actor, acked.summary) == ("Dana S.", "Acknowledged (the level 2 page)")
