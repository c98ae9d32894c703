"""SVG snapshots of each screen state at 160x45, with the clock frozen (review snapshot_report.html)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from textual.widgets import Input

from oncall_tui.core.config import load_config
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.sim.scenario import DEMO_BIN, start_demo
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from tests.conftest import ROOT, SteppedClock, make_config, notes, steps_settled, until
from tests.history_world import a_week_of_history

SIZE = (160, 45)


@pytest.fixture
def demo(clock: SteppedClock) -> Iterator[SimServer]:
    server = start_demo(clock=clock)
    yield server
    server.stop()


def example_oncall() -> dict:
    """The example config's rotation (the guide's weekly one), so the on-call pane has people."""
    _, example = load_config(str(ROOT / "config.yaml"), env={})
    return example.oncall.model_dump()


def demo_app(demo: SimServer, clock: SteppedClock) -> OncallApp:
    return oncall_app(make_config(demo.url, poll_interval="1h", oncall=example_oncall()), clock=clock)


async def first_poll(app: OncallApp) -> None:
    await until(lambda: app.services.board.polls >= 1 and app.main.alert_list.alerts, what="the first poll")
    await runbook_shown(app)


async def runbook_shown(app: OncallApp) -> None:
    """The runbook lookup (a thread) has caught up with the alert cursor."""

    def caught_up() -> bool:
        shown, current = app.main.runbook_pane.alert, app.main.alert_list.current
        return shown is not None and current is not None and shown.fingerprint == current.fingerprint

    await until(caught_up, what="the runbook of the selected alert")


def second_alert_selected(app: OncallApp):
    async def run_before(pilot) -> None:
        await first_poll(app)
        await pilot.press("j")
        await runbook_shown(app)
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare, demo: SimServer, clock: SteppedClock) -> None:
    app = demo_app(demo, clock)
    assert snap_compare(app, terminal_size=SIZE, run_before=second_alert_selected(app))


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_main_screen_narrow(snap_compare, demo: SimServer, clock: SteppedClock, size: tuple[int, int]) -> None:
    """Below 120 columns: the alerts get three fifths of the top, on call sits above the incident."""
    app = demo_app(demo, clock)
    assert snap_compare(app, terminal_size=size, run_before=second_alert_selected(app))


def test_silence_form(snap_compare, demo: SimServer, clock: SteppedClock) -> None:
    app = demo_app(demo, clock)

    async def run_before(pilot) -> None:
        await first_poll(app)
        await pilot.press("s")
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.press(*"rolling back ml-api")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_filtered_and_stale(snap_compare, demo: SimServer, clock: SteppedClock) -> None:
    app = demo_app(demo, clock)

    async def run_before(pilot) -> None:
        await first_poll(app)
        await pilot.press("slash", *"service=~ml-.*", "enter")
        demo.stop()
        app.main.action_refresh_now()
        await until(lambda: app.services.board.status["prod"].stale, what="stale")
        await until(lambda: any("as stale" in n for n in notes(app)), what="its notice, before clearing it")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_with_an_active_incident_at_80x24(
    snap_compare, demo: SimServer, clock: SteppedClock, tmp_path
) -> None:
    test_main_screen_with_an_active_incident(snap_compare, demo, clock, tmp_path, size=(80, 24))


def test_main_screen_with_an_active_incident(
    snap_compare, demo: SimServer, clock: SteppedClock, tmp_path, size: tuple[int, int] = SIZE
) -> None:
    config = make_config(demo.url, poll_interval="1h", data_dir=str(tmp_path / "data"), oncall=example_oncall())
    desk = IncidentDesk(config.data_dir, "alice", clock=clock).load()
    incident = desk.declare("ml-api returns 5xx")
    for seconds, action in [
        (40, lambda: desk.acknowledge(incident.id)),
        (20, lambda: desk.note(incident.id, "TODO: alert on deploys that raise 5xx")),
        (30, lambda: desk.advance_stage(incident.id)),
    ]:
        clock.advance(seconds)
        action()
    app = oncall_app(config, clock=clock)

    async def run_before(pilot) -> None:
        await first_poll(app)
        await until(lambda: getattr(app.main.incident_pane.active(), "id", None) == incident.id, what="the incident")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_runbook_with_a_finished_step(snap_compare, demo: SimServer, clock: SteppedClock, tmp_path) -> None:
    """HighErrorRate's shipped runbook after step 1 ran (the demo's kubectl stand-in)."""
    config = make_config(
        demo.url,
        poll_interval="1h",
        data_dir=str(tmp_path / "data"),
        oncall=example_oncall(),
        runbooks={"dir": str(ROOT / "runbooks"), "path": [str(DEMO_BIN)]},
    )
    app = oncall_app(config, clock=clock, is_demo=True)

    async def run_before(pilot) -> None:
        await first_poll(app)
        await pilot.press("j")
        await runbook_shown(app)
        await pilot.press("r", "enter")
        await steps_settled(app)
        assert app.main.runbook_pane._seen == app.main.runbook_pane.last_run.output.total  # all of its output shown
        await until(lambda: any("Finished step 1" in n for n in notes(app)), what="its notice, before clearing it")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_an_open_group(snap_compare, demo: SimServer, clock: SteppedClock, size: tuple[int, int]) -> None:
    """The demo's two HighLatency alerts: one row, then opened with their alerts under it."""
    app = demo_app(demo, clock)

    async def run_before(pilot) -> None:
        await first_poll(app)
        rows = app.main.alert_list.rows
        await pilot.press("g", *["j"] * next(i for i, r in enumerate(rows) if r.group), "enter")
        await until(lambda: len(app.main.alert_list.rows) == len(rows) + 2, what="the group open")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_the_history_strip(snap_compare, sim: SimServer, clock: SteppedClock, tmp_path, size: tuple[int, int]) -> None:
    """A week of DiskWillFill from the local record: watched two days, then three not, then two;
    it flaps in the last hour. At 80x24 the details are zoomed (z), as one reads them there."""
    asyncio.run(a_week_of_history(sim, clock, tmp_path / "data"))
    app = oncall_app(make_config(sim.url, poll_interval="1h", data_dir=str(tmp_path / "data")), clock=clock)

    async def run_before(pilot) -> None:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await until(lambda: app.services.recorder.written >= 1, what="the console's own first poll recorded")
        await pilot.press("d")
        if size[0] < 120:
            app.main.alert_detail.focus()  # as tab would
            await pilot.press("z")
        await until(lambda: "history · " in str(app.main.alert_detail.body.render()), what="the history")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
