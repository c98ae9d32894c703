"""Every severity looks its own in every built-in theme (a warning never looks like info, an
error never like a critical), and the row under the cursor is legible in each."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.color import Color
from rich.style import Style
from textual.app import App, ComposeResult

from oncall_tui.core.alerts.models import Alert
from oncall_tui.ui.widgets.alert_list import AlertList

SEVERITIES = ("critical", "error", "warning", "info", "other")


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertList([], lambda: datetime(2026, 1, 1, tzinfo=UTC))


def luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(style: Style) -> float:
    """WCAG's contrast ratio of the style's text on its background."""
    assert style.color is not None and style.bgcolor is not None, style
    light, dark = sorted((luminance(style.color), luminance(style.bgcolor)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_every_severity_is_its_own_look_and_the_cursor_row_is_legible_in_every_theme() -> None:
    app = ListApp()
    async with app.run_test() as pilot:
        alerts = app.query_one(AlertList)
        alerts.focus()
        labels = {"alertname": "HighErrorRate", "severity": "critical"}
        alerts.show([Alert("fp", labels, {}, datetime(2026, 1, 1, tzinfo=UTC), None, "", "active")])
        for theme in sorted(app.available_themes):
            app.theme = theme
            await pilot.pause()
            alerts.notify_style_update()  # as Textual does on its next refresh: read the new theme now
            looks = {}
            for severity in SEVERITIES:
                style = alerts.get_component_rich_style(f"alert-list--{severity}")
                looks[severity] = (style.color, style.bold)
            assert len(set(looks.values())) == len(SEVERITIES), f"{theme}: {looks}"
            for segment in alerts.render_line(0):  # the row under the cursor, every part of it
                cursor = segment.style or Style()
                assert contrast(cursor) >= 4.5, f"{theme}: the cursor row has {segment.text!r} in {cursor}"
