"""What the panes tell each other: the messages they post, heard with `message_hook`, and
what each pane draws from them. Some panes are mounted alone (the harness), some in the
console, where the main screen passes their news on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot

from oncall_tui.core.alerts.models import Alert
from oncall_tui.services import build_services
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.messages import AlertSelected, AlertsPolled, IncidentShown
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.widgets.alerts_pane import AlertsPane
from oncall_tui.ui.widgets.incident_pane import IncidentPane
from tests.conftest import FROZEN, SteppedClock, alert, make_config, until
from tests.pilot.harness import PaneHarness, posted

FIRING = [
    alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api"),
    alert("DiskWillFill", "warning", instance="db-1"),
    alert("HighLatency", "warning", service="search"),
]


@asynccontextmanager
async def console(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> AsyncIterator[tuple[OncallApp, Pilot, list]]:
    """The console on FIRING, every message it handles kept in order in the third value."""
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    heard: list = []
    async with app.run_test(size=(160, 45), message_hook=heard.append) as pilot:
        yield app, pilot, heard


def selections(messages: list) -> list[tuple[str | None, bool]]:
    return [(m.alert.name if m.alert else None, m.by_user) for m in posted(messages, AlertSelected)]


async def test_the_alerts_pane_alone_says_what_it_polled_and_who_moved_the_selection(
    sim: SimServer, clock: SteppedClock
) -> None:
    sim.store.post_alerts(FIRING)
    pane = AlertsPane(build_services(make_config(sim.url), clock=clock))
    harness = PaneHarness(pane)
    async with harness.run_test(size=(100, 20), message_hook=harness.heard) as pilot:
        pane.list.focus()
        pane.poll()
        await until(lambda: harness.posted(AlertsPolled), what="the first poll")
        await pilot.pause()
        assert selections(harness.messages) == [("HighErrorRate", False)]  # the first poll put it there
        assert "firing 3 ·" in str(pane.title.render())
        await pilot.press("j")
        assert selections(harness.messages)[-1] == ("DiskWillFill", True)
        sim.store.resolve(FIRING[1]["labels"])  # the alert under the cursor goes: not the user's move
        await until(lambda: len(selections(harness.messages)) == 3, what="the selection to move")
        assert selections(harness.messages)[-1] == ("HighLatency", False)
        polls = len(harness.posted(AlertsPolled))
        await until(lambda: len(harness.posted(AlertsPolled)) > polls, what="another poll")
        assert len(selections(harness.messages)) == 3  # a poll that changes nothing selects nothing anew
    assert AlertsPolled().can_replace(AlertsPolled())  # a slow screen takes the latest, not each


def linked(fingerprint: str, name: str) -> Alert:
    labels = {"alertname": name, "severity": "critical", "service": fingerprint}
    return Alert(fingerprint, labels, {}, FROZEN - timedelta(minutes=5), None, "", "active", sources=("prod",))


async def test_the_incident_pane_alone_follows_the_alert_it_is_told_of_and_says_why(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    services = build_services(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    desk = services.desk.load()
    first, second, unlinked = linked("fp-a", "QueueBacklog"), linked("fp-b", "HighErrorRate"), linked("fp-c", "Other")
    older = desk.declare("the queue", [first], severity="SEV-1")
    clock.advance(60)
    newer = desk.declare("the errors", [second], severity="SEV-1")
    desk.acknowledge(older.id)  # the newer, not yet acknowledged, is the more urgent
    pane = IncidentPane(services)
    harness = PaneHarness(pane)

    def drawn() -> tuple[str | None, str]:
        shown = harness.posted(IncidentShown)[-1].incident
        return (shown.id if shown else None), str(pane.render())

    async with harness.run_test(size=(100, 20), message_hook=harness.heard) as pilot:
        await until(lambda: harness.posted(IncidentShown), what="the pane to draw")
        assert drawn()[0] == newer.id and "(the most urgent open · 2 of 2 open" in drawn()[1]
        pane.follow(first, by_user=True)
        await pilot.pause()
        assert drawn()[0] == older.id and "(the selected alert's · 1 of 2 open" in drawn()[1]
        pane.next_incident()  # I
        await pilot.pause()
        assert drawn()[0] == newer.id and "(chosen with I ·" in drawn()[1]
        pane.follow(unlinked, by_user=False)  # a refresh took the alert away: the choice holds
        pane.follow(first, by_user=False)
        await pilot.pause()
        assert drawn()[0] == newer.id and "(chosen with I ·" in drawn()[1]
        pane.follow(first, by_user=True)  # the user moved the cursor: the incident follows it
        await pilot.pause()
        assert drawn()[0] == older.id and "(the selected alert's ·" in drawn()[1]
        shown = len(harness.posted(IncidentShown))
        pane.show()  # nothing changed: the timeline is not told again
        await pilot.pause()
        assert len(harness.posted(IncidentShown)) == shown


async def test_a_choice_made_with_shift_i_survives_a_refresh_that_moves_the_cursor(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    async with console(sim, clock, tmp_path) as (app, pilot, heard):
        pane = app.main.incident_pane
        await until(lambda: len(app.main.alert_list.alerts) == 3, what="the alerts")
        for key in ("", "j"):  # an incident on HighErrorRate, then one on DiskWillFill
            await pilot.press(*key, "i", "enter")
            await until(lambda: not pane.pending and pane.drawn, what="the declaration")
        first, second = (i.id for i in app.services.desk.open_incidents())
        assert pane.drawn == second
        await pilot.press("I")
        assert pane.drawn == first and "(chosen with I ·" in str(pane.render())
        sim.store.resolve(FIRING[1]["labels"])  # DiskWillFill: the cursor goes to HighLatency
        await until(lambda: selections(heard)[-1] == ("HighLatency", False), what="the refresh to move the cursor")
        await pilot.pause()
        assert pane.drawn == first and "(chosen with I ·" in str(pane.render())
        await pilot.press("I")  # the second now, whose alert is gone
        assert pane.drawn == second and "(chosen with I ·" in str(pane.render())
        shown = list(app.main.alert_list.alerts)
        app.main.alert_list.show([a for a in shown if a is not app.main.alert_list.current])  # a refresh moves the
        assert app.main.alert_list.current != pane.selected  # cursor to the first's alert; n comes before the news
        app.main.action_note()
        assert isinstance(app.screen, TextPrompt) and app.screen.title_text == f"Note · {second}"  # the choice held
        await pilot.press("escape")
        await until(lambda: len(app.main.alert_list.alerts) == len(shown), what="the next poll")
        await pilot.press("j", "k")  # the user's move: the incident follows the alert again
        assert selections(heard)[-1] == ("HighErrorRate", True)
        assert pane.drawn == first and "(the selected alert's ·" in str(pane.render())
        assert app.main.alert_detail.alert.name == "HighErrorRate"
        # two moves within SETTLE: the runbook is looked for once the cursor rests
        await until(lambda: app.main.runbook_pane.alert.name == "HighErrorRate", what="the runbook to follow")


async def test_a_filter_that_moves_the_cursor_tells_every_pane(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    """The list is shown again from the pane's own handler: its AlertSelected must still reach
    the screen, or the detail, runbook and incident panes keep the alert the filter hid."""
    async with console(sim, clock, tmp_path) as (app, pilot, heard):
        await until(lambda: len(app.main.alert_list.alerts) == 3, what="the alerts")
        await pilot.press("/", *"service=search", "enter")
        await until(lambda: getattr(app.main.alert_detail.alert, "name", None) == "HighLatency", what="the detail")
        assert app.main.incident_pane.selected.name == "HighLatency"
        await until(lambda: app.main.runbook_pane.alert.name == "HighLatency", what="the runbook (found in a thread)")
        assert selections(heard)[-1] == ("HighLatency", True)  # the user's filter: a choice made with I lets go
        await pilot.press("escape")  # cleared: the cursor moves back, and the panes with it
        await until(lambda: app.main.alert_detail.alert.name == app.main.alert_list.current.name, what="the detail")
        await until(lambda: app.main.runbook_pane.alert.name == app.main.alert_list.current.name, what="the runbook")


async def test_the_alert_under_the_cursor_changing_is_news_to_every_pane(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    """Same labels, new annotations: the same alert, changed. The panes must not keep the old one."""
    async with console(sim, clock, tmp_path) as (app, pilot, heard):
        await until(lambda: len(app.main.alert_list.alerts) == 3, what="the alerts")
        await pilot.pause()
        before = len(selections(heard))
        changed = alert("HighErrorRate", "critical", {"summary": "ml-api errors, now 40%"}, service="ml-api")
        sim.store.post_alerts([changed])
        await until(lambda: len(selections(heard)) > before, what="the changed alert's news")
        assert selections(heard)[-1] == ("HighErrorRate", False)  # the poll's doing, not the user's
        # heard as the list dispatches it: the screen's handler may not have run yet
        await until(
            lambda: app.main.alert_detail.alert.annotations["summary"] == "ml-api errors, now 40%",
            what="the detail's alert",
        )
        await pilot.press("d")  # behind the runbook, it is drawn once it shows: the new one
        await until(lambda: "now 40%" in str(app.main.alert_detail.body.render()), what="the detail")
        assert app.main.runbook_pane.alert.annotations["summary"] == "ml-api errors, now 40%"
        assert app.main.incident_pane.selected.annotations["summary"] == "ml-api errors, now 40%"
        polls = len(posted(heard, AlertsPolled))
        await until(lambda: len(posted(heard, AlertsPolled)) > polls + 1, what="two more polls")
        assert selections(heard)[-1] == ("HighErrorRate", False) and len(selections(heard)) == before + 1
