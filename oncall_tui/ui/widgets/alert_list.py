"""The alerts pane: one line per alert, drawn line by line so 10,000 alerts stay fast."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.core.alerts.acks import acked_by
from oncall_tui.core.alerts.grouping import AlertGroup, GroupKey, group, group_key
from oncall_tui.core.alerts.models import Alert, Silence
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_line
from oncall_tui.ui.messages import AlertSelected

SEVERITY_LABEL = {"critical": "crit", "page": "page", "error": "err", "warning": "warn", "info": "info"}
STATE_MARK = {"active": "●", "unprocessed": "●", "silenced": "◌", "inhibited": "◍", "stale": "?", "unseen": "?"}
"""By the state shown: an alert its source cannot vouch for now is a question, not a firing dot."""
NAME_WIDTH = 28
Grouped = tuple[list["AlertGroup"], set[GroupKey]] | None
"""Alerts in groups and the groups holding a new alert; None: a row per alert."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the list: an alert alone, a group (`group` set), or one alert of an open
    group (`member`)."""

    alert: Alert
    """The alert drawn, or the group's most urgent: the one the other panes follow."""
    group: AlertGroup | None = None
    member: bool = False

    @property
    def key(self) -> tuple[str, object]:
        """What the cursor stays on across refreshes: the group, or the alert."""
        return ("group", self.group.key) if self.group is not None else ("alert", self.alert.fingerprint)


class AlertList(ScrollView, can_focus=True):
    """A cursor over a sorted, filtered list of alerts.

    The alerts pane hands it the alerts to show; with `group_by` set, those that share its
    labels' values are one row (open with enter, close with h). It keeps the cursor on the same
    group or alert across refreshes and posts `AlertSelected` when the alert under the cursor
    (a group's most urgent) changes, or changes value (silenced, stale, new annotations): it
    owns the selection.
    """

    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="alerts.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="alerts.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="alerts.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="alerts.page_up"),
        Binding("home,g", "jump(0)", "First", show=False, id="alerts.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="alerts.last"),
        Binding("space", "mark", "Mark (for i)", show=False, id="alerts.mark"),
        Binding("enter,l,right", "open_group", "Open a group", show=False, id="alerts.open_group"),
        Binding("h,left", "close_group", "Close the group", show=False, id="alerts.close_group"),
        Binding("ctrl+g", "toggle_grouping", "Groups on/off", show=False, id="alerts.grouping"),
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
        new_now: Callable[[], Collection[str]] = frozenset,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.label_names = label_names
        self.clock = clock
        self.is_new = is_new
        self.new_now = new_now
        """The fingerprints of the alerts `is_new` says are new, all at once (for the groups)."""
        self.alerts: list[Alert] = []
        """The alerts shown (filtered), in order; `rows` is how they are drawn."""
        self.rows: list[Row] = []
        self.group_by: list[str] = []
        """Labels whose values make a group; none: a row per alert."""
        self.grouping = True
        """Off (ctrl+g): a row per alert, whatever `group_by` says."""
        self.acks: dict[str, Silence] = {}
        """The active acks (`ACK!` silences) by ID: an alert one silences shows `acked by alice 3m`."""
        self.opened: set[GroupKey] = set()
        self._formed: list[AlertGroup] = []
        self._fresh: set[GroupKey] = set()
        """The groups holding an alert new enough to highlight, as of the last layout."""
        """The groups drawn with their alerts under them."""
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
        """The alert under the cursor, or the most urgent of the group under it."""
        return self.rows[self.cursor].alert if 0 <= self.cursor < len(self.rows) else None

    @property
    def group_row(self) -> AlertGroup | None:
        """The group whose own row is under the cursor (not one of its alerts')."""
        return self.rows[self.cursor].group if 0 <= self.cursor < len(self.rows) else None

    @property
    def current_group(self) -> AlertGroup | None:
        """The group under the cursor: on its row, or on one of its alerts' (None: an alert alone)."""
        if not 0 <= self.cursor < len(self.rows):
            return None
        row = self.rows[self.cursor]
        if row.group is not None or not row.member:
            return row.group
        return next(r.group for r in reversed(self.rows[: self.cursor]) if r.group is not None)

    def grouped(self, alerts: list[Alert]) -> Grouped:
        """`alerts` in groups as the list draws them, and the groups holding a new alert (None:
        grouping is off). Safe in a thread."""
        if not (self.grouping and self.group_by):
            return None
        groups = group(alerts, self.group_by, self.label_names, self._formed)
        self._formed = groups  # the next grouping takes those whose alerts are the same
        new = self.new_now()
        fresh = (
            {g.key for g in groups if len(g.alerts) > 1 and any(a.fingerprint in new for a in g.alerts)}
            if new
            else set()
        )
        return groups, fresh

    def show(self, alerts: list[Alert], by_user: bool = False, groups: Grouped = None) -> None:
        """Replace the alerts shown, keeping the cursor on the same group or alert where it
        still is (`by_user`: the user's doing, as a filter is); `groups`: `grouped(alerts)`,
        if it was done already."""
        self.alerts = alerts
        self._lay_out(groups)
        self._name_width = min(NAME_WIDTH, max((len(a.name) for a in alerts), default=8) + 2)
        self._announce(by_user)

    def _lay_out(self, grouped: Grouped = None, news: bool = True) -> None:
        """`rows` from `alerts`, the cursor kept on its group or alert (or on the alert of the
        group it was on, or where it was); a group formed around the alert under the cursor
        opens, so the cursor stays on that alert (`news`: the alerts changed, not the user's view)."""
        selected = self.rows[self.cursor].key if 0 <= self.cursor < len(self.rows) else None
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        in_view = top <= self.cursor < top + height  # (scrolled away with the mouse: left so)
        rows: list[Row] = []
        grouped = grouped if grouped is not None else self.grouped(self.alerts)
        groups, self._fresh = grouped if grouped is not None else ([], set())
        if news and selected is not None and selected[0] == "alert":
            around = next(
                (g for g in groups if len(g.alerts) > 1 and any(a.fingerprint == selected[1] for a in g.alerts)), None
            )
            if around is not None and not any(r.group and r.group.key == around.key for r in self.rows):
                self.opened.add(around.key)  # it was alone under the cursor: it stays there
        for found in groups or [None]:
            if found is None:  # no grouping: a row an alert
                rows = [Row(a) for a in self.alerts]
            elif len(found.alerts) == 1:
                rows.append(Row(found.first))
            else:
                rows.append(Row(found.first, found))
                if found.key in self.opened:
                    rows += [Row(a, member=True) for a in found.alerts]
        self.rows = rows
        index = next((i for i, r in enumerate(rows) if r.key == selected), None)
        if index is None and selected is not None and selected[0] == "group":  # grouping off, or a group of one now
            index = next((i for i, r in enumerate(rows) if group_key(r.alert, self.group_by) == selected[1]), None)
        if index is None and selected is not None and selected[0] == "alert":  # its group closed, or formed
            index = next(
                (
                    i
                    for i, r in enumerate(rows)
                    if r.group and any(a.fingerprint == selected[1] for a in r.group.alerts)
                ),
                None,
            )
        self.cursor = index if index is not None else min(self.cursor, max(0, len(rows) - 1))
        self.virtual_size = Size(self.size.width, len(rows))
        if in_view:  # rows came above it: still in view
            self.scroll_to_region_of_row(self.cursor)
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
        before, top = self.cursor, self.scroll_offset.y
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self.scroll_to_region_of_row(self.cursor)
        self._announce(by_user=True)
        if self.scroll_offset.y == top:  # only the two rows differ: the rest need not be drawn again
            width = self.size.width
            self.refresh(*(Region(0, row - top, width, 1) for row in {before, self.cursor}))
        else:
            self.refresh()

    def scroll_to_region_of_row(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self.rows) - 1)

    def action_mark(self) -> None:
        """Mark the alert under the cursor, or every alert of the group's row (or unmark them)."""
        if not 0 <= self.cursor < len(self.rows):
            return
        row = self.rows[self.cursor]
        fingerprints = {a.fingerprint for a in row.group.alerts} if row.group else {row.alert.fingerprint}
        if fingerprints <= self.marked:
            self.marked -= fingerprints
        else:
            self.marked |= fingerprints
        self._move_to(self.cursor + 1)
        self.refresh()

    def action_open_group(self) -> None:
        row = self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None
        if row is not None and row.group is not None and row.group.key not in self.opened:
            self.opened.add(row.group.key)
            self._lay_out()

    def action_close_group(self) -> None:
        """On a group's row or one of its alerts: the group is one row again, under the cursor."""
        found = self.current_group
        if found is not None and found.key in self.opened:
            self.opened.discard(found.key)
            self.cursor = next(i for i, r in enumerate(self.rows) if r.group is found)
            self._lay_out()
            self._announce(by_user=True)

    def action_toggle_grouping(self) -> None:
        self.grouping = not self.grouping
        self._lay_out(news=False)
        self._announce(by_user=True)
        self.notify("Alerts in groups (enter opens one)" if self.grouping else "A row per alert (ctrl+g groups them)")

    def unmark(self, alerts: list[Alert]) -> None:
        self.marked -= {a.fingerprint for a in alerts}
        self.refresh()

    def marked_alerts(self) -> list[Alert]:
        """The marked alerts still shown; when none is, the group under the cursor's row, or
        the alert under it."""
        chosen = [a for a in self.alerts if a.fingerprint in self.marked]
        if chosen or not 0 <= self.cursor < len(self.rows):
            return chosen
        row = self.rows[self.cursor]
        return list(row.group.alerts) if row.group else [row.alert]

    def on_click(self, event: Click) -> None:
        self._move_to(self.scroll_offset.y + event.y)

    def on_resize(self) -> None:
        """Made shorter (the filter box opened, the title wrapped, the terminal resized), the
        list keeps the cursor's row in view (once laid out: its scrollbars take rows too)."""
        self.virtual_size = Size(self.size.width, len(self.rows))
        self.call_after_refresh(lambda: self.scroll_to_region_of_row(self.cursor))

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

    def render_alert(self, alert: Alert, width: int, indent: int = 0) -> Text:
        """One alert as one line of `width` cells (`indent`: one of an open group's); label
        text is never read as markup."""
        state = "unseen" if alert.held else "stale" if alert.stale else alert.state
        mark = STATE_MARK.get(state, "●")  # an ack is a silence: ◌
        ack = acked_by(alert, self.acks) if state == "silenced" else None
        if ack is not None:
            state = f"acked by {clean_line(ack.created_by, 20)} {format_age((self.clock() - ack.starts_at).total_seconds())}"
        page = f"page L{alert.labels.get('level', '?')} {alert.labels.get('oncall', '')}"
        described = (
            f"{alert.labels['incident']} level {alert.labels.get('level', '?')}"
            if alert.is_page
            else self._labels(alert)
        )
        # one of an open group's: its name is the group's; what tells it apart gets the room
        name = " " * indent + "·" if indent else clean_line(page if alert.is_page else alert.name, 300)
        return self._line(
            alert,
            width,
            mark,
            name,
            described,
            state,
            marked=alert.fingerprint in self.marked,
            muted=alert.state in ("silenced", "inhibited"),
            doubted=alert.stale or bool(alert.held),
            sources=",".join(alert.sources),
            name_room=indent + 1 if indent else None,
        )

    def render_group(self, found: AlertGroup, width: int) -> Text:
        """A group as one line: its most urgent alert's severity and name, its count, how many
        are muted or in doubt, and its most common values of the shown label."""
        alerts = found.alerts
        acked = sum(1 for a in alerts if acked_by(a, self.acks)) if self.acks and found.count("silenced") else 0
        counts = [
            (found.stale - found.unseen, "stale"),
            (found.unseen, "unseen"),
            (acked, "acked"),
            (found.count("silenced") - acked, "silenced"),
            (found.count("inhibited"), "inhibited"),
        ]
        said = ", ".join(f"{n:,} {what}" for n, what in counts if n)
        values = ", ".join(f"{clean_line(v, 40)} {n:,}" for v, n in found.top)
        described = " · ".join(part for part in (said, values) if part)  # the count is in the state column
        state = group_state(found.active, len(alerts), counts, found.stale)
        return self._line(
            found.newest or found.first,
            width,
            "▾" if found.key in self.opened else "▸",
            clean_line(found.name, 300),
            described,
            state,
            marked=bool(self.marked) and all(a.fingerprint in self.marked for a in alerts),
            muted=found.count("silenced") + found.count("inhibited") == len(alerts),
            doubted=found.stale == len(alerts),
            severity_of=found.first,
            sources=",".join(found.sources),
        )

    def _line(
        self,
        dated: Alert,
        width: int,
        mark: str,
        name_text: str,
        described: str,
        state: str,
        marked: bool,
        muted: bool,
        doubted: bool,
        sources: str,
        severity_of: Alert | None = None,
        name_room: int | None = None,
    ) -> Text:
        """`✚● crit Name  labels…  age state [sources]`: the name gives way first on a narrow
        pane, then the labels; the age (of `dated`) and the state always show. `name_room`: the
        name's columns, when not the list's name column."""
        alert = severity_of or dated
        severity_style = self.get_component_rich_style(self._severity_class(alert))
        text_style = self.get_component_rich_style("alert-list--muted") if muted else Style()
        age = format_age((self.clock() - dated.starts_at).total_seconds())
        severity = SEVERITY_LABEL.get(alert.severity.lower(), clean_line(alert.severity, 4) or "-")
        right = f" {age:>4} {state:<10}"
        if self.show_sources:
            right += f" {sources}"
        name_width = name_room or max(8, min(self._name_width, width - len(right) - 9 - 6))
        name = Text(name_text, style=text_style + Style(bold=True))
        name.truncate(name_width, overflow="ellipsis", pad=True)  # by cells: wide characters line up too
        left = Text.assemble(
            ("✚" if marked else " ", "bold"),
            (f"{mark} ", severity_style),
            (f"{severity:<4} ", severity_style),
            name,
            " ",
        )
        labels = Text(clean_line(described, 200), style=self.get_component_rich_style("alert-list--muted"))
        labels.truncate(max(0, width - left.cell_len - len(right)), overflow="ellipsis", pad=True)
        line = Text.assemble(left, labels, (right, text_style))
        line.truncate(width, overflow="ellipsis", pad=True)
        if doubted:
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
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        alert = row.alert
        line = self.render_group(row.group, width) if row.group else self.render_alert(alert, width, 2 * row.member)
        if index == self.cursor:
            line.stylize(self._cursor_style())
        elif row.group.key in self._fresh if row.group else self.is_new(alert):
            line.stylize(self.get_component_rich_style("alert-list--new"))
        return Strip(line.render(self.app.console), width).apply_style(self.rich_style)


def luminance(colour: Color) -> float:
    """WCAG's relative luminance of `colour` (as the terminal shows it: ANSI ones too)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: Color, other: Color) -> float:
    """WCAG's contrast ratio of two colours: 1 (the same) to 21 (black on white)."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def legible_on(background: Color) -> Color:
    """Black or white, whichever has the higher contrast on `background` (at least 4.6:1 on
    any colour)."""
    black, white = Color.parse("#000000"), Color.parse("#ffffff")
    return black if contrast(black, background) > contrast(white, background) else white


def group_state(active: int, total: int, counts: list[tuple[int, str]], doubted: int = 0) -> str:
    """A group's state column, with its count, true of the whole group: `834 active`, `834
    silenced`, `834 stale` when all its alerts are; `3/834 active` when only some fire
    unmuted; `834 muted` when none does but not all for one reason, and none is in doubt
    (stale or unseen: `2/3 unknown`, as a doubted alert may be firing)."""
    if active == total:
        return f"{total:,} active"
    if active:
        return f"{active:,}/{total:,} active"
    whole = next((f"{total:,} {what}" for n, what in counts if n == total), None)
    if whole:
        return whole
    return f"{doubted:,}/{total:,} unknown" if doubted else f"{total:,} muted"
