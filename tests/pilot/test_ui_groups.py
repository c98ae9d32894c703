"""The alerts pane in groups: one row a group, opened and closed from the keyboard, the
cursor on its group across refreshes, the filter inside, silence and declare on a group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.pilot import Pilot

from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.widgets.alert_list import AlertList
from tests.conftest import SteppedClock, alert, make_config, until

ERRORS = [alert("HighErrorRate", "critical", service=s, pod=f"p{i}") for i, s in enumerate(["ml-api"] * 3 + ["search"])]
DISK = alert("DiskWillFill", "warning", instance="db-1")


def row_text(app: OncallApp, row: int) -> str:
    return "".join(segment.text for segment in app.main.alert_list.render_line(row))


@pytest.fixture
async def console(sim: SimServer, clock: SteppedClock, tmp_path) -> tuple[OncallApp, Pilot]:
    sim.store.post_alerts([*ERRORS, DISK])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: len(app.main.alert_list.alerts) == 5, what="the alerts")
        await pilot.pause()
        yield app, pilot


async def test_a_group_is_one_row_that_opens_and_closes_and_keeps_the_cursor(
    console: tuple[OncallApp, Pilot], sim: SimServer
) -> None:
    app, pilot = console
    alerts = app.main.alert_list
    assert len(alerts.rows) == 2
    first = row_text(app, 0)
    assert first.startswith(" ▸ crit HighErrorRate") and "ml-api 3, search 1" in first
    assert first.rstrip().endswith("4 active")  # the count where nothing cuts it
    await pilot.press("enter")
    assert len(alerts.rows) == 6 and row_text(app, 0).startswith(" ▾ crit HighErrorRate")
    assert row_text(app, 1).startswith(" ● crit   · ml-api p")  # its alerts, under it, told apart by their labels
    await pilot.press("j", "j")
    assert alerts.current.labels["pod"] in {"p0", "p1", "p2", "p3"} and alerts.current_group is not None
    await pilot.press("h")  # from one of its alerts: the group closes, the cursor on its row
    assert len(alerts.rows) == 2 and alerts.cursor == 0 and alerts.group_row is not None
    await pilot.press("j")
    assert alerts.current.name == "DiskWillFill"
    sim.store.post_alerts([alert("HighErrorRate", "critical", service="ml-api", pod="p9")])  # joins the group
    await until(lambda: row_text(app, 0).rstrip().endswith("5 active"), what="the count to follow")
    assert alerts.current.name == "DiskWillFill"  # the cursor stayed on its alert
    assert alerts.grouped(alerts.alerts)[1] == {(("alertname", "HighErrorRate"),)}  # holds a new one: drawn so
    await pilot.press("k")
    polls = app.services.board.polls
    await until(lambda: app.services.board.polls > polls + 1, what="two polls")
    assert alerts.group_row is not None and alerts.group_row.name == "HighErrorRate"  # and on its group


async def test_the_filter_applies_inside_groups_and_the_counts_follow(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("slash", *"service=ml-api", "enter")
    await until(lambda: len(app.main.alert_list.alerts) == 3, what="the filter")
    assert row_text(app, 0).rstrip().endswith(" 3 active") and len(app.main.alert_list.rows) == 1
    assert "shown 3 of 5" in str(app.main.alerts.title.render())


async def test_ctrl_g_shows_a_row_per_alert_and_back(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("ctrl+g")
    assert len(app.main.alert_list.rows) == 5 and row_text(app, 0).startswith(" ● crit HighErrorRate")
    await pilot.press("ctrl+g")
    assert len(app.main.alert_list.rows) == 2


async def test_a_group_with_some_silenced_says_how_many_still_fire_unmuted(
    console: tuple[OncallApp, Pilot], sim: SimServer, clock: SteppedClock
) -> None:
    app, pilot = console
    await pilot.press("enter", "j", "s")  # silence one of its alerts alone: its own labels
    form = app.screen
    assert isinstance(form, SilenceForm) and 'pod="p' in form.query_one("#silence-matchers").value
    await pilot.press(*"one pod", "enter")
    await until(lambda: "1 silenced · ml-api" in row_text(app, 0), what="the group's count")
    assert row_text(app, 0).rstrip().endswith("3/4 active")  # not "4 active", which is not true of all


async def test_s_on_a_group_silences_what_its_alerts_share_and_says_how_many(
    console: tuple[OncallApp, Pilot], sim: SimServer
) -> None:
    app, pilot = console
    await pilot.press("s")
    form = app.screen
    assert isinstance(form, SilenceForm)
    assert form.query_one("#silence-matchers").value == 'alertname="HighErrorRate", severity="critical"'
    assert "Silences 4 alert(s) firing now" in str(form.query_one("#silence-preview").render())
    await pilot.press(*"rollout", "enter")
    await until(lambda: sim.store.get_silences(), what="the silence")
    [silence] = sim.store.get_silences()
    assert {m["name"]: m["value"] for m in silence["matchers"]} == {
        "alertname": "HighErrorRate",
        "severity": "critical",
    }
    await until(lambda: row_text(app, 0).rstrip().endswith("4 silenced"), what="the whole group silenced")


async def test_i_on_a_group_declares_one_incident_for_all_its_alerts(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("i")
    assert isinstance(app.screen, TextPrompt)
    await pilot.press("enter")
    await until(lambda: app.services.desk.open_incidents(), what="the incident")
    [incident] = app.services.desk.open_incidents()
    assert len(incident.alerts) == 4


async def test_space_on_a_group_marks_all_its_alerts(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("space")
    alerts = app.main.alert_list
    assert len(alerts.marked) == 4 and row_text(app, 0).startswith("✚")
    assert alerts.current.name == "DiskWillFill"  # and moved on, as on an alert


async def test_a_group_forming_around_the_alert_under_the_cursor_keeps_it_there(
    console: tuple[OncallApp, Pilot], sim: SimServer
) -> None:
    app, pilot = console
    alerts = app.main.alert_list
    await pilot.press("j")  # DiskWillFill, alone
    assert alerts.current.name == "DiskWillFill" and alerts.group_row is None
    heard = alerts.current
    sim.store.post_alerts([alert("DiskWillFill", "warning", instance="db-2")])  # now a group of two
    await until(lambda: len(alerts.alerts) == 6, what="the second disk")
    await pilot.pause()
    assert alerts.current is not None and alerts.current.fingerprint == heard.fingerprint  # still on it
    assert alerts.current_group is not None and alerts.current_group.name == "DiskWillFill"  # inside its group


@asynccontextmanager
async def twenty_rows(
    sim: SimServer, clock: SteppedClock, tmp_path
) -> AsyncIterator[tuple[OncallApp, Pilot, AlertList]]:
    """The console at 80x24 with 20 alerts, more than the list shows."""
    sim.store.post_alerts([alert(f"Disk{n:02d}", "warning", instance=f"db-{n}") for n in range(20)])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        rows = app.main.alert_list
        await until(lambda: len(rows.alerts) == 20, what="the alerts")
        yield app, pilot, rows


async def test_the_cursor_stays_in_view_when_alerts_come_above_it(
    sim: SimServer, clock: SteppedClock, tmp_path
) -> None:
    """On the last row shown, three new alerts sorting above it: its row is still on the screen."""
    async with twenty_rows(sim, clock, tmp_path) as (_app, pilot, rows):
        await pilot.pause()  # laid out
        await pilot.press("G")
        selected = rows.current

        def last_shown() -> int:
            return rows.scroll_offset.y + rows.scrollable_content_region.height - 1

        await until(
            lambda: last_shown() == 19,
            what="the last row shown",
            seen=lambda: (
                rows.scroll_offset,
                rows.scrollable_content_region,
                rows.virtual_size,
                rows.max_scroll_y,
                rows.cursor,
            ),
        )  # (it scrolls on a refresh)
        sim.store.post_alerts([alert(f"Error{n}", "critical", service=f"s{n}") for n in range(3)])
        await until(lambda: len(rows.alerts) == 23, what="the new alerts")
        assert rows.current.fingerprint == selected.fingerprint and rows.cursor == 22
        in_view = lambda: rows.scroll_offset.y <= rows.cursor <= last_shown()  # noqa: E731
        await until(in_view, timeout=5, what="its row in view", seen=lambda: rows.scroll_offset)


async def test_a_list_scrolled_away_from_the_cursor_stays_where_it_was_scrolled(
    sim: SimServer, clock: SteppedClock, tmp_path
) -> None:
    """Scrolled with the mouse wheel, the list is not brought back to the cursor at each poll."""
    async with twenty_rows(sim, clock, tmp_path) as (app, pilot, rows):
        await pilot.pause()  # laid out: it can be scrolled
        rows.scroll_to(y=6, animate=False, immediate=True)  # as the wheel does: the cursor's row out of view
        await until(lambda: rows.scroll_offset.y == 6, what="scrolled")
        sim.store.post_alerts([alert("Note", "info")])
        await until(lambda: len(rows.alerts) == 21, what="the new alert")
        polls = app.services.board.polls
        await until(lambda: app.services.board.polls > polls + 1, what="two more polls")
        await pilot.pause()
        assert rows.cursor == 0 and rows.scroll_offset.y == 6


async def test_the_cursor_stays_in_view_when_the_list_gets_shorter(
    sim: SimServer, clock: SteppedClock, tmp_path
) -> None:
    """On the last row shown, the filter box opens below the list (at 80x24, 3 rows of it)."""
    async with twenty_rows(sim, clock, tmp_path) as (_app, pilot, rows):
        await pilot.pause()
        await pilot.press(*"j" * (rows.scrollable_content_region.height - 1))  # the last row shown
        shown = rows.cursor
        assert shown == rows.scrollable_content_region.height - 1 and rows.scroll_offset.y == 0
        await pilot.press("slash")
        await until(lambda: rows.scrollable_content_region.height < shown + 1, what="the list shorter")
        await until(
            lambda: rows.scroll_offset.y <= shown < rows.scroll_offset.y + rows.scrollable_content_region.height,
            timeout=5,
            what="its row in view",
            seen=lambda: (rows.cursor, rows.scroll_offset, rows.scrollable_content_region, rows.size),
        )
