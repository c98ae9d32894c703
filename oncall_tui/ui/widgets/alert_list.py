"""The alerts pane: one line per alert, drawn line by line so 10,000 alerts stay fast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_line
from oncall_tui.ui.messages import AlertSelected

SEVERITY_LABEL = {"critical": "crit", "page": "page", "error": "err", "warning": "warn", "info": "info"}
STATE_MARK = {"active": "●", "unprocessed": "●", "silenced": "◌", "inhibited": "◍", "stale": "?", "unseen": "?"}
"""By the state shown: an alert its source cannot vouch for now is a question, not a firing dot."""
NAME_WIDTH = 28


class AlertList(ScrollView, can_focus=True):
    """A cursor over a sorted, filtered list of alerts.

    The alerts pane hands it the alerts to show; it keeps the cursor on the same alert (by
    fingerprint) across refreshes and posts `AlertSelected` when the alert under the cursor
    changes (or changes value: silenced, stale, new annotations): it owns the selection.
    """

    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="alerts.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="alerts.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="alerts.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="alerts.page_up"),
        Binding("home,g", "jump(0)", "First", show=False, id="alerts.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="alerts.last"),
        Binding("space", "mark", "Mark (for i)", show=False, id="alerts.mark"),
    ]

    COMPONENT_CLASSES = {
        "alert-list--critical",
        "alert-list--error",
        "alert-list--warning",
        "alert-list--info",
        "alert-list--other",
        "alert-list--cursor",
        "alert-list--new",
        "alert-list--muted",
        "alert-list--stale",
    }

    DEFAULT_CSS = """
    AlertList { height: 1fr; }
    AlertList > .alert-list--critical { color: $error; text-style: bold; }
    AlertList > .alert-list--error { color: $text-error; }  /* less than critical, more than warning */
    AlertList > .alert-list--warning { color: $warning; }
    AlertList > .alert-list--info { color: $primary; }  /* $accent is $warning in textual-dark */
    AlertList > .alert-list--other { color: $foreground-muted; }
    AlertList > .alert-list--cursor { background: $block-cursor-blurred-background; }
    AlertList:focus > .alert-list--cursor { background: $block-cursor-background; text-style: bold; }
    AlertList > .alert-list--new { background: $success 30%; }
    AlertList > .alert-list--muted { color: $foreground-muted; }
    AlertList > .alert-list--stale { color: $foreground-muted; text-style: italic; }  /* the ansi themes have no -disabled */
    """

    def __init__(
        self,
        label_names: list[str],
        clock: Callable[[], datetime],
        is_new: Callable[[Alert], bool] = lambda alert: False,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.label_names = label_names
        self.clock = clock
        self.is_new = is_new
        self.alerts: list[Alert] = []
        self.cursor = 0
        self.show_sources = False
        self._announced: Alert | None = None
        self.moved_by_user = False
        """Whether the user moved the cursor to the alert last announced (else a refresh did)."""
        self._name_width = 8
        self.marked: set[str] = set()
        """Fingerprints marked with space: `i` declares one incident from all of them."""

    # -- data -----------------------------------------------------------------------------
    @property
    def current(self) -> Alert | None:
        return self.alerts[self.cursor] if 0 <= self.cursor < len(self.alerts) else None

    def show(self, alerts: list[Alert], by_user: bool = False) -> None:
        """Replace the alerts shown, keeping the cursor on the same alert where it still is
        (`by_user`: the user's doing, as a filter is)."""
        selected = self.current.fingerprint if self.current else None
        self.alerts = alerts
        index = next((i for i, a in enumerate(alerts) if a.fingerprint == selected), None)
        self.cursor = index if index is not None else min(self.cursor, max(0, len(alerts) - 1))
        self._name_width = min(NAME_WIDTH, max((len(a.name) for a in alerts), default=8))
        self.virtual_size = Size(self.size.width, len(alerts))
        self._announce(by_user)
        self.refresh()

    def _announce(self, by_user: bool) -> None:
        """Said whenever the alert under the cursor is another, or the same one changed (new
        annotations, silenced, stale): the panes that follow it never keep an old copy."""
        alert = self.current
        if alert != self._announced:
            self._announced = alert
            self.moved_by_user = by_user
            # sent as the list's own: `show` is called from the pane's handlers (the filter), and
            # Textual stops a message at its sender, so the screen would never hear of it
            self.post_message(AlertSelected(alert, by_user).set_sender(self))

    # -- movement -------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        if not self.alerts:
            return
        self.cursor = max(0, min(index, len(self.alerts) - 1))
        self.scroll_to_region_of_row(self.cursor)
        self._announce(by_user=True)
        self.refresh()

    def scroll_to_region_of_row(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self.alerts) - 1)

    def action_mark(self) -> None:
        alert = self.current
        if alert is not None:
            self.marked ^= {alert.fingerprint}
            self._move_to(self.cursor + 1)
            self.refresh()

    def unmark(self, alerts: list[Alert]) -> None:
        self.marked -= {a.fingerprint for a in alerts}
        self.refresh()

    def marked_alerts(self) -> list[Alert]:
        """The marked alerts still shown, or the one under the cursor when none is marked."""
        chosen = [a for a in self.alerts if a.fingerprint in self.marked]
        return chosen or ([self.current] if self.current else [])

    def on_click(self, event: Click) -> None:
        self._move_to(self.scroll_offset.y + event.y)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.alerts))

    # -- drawing --------------------------------------------------------------------------
    def _severity_class(self, alert: Alert) -> str:
        severity = alert.severity.lower()
        if severity in ("critical", "page"):
            return "alert-list--critical"
        if severity == "error":
            return "alert-list--error"
        if severity == "warning":
            return "alert-list--warning"
        if severity == "info":
            return "alert-list--info"
        return "alert-list--other"

    def _labels(self, alert: Alert) -> str:
        values = dict.fromkeys(alert.labels.get(name) for name in self.label_names)  # ordered, no repeats
        return " ".join(clean_line(v, 60) for v in values if v)

    def render_alert(self, alert: Alert, width: int) -> Text:
        """One alert as one line of `width` cells; label text is never read as markup."""
        muted = alert.state in ("silenced", "inhibited")
        severity_style = self.get_component_rich_style(self._severity_class(alert))
        text_style = self.get_component_rich_style("alert-list--muted") if muted else Style()
        age = format_age((self.clock() - alert.starts_at).total_seconds())
        state = "unseen" if alert.held else "stale" if alert.stale else alert.state
        severity = SEVERITY_LABEL.get(alert.severity.lower(), clean_line(alert.severity, 4) or "-")
        right = f" {age:>4} {state:<10}"
        if self.show_sources:
            right += f" {','.join(alert.sources)}"
        # On a narrow pane the name gives way first: age and state must always show.
        name_width = max(8, min(self._name_width, width - len(right) - 9 - 6))
        page = f"page L{alert.labels.get('level', '?')} {alert.labels.get('oncall', '')}"
        shown = page if alert.is_page else alert.name
        name = Text(clean_line(shown, 300), style=text_style + Style(bold=True))
        name.truncate(name_width, overflow="ellipsis", pad=True)  # by cells: wide characters line up too
        left = Text.assemble(
            ("✚" if alert.fingerprint in self.marked else " ", "bold"),
            (f"{STATE_MARK.get(state, '●')} ", severity_style),
            (f"{severity:<4} ", severity_style),
            name,
            " ",
        )
        described = (
            f"{alert.labels['incident']} level {alert.labels.get('level', '?')}"
            if alert.is_page
            else self._labels(alert)
        )
        labels = Text(clean_line(described, 200), style=self.get_component_rich_style("alert-list--muted"))
        room = max(0, width - left.cell_len - len(right))
        labels.truncate(room, overflow="ellipsis", pad=True)
        line = Text.assemble(left, labels, (right, text_style))
        line.truncate(width, overflow="ellipsis", pad=True)
        if alert.stale or alert.held:
            line.stylize(self.get_component_rich_style("alert-list--stale"))
        return line

    def _cursor_style(self) -> Style:
        """The cursor row's: the theme's cursor colour under text in black or white, whichever
        reads better on it (the themes' own text on it falls to 2.4:1, a severity's to 1.7:1)."""
        style = self.get_component_rich_style("alert-list--cursor")
        if style.bgcolor is None or not self.has_focus:
            return style
        return style + Style(color=legible_on(style.bgcolor))

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self.alerts):
            return Strip.blank(width, self.rich_style)
        alert = self.alerts[index]
        line = self.render_alert(alert, width)
        if index == self.cursor:
            line.stylize(self._cursor_style())
        elif self.is_new(alert):
            line.stylize(self.get_component_rich_style("alert-list--new"))
        return Strip(line.render(self.app.console), width).apply_style(self.rich_style)


def legible_on(background: Color) -> Color:
    """Black or white, whichever has the higher contrast on `background` (WCAG's ratio: at
    least 4.6:1 on any colour)."""

    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = colour.get_truecolor()
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    # against black the ratio is (L + 0.05) / 0.05, against white 1.05 / (L + 0.05)
    lum = luminance(background)
    return Color.parse("#000000") if (lum + 0.05) ** 2 > 0.05 * 1.05 else Color.parse("#ffffff")
