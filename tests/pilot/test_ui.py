"""Pilot tests: the keys of the console, against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from oncall_tui.services import READ_ONLY
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.widgets.alert_detail import AlertDetail
from oncall_tui.ui.widgets.alert_list import AlertList
from tests.conftest import SteppedClock, alert, make_config, notes, until

FIRING = [
    alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api"),
    alert("HighLatency", "warning", service="search"),
    alert("DiskWillFill", "warning", instance="db-1"),
    alert("CertificateExpiresSoon", "info", instance="api"),
]


def shown(app: OncallApp) -> list[str]:
    return [a.name for a in app.query_one(AlertList).alerts]


@pytest.fixture
async def console(sim: SimServer, clock: SteppedClock) -> AsyncIterator[tuple[OncallApp, Pilot]]:
    """The console on the simulator with FIRING loaded, after its first poll."""
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await started(app, pilot, 4)
        yield app, pilot


async def started(app: OncallApp, pilot: Pilot, count: int) -> AlertList:
    alerts = app.query_one(AlertList)
    await until(lambda: len(alerts.alerts) == count, what=f"{count} alerts")
    await pilot.pause()
    return alerts


async def test_select_moves_and_shows_detail(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    detail = app.query_one(AlertDetail)
    assert detail.alert.name == "HighErrorRate"
    await pilot.press("j", "j")  # same start time: by name
    assert detail.alert.name == "HighLatency"
    await pilot.press("k")
    assert detail.alert.name == "DiskWillFill"
    await pilot.press("G")
    assert detail.alert.name == "CertificateExpiresSoon"
    await pilot.press("j")  # stays on the last
    assert detail.alert.name == "CertificateExpiresSoon"
    await pilot.press("g")
    assert "ml-api errors" in str(detail.describe(detail.alert))


async def test_cursor_stays_on_its_alert_across_refreshes(console: tuple[OncallApp, Pilot], sim: SimServer) -> None:
    app, pilot = console
    alerts = app.main.alert_list
    await pilot.press("j", "j")
    assert alerts.current.name == "HighLatency"
    sim.store.post_alerts([alert("NewCritical", "critical")])  # sorts above the cursor
    await until(lambda: len(alerts.alerts) == 5, what="the new alert")
    assert alerts.current.name == "HighLatency"
    [new] = [a for a in alerts.alerts if a.name == "NewCritical"]
    assert app.services.board.is_new(new, 5.0) and not app.services.board.is_new(alerts.current, 5.0)
    assert app.services.board.new_now(5.0) == {new.fingerprint}  # as is_new says, all at once (for groups)
    sim.store.resolve(alerts.current.labels)  # resolved alerts disappear
    await until(lambda: len(alerts.alerts) == 4, what="the resolved alert to disappear")
    assert "HighLatency" not in shown(app)


async def test_filter_by_matchers_and_free_text_then_escape_clears(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("slash", *"severity=warning")
    assert shown(app) == ["DiskWillFill", "HighLatency"]
    await pilot.press(*" db")
    assert shown(app) == ["DiskWillFill"]
    await pilot.press("enter")
    assert app.query_one(AlertList).has_focus
    assert "shown 1 of 4 (filter severity=warning db)" in str(app.query_one("#alerts-title").render())
    await pilot.press("escape")
    assert len(shown(app)) == 4
    await pilot.press("slash", *"service=~ml-.*")
    assert shown(app) == ["HighErrorRate"]


def read_at_once(app: OncallApp, *keys: str) -> None:
    """Keys as one read of the terminal brings them (over SSH, from tmux): all queued before the
    first is handled, as the driver does. A key is a character or a key name (`enter`)."""
    for name in keys:
        character = {"enter": "\r", "escape": "\x1b"}.get(name, name.removeprefix("alt+"))
        key = events.Key(name if len(name) > 1 or name.isalnum() else _character_to_key(name), character)
        key.set_sender(app)
        app._driver.send_message(key)


async def test_keys_in_the_same_burst_as_slash_are_typed_into_the_filter(console: tuple[OncallApp, Pilot]) -> None:
    """Over SSH, or from tmux, `/sev` arrives in one read: the letters after `/` are the filter's,
    never keys of the list (`s` would open the silence form, `e` ask to escalate); and those after
    enter or esc are the list's again, not more of the filter."""
    app, pilot = console
    box, alerts = app.main.alerts.filter_box, app.main.alert_list
    read_at_once(app, *"/severity=warning", "enter", "j")
    await until(lambda: alerts.has_focus, what="the list's again", seen=lambda: (box.value, app.focused))
    await until(lambda: alerts.current.name == "HighLatency", what="j, on the list", seen=lambda: alerts.current)
    assert box.value == "severity=warning" and app.screen is app.main  # no silence form
    assert shown(app) == ["DiskWillFill", "HighLatency"]
    read_at_once(app, "/", *" db", "escape", "k")  # esc clears it; k is the list's: up from HighLatency
    await until(lambda: alerts.has_focus and len(shown(app)) == 4, what="cleared", seen=lambda: box.value)
    await until(lambda: alerts.current.name == "DiskWillFill", what="k, on the list", seen=lambda: alerts.current)
    assert box.value == "" and not box.has_class("-visible")
    read_at_once(app, "/", *"xyz", "alt+j")  # esc j in one read: the terminal sends alt+j
    await until(lambda: alerts.has_focus and len(shown(app)) == 4, what="cleared again", seen=lambda: box.value)
    await until(
        lambda: getattr(alerts.current, "name", None) == "HighLatency",
        what="j, on the list",
        seen=lambda: alerts.current,
    )
    assert box.value == "" and not box.has_class("-visible")
    await pilot.press("k")
    await pilot.press("slash", *"service=search")  # typed one key at a time, then enter and j in one read
    read_at_once(app, "enter", "j")
    await until(lambda: alerts.has_focus, what="the list's again")
    await pilot.pause()
    assert box.value == "service=search" and shown(app) == ["HighLatency"]
    box.focus()  # clicked or tabbed into again (it stays shown while it holds a filter): it types again
    await pilot.pause()
    await pilot.press(*" x")
    assert box.value == "service=search x"


async def test_a_bad_regex_keeps_the_last_confirmed_filter_and_says_why(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("slash", *"severity=warning", "enter")  # confirmed
    assert shown(app) == ["DiskWillFill", "HighLatency"]
    await pilot.press("slash", "ctrl+u", *"service=~ml-.*")  # typed, not confirmed: shown as typed
    assert shown(app) == ["HighErrorRate"]
    box = app.query_one("#filter")
    box.value = "service=~ml-.*("  # one key too far: what was confirmed shows, not the partial one
    await pilot.pause()
    assert box.has_class("-unreadable") and "bad regex" in str(box.border_subtitle)
    assert shown(app) == ["DiskWillFill", "HighLatency"]
    assert "shown 2 of 4 (filter severity=warning)" in str(app.main.alerts.title.render())  # what is in force
    await pilot.press("enter")
    assert box.has_focus and any(n.startswith("Not applied: ") and "bad regex" in n for n in notes(app))
    assert any("Still showing: severity=warning." in n for n in notes(app))


async def test_silence_form_requires_a_comment_then_creates(
    console: tuple[OncallApp, Pilot], sim: SimServer, clock: SteppedClock
) -> None:
    app, pilot = console
    await pilot.press("j", "s")
    form = app.screen
    assert isinstance(form, SilenceForm)
    assert form.query_one("#silence-matchers").value == 'alertname="DiskWillFill", instance="db-1", severity="warning"'
    await pilot.press(
        "shift+tab", "shift+tab", "shift+tab", "x", "backspace"
    )  # to the matchers: a key types, never replaces
    assert form.query_one("#silence-matchers").has_focus
    assert form.query_one("#silence-matchers").value == 'alertname="DiskWillFill", instance="db-1", severity="warning"'
    form.query_one("#silence-comment").focus()
    assert form.query_one("#silence-duration").value == "1h"
    assert form.query_one("#silence-author").value == "alice"
    await pilot.press("ctrl+s")
    assert app.screen is form  # refused: no comment
    assert "comment: say why" in str(form.query_one("#silence-error").render())
    assert "Silences 1 alert(s) firing now" in str(form.query_one("#silence-preview").render())
    form.query_one("#silence-matchers").value = 'service="unclosed'
    await pilot.pause()
    await pilot.press("ctrl+s")  # refused: the preview says why, and it is said once
    preview = form.query_one("#silence-preview")
    assert app.screen is form and str(preview.render()).startswith("matchers: ")
    assert not form.query_one("#silence-error").display  # not a second line saying the same
    form.query_one("#silence-matchers").value = "service=~search|ml-api"
    form.query_one("#silence-duration").value = "2h"
    await pilot.pause()
    preview = str(form.query_one("#silence-preview").render())
    assert "Silences 2 alert(s) firing now" in preview and preview.endswith(
        '. Matchers: service=~"search|ml-api"'
    )  # whole
    await pilot.press(*"rollout", "enter")
    await until(lambda: app.main.alerts.created_silences, what="the silence")
    [silence] = sim.store.get_silences()
    assert silence["comment"] == "rollout" and silence["createdBy"] == "alice"
    assert silence["matchers"] == [{"name": "service", "value": "search|ml-api", "isRegex": True, "isEqual": True}]
    assert silence["endsAt"] == "2026-11-27T16:32:05.000Z"  # 2h from the frozen clock
    await until(lambda: app.services.board.counts()["silenced"] == 2, what="both alerts silenced")


async def test_silence_form_cancel_sends_nothing(console: tuple[OncallApp, Pilot], sim: SimServer) -> None:
    app, pilot = console
    await pilot.press("s", *"x", "escape")
    assert not isinstance(app.screen, SilenceForm)
    assert sim.store.get_silences() == []


async def test_a_refused_silence_is_one_line_and_the_console_keeps_running(
    console: tuple[OncallApp, Pilot], sim: SimServer
) -> None:
    app, pilot = console
    await pilot.press("s")
    app.screen.query_one("#silence-duration").value = "1h"
    sim.stop()  # the Alertmanager goes away while the form is open
    await pilot.press(*"x", "enter")
    await until(lambda: any("Silence not created" in n for n in notes(app)), what="the error")
    [line] = [n for n in notes(app) if "Silence not created" in n]
    assert "\n" not in line and "prod: unreachable" in line
    await pilot.press("j")  # still alive
    assert app.query_one(AlertList).current.name == "DiskWillFill"


async def test_read_only_refuses_every_write(sim: SimServer, clock: SteppedClock) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url), read_only=True, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await started(app, pilot, 4)
        await pilot.pause()  # the key bar is fitted after its refresh
        offered = {k.key for k in app.main.footer.query(FooterKey) if k.display}
        assert {"q", "question_mark", "slash", "z"} <= offered  # what reads is offered; what writes is not:
        assert not offered & {"i", "a", "e", "n", "R", "s", "r"}, offered
        await pilot.press("s")  # pressed anyway, it says why it does nothing
        assert not isinstance(app.screen, SilenceForm)
        assert notes(app) == [READ_ONLY]
        assert "READ-ONLY" in str(app.query_one("#status").render())
        sim.store.post_silence(
            {
                "matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
                "startsAt": clock.now.isoformat(),
                "endsAt": "2026-11-28T00:00:00Z",
                "createdBy": "bob",
                "comment": "c",
            }
        )
        await pilot.press("S")
        await until(lambda: isinstance(app.screen, SilencesScreen) and app.screen.silences, what="silences")
        await pilot.pause()
        offered = {k.key for k in app.screen.query(FooterKey) if k.display}
        assert "r" in offered and not offered & {"x", "e"}, offered  # nor here
        assert "x expire" not in str(app.screen.query_one("#silences-title").render())
        await pilot.press("x", "e")
        await pilot.pause()
        assert isinstance(app.screen, SilencesScreen)  # no confirmation, no form
        assert notes(app).count(READ_ONLY) == 3
        assert sim.store.get_silences()[0]["status"]["state"] == "active"


async def test_help_lists_keys_with_their_ids_and_keymap_remaps(sim: SimServer, clock: SteppedClock) -> None:
    config = make_config(sim.url, keymap={"silence": "ctrl+o", "runbook.kill": "ctrl+k"})  # an old id, too
    sim.store.post_alerts(FIRING)
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await started(app, pilot, 4)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert {"silence", "silences", "filter", "quit", "alerts.down"} <= set(app.screen.keys)
        assert app.screen.keys["alerts.down"] == (["down", "j"], "Down")
        assert app.screen.keys["silence"] == (["ctrl+o"], "Silence")  # the remapped key
        assert app.screen.keys["kill_step"][0] == ["ctrl+k"] and app.screen.keys["steps.up"][0] == ["k"]
        assert app.screen.keys["help.close"][0] == ["escape", "q", "?"]  # how to close it, too
        assert app.screen.query("#help-filter")  # and the filter's syntax
        await pilot.press("escape", "ctrl+o")
        assert isinstance(app.screen, SilenceForm)
        await pilot.press("escape", "S", "question_mark")  # from the silences screen: its keys
        assert isinstance(app.screen, HelpScreen)
        assert {"silences.edit", "help.close"} <= set(app.screen.keys)
        assert not app.screen.query("#help-filter")  # the silences screen has no filter to explain


async def test_stale_source_is_shown_with_since_and_reason(console: tuple[OncallApp, Pilot], sim: SimServer) -> None:
    app, _ = console
    alerts = app.main.alert_list
    sim.stop()
    # the board goes stale inside the poll; the screen shows it once the poll has drawn it
    await until(lambda: alerts.alerts and all(a.stale for a in alerts.alerts), what="the list to show it stale")
    status = str(app.query_one("#status").render())
    assert "AM prod ✗ stale since 14:32:05 UTC: unreachable" in status
    assert len(alerts.alerts) == 4
    assert "stale 4" in str(app.query_one("#alerts-title").render())
    await until(lambda: any("showing its last known alerts as stale" in n for n in notes(app)), what="the notice")


async def test_edit_a_silence_keeps_the_new_id_the_server_returns(sim: SimServer, clock: SteppedClock) -> None:
    sim.store.post_alerts(FIRING)
    first = sim.store.post_silence(
        {
            "matchers": [{"name": "alertname", "value": "HighLatency", "isRegex": False}],
            "startsAt": clock.now.isoformat(),
            "endsAt": "2026-11-27T15:32:05Z",
            "createdBy": "bob",
            "comment": "search deploy",
        }
    )
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await started(app, pilot, 4)
        await pilot.press("S")
        await until(lambda: isinstance(app.screen, SilencesScreen) and app.screen.silences, what="silences")
        await pilot.press("s", "slash")  # the alert keys do nothing over the silences screen
        assert isinstance(app.screen, SilencesScreen)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, SilenceForm) and form.silence_id == first
        assert form.query_one("#silence-matchers").value == 'alertname="HighLatency"'
        assert form.query_one("#silence-duration").value == "1h"  # what is left of it
        assert form.query_one("#silence-comment").value == "search deploy"
        form.query_one("#silence-matchers").value = 'alertname=~"HighLatency|DiskWillFill"'
        await pilot.press("ctrl+s")
        await until(lambda: app.main.alerts.created_silences, what="the edited silence")
        [(_, second)] = app.main.alerts.created_silences
        assert second != first
        states = {s["id"]: s["status"]["state"] for s in sim.store.get_silences()}
        assert states == {first: "expired", second: "active"}
        await until(lambda: any(f"Silence created: {second} on prod" in n for n in notes(app)), what="the notice")
        await until(lambda: [s.id for s in app.screen.silences][:1] == [second], what="the list to reload")


async def test_a_misbehaving_source_is_one_line_in_the_header(clock: SteppedClock) -> None:
    from tests.misbehaving import Misbehaving

    broken = Misbehaving()
    broken.mode = "not-json"
    try:
        app = oncall_app(make_config(broken.url), clock=clock)
        async with app.run_test(size=(160, 45)) as pilot:
            # the board goes stale inside the poll; the header shows it once the poll has drawn it
            await until(lambda: "✗" in str(app.main.status_line.render()), what="the error in the header")
            # it never answered: "no data", and no count of alerts that could read as an all-clear
            assert "AM prod ✗ no data: response from /api/v2/alerts is not JSON" in str(app.main.status_line.render())
            await until(lambda: "no data" in str(app.main.alerts.title.render()), what="the alerts title")
            assert "firing" not in str(app.main.alerts.title.render())
            broken.mode = "status:502"
            await until(lambda: "HTTP 502" in (app.services.board.status["prod"].error or ""), what="the next error")
            await pilot.press("j", "slash")  # still answering keys
            assert app.main.alerts.filter_box.has_focus
    finally:
        broken.close()


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 30), (160, 45)])
async def test_the_key_bar_shows_whole_keys_only_and_always_quit_and_help(
    sim: SimServer, clock: SteppedClock, size: tuple[int, int]
) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alerts")
        await pilot.pause()
        bar = app.main.footer
        shown = [key for key in bar.query(FooterKey) if key.display]
        keys = [k for k in shown if not k.has_class("-command-palette")]
        assert keys[0].key_display == "q" and keys[-1].key_display == "?"  # ends with ? Help, at every width
        assert [k.region.x for k in keys] == sorted(k.region.x for k in keys)  # drawn in that order
        for key in shown:  # none cut: a key ends before the bar does, and before the palette's key
            assert key.region.right <= bar.region.right and key.region.width > 0, key.key_display
        palette = [k for k in shown if k.has_class("-command-palette")]
        if palette:
            assert keys[-1].region.right <= palette[0].region.x
        if size[0] >= 160:
            assert "S" in [k.key_display for k in keys]  # room for every key


async def test_while_a_filter_is_typed_the_key_bar_offers_only_the_keys_that_are_not_text(
    sim: SimServer, clock: SteppedClock
) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alerts")
        await pilot.press("slash", *"crit")
        await pilot.pause()
        shown = [k.description for k in app.main.footer.query(FooterKey) if k.display]
        assert shown == ["Keep filter", "Clear filter"]  # not "/ Filter", which would type a /
        await pilot.press("enter")
        await pilot.pause()
        shown = [k.description for k in app.main.footer.query(FooterKey) if k.display]
        assert "Quit" in shown and "Keep filter" not in shown  # the letter keys are keys again


async def test_z_zooms_the_focused_pane_to_the_screen_and_back(sim: SimServer, clock: SteppedClock) -> None:
    """At 80×24 the runbook pane has six lines: zoomed, it has the screen but the header and keys."""
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alerts")
        await pilot.press("tab", "tab")  # the incident pane, then the runbook
        await pilot.pause()
        assert app.main.runbook_pane.has_focus_within and app.main.runbook_pane.region.height < 12
        await pilot.press("z")
        await pilot.pause()
        pane, status = app.main.runbook_pane, app.main.status_line
        assert (
            (pane.region.width, pane.region.height) == (80, 22) and status.region.y == 0 and status.region.height == 1
        )
        assert not app.main.alerts.region  # the others are out of the way
        await pilot.press("z")
        await pilot.pause()
        assert app.main.runbook_pane.region.height < 12 and app.main.alerts.region.height > 0
        await pilot.press("z", "escape")  # esc also goes back
        await pilot.pause()
        assert app.main.maximized is None and app.main.alerts.region.height > 0
        await pilot.press("z", "d")  # the details take the runbook's place: the zoom goes with them
        await pilot.pause()
        assert app.main.maximized is app.main.alert_detail and app.main.alert_detail.region.height == 22
        await pilot.press("d", "z")
        await pilot.pause()
        app.main.alert_list.focus()
        await pilot.press("z", "slash", *"crit", "escape")  # esc clears the filter first, zoomed
        await pilot.pause()
        assert app.main.maximized is app.main.alerts and not app.main.alerts.filtering
        await pilot.press("escape")  # then goes back
        await pilot.pause()
        assert app.main.maximized is None
