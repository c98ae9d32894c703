"""Hostile label and annotation values render as plain text: no markup, no escapes, no crash."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.core.alerts.models import Alert
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.widgets.alert_detail import AlertDetail
from oncall_tui.ui.widgets.alert_list import AlertList
from tests.conftest import SteppedClock, alert, make_config, until

MARKUP = "[bold red]x[/]"
HOSTILE = {
    "markup": MARKUP,
    "lone": "[",
    "link": "[link=http://evil]click[/link]",
    "csi": "\x1b[2J\x1b[31mred",
    "osc": "\x1b]0;pwned\x07title",
    "long": "L" * 5000,
    "unicode": "café 日本語 🚨 \u202eevil",
}


def line_text(app: OncallApp, row: int) -> str:
    strip = app.query_one(AlertList).render_line(row)
    return "".join(segment.text for segment in strip)


def assert_plain(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text


async def test_hostile_values_render_as_plain_text(sim: SimServer, clock: SteppedClock) -> None:
    sim.store.post_alerts(
        [
            alert(MARKUP, "critical", dict(HOSTILE), service=MARKUP, instance="\x1b]0;pwned\x07", pod="["),
            alert("Long", "[warning", {"description": "D" * 100_000}, job="J" * 5000),
        ]
    )
    app = oncall_app(make_config(sim.url, alerts={"labels": ["service", "instance", "pod", "job"]}), clock=clock)
    async with app.run_test(size=(220, 40)) as pilot:
        alerts = app.query_one(AlertList)
        await until(lambda: len(alerts.alerts) == 2, what="both alerts")
        await pilot.pause()
        first = line_text(app, 0)
        assert MARKUP in first and " [ " in first
        assert_plain(first)
        assert len(first) == alerts.scrollable_content_region.width  # long values never wrap the line
        second = line_text(app, 1)
        assert second.startswith(" ● [wa… Long") and second.rstrip().endswith("active")
        detail = app.query_one(AlertDetail)
        text = detail.describe(alerts.alerts[0]).plain
        for value in ("[link=http://evil]click[/link]", MARKUP, "café 日本語 🚨"):
            assert value in text
        assert_plain(text)
        await pilot.press("j")
        assert len(detail.describe(alerts.alerts[1]).plain) < 10_000  # a 100 kB description is cut
        await pilot.press("k", "s")  # the silence form shows the hostile values, and round-trips them
        form = app.screen
        assert isinstance(form, SilenceForm)
        await pilot.press(*"c", "enter")
        await until(lambda: app.main.alerts.created_silences, what="the silence")
        [silence] = sim.store.get_silences()
        assert {m["name"]: m["value"] for m in silence["matchers"]}["service"] == MARKUP
        await until(lambda: alerts.alerts[0].state == "silenced", what="silenced")
        assert "⟨ESC⟩]0;pwned⟨U+0007⟩" in app.export_screenshot()  # the OSC title sequence is shown, not acted on


async def test_the_silence_form_says_when_its_matchers_hold_invisible_characters(
    sim: SimServer, clock: SteppedClock
) -> None:
    sim.store.post_alerts([alert("HighErrorRate", "critical", service="ml\u200b-api")])  # looks like ml-api
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SilenceForm)
        await pilot.pause()
        dialog, matchers = form.query_one("#silence-dialog"), form.query_one("#silence-matchers")
        assert dialog.scroll_y == 0 and dialog.max_scroll_y == 0  # at 80×24 all of it in view, matchers first
        assert dialog.region.contains_region(matchers.region) and matchers.region.height == 1
        assert dialog.region.contains_region(form.query_one("#silence-submit").region)
        preview = str(form.query_one("#silence-preview").render())
        assert (
            "Silences 1 alert(s)" in preview
            and "invisible characters, kept as the labels have them: ⟨U+200B⟩" in preview
        )
        form.query_one("#silence-matchers").value = 'service="ml-api"'  # retyped by hand: another value
        await pilot.pause()
        preview = str(form.query_one("#silence-preview").render())
        assert "Silences 0 alert(s)" in preview and "invisible" not in preview


async def test_an_empty_label_set_renders(sim: SimServer, clock: SteppedClock) -> None:
    empty = Alert("fp", {}, {}, datetime(2026, 1, 1, tzinfo=UTC), None, "", "active")
    assert empty.name == "" and empty.severity == "" and empty.severity_rank == 5
    app = oncall_app(make_config(sim.url, poll_interval="1h"), clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.services.board.polls == 1, what="the first poll")
        await until(lambda: "waiting" not in str(app.main.alerts.title.render()), what="the first poll shown")
        app.query_one(AlertList).show([empty])
        await pilot.pause()
        assert line_text(app, 0).startswith(" ● -    ")
        text = app.query_one(AlertDetail).describe(empty).plain
        assert "(no alertname)" in text and "(none)" in text


async def test_notifications_never_read_markup(sim: SimServer, clock: SteppedClock) -> None:
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify(f"Recorded: {MARKUP} \x1b]0;t\x07")
        await pilot.pause()
        [toast] = app._notifications
        assert toast.message == f"Recorded: {MARKUP} ⟨ESC⟩]0;t⟨U+0007⟩" and toast.markup is False


async def test_a_panes_notification_is_plain_text_too_and_drawn_without_a_crash(
    sim: SimServer, clock: SteppedClock
) -> None:
    """A widget's `notify` asks the app for markup: a `[/…]` in a note would crash the toast."""
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        app.main.incident_pane.notify("Recorded: Note: see [/var/log] and [link=http://x]y[/link]")
        await pilot.pause()
        [toast] = app._notifications
        assert toast.markup is False and "[/var/log]" in toast.message
        await pilot.press("j")  # drawn, and the console still answers
        assert app.is_running


async def test_a_narrow_pane_keeps_age_and_state(sim: SimServer, clock: SteppedClock) -> None:
    sim.store.post_alerts([alert("AVeryLongAlertNameThatGoesOnAndOn", "critical", service="ml-api")])
    app = oncall_app(make_config(sim.url), clock=clock)
    async with app.run_test(size=(90, 30)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.pause()
        line = line_text(app, 0).rstrip()
        assert line.endswith("0s active") and "AVeryLongAlertName" in line and "…" in line
