"""Every severity looks its own in every built-in theme (a warning never looks like info, an
error never like a critical), and the row under the cursor is legible in each."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.color import Color
from rich.style import Style
from textual.app import App, ComposeResult

from oncall_tui.core.alerts.models import Alert
from oncall_tui.ui.widgets.alert_list import AlertList, contrast, legible_on

SEVERITIES = ("critical", "error", "warning", "info", "other")


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertList([], lambda: datetime(2026, 1, 1, tzinfo=UTC))


def test_the_contrast_ratio_is_wcags() -> None:
    black, white = Color.parse("#000000"), Color.parse("#ffffff")
    assert round(contrast(black, white), 2) == 21.0 and contrast(white, white) == 1.0
    assert round(contrast(Color.parse("#777777"), white), 2) == 4.48  # WCAG's own example, just under AA
    assert legible_on(Color.parse("#85a598")) == black and legible_on(Color.parse("#004578")) == white


def style_contrast(style: Style) -> float:
    assert style.color is not None and style.bgcolor is not None, style
    return contrast(style.color, style.bgcolor)


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
                assert style_contrast(cursor) >= 4.5, f"{theme}: the cursor row has {segment.text!r} in {cursor}"
