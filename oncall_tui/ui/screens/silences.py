"""`S`: the silences of every configured Alertmanager, to review, edit or expire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from oncall_tui.core.alerts.acks import is_ack
from oncall_tui.core.alerts.alertmanager import AlertmanagerError
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.matchers import format_matchers
from oncall_tui.core.alerts.models import Silence
from oncall_tui.core.durations import format_age
from oncall_tui.core.text import clean_line
from oncall_tui.ui.widgets.key_bar import KeyBar


class SilencesScreen(Screen[None]):
    """Lists silences; `x` and `e` hand the one selected to the alerts pane, which asks and writes."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="silences.back"),
        Binding("r", "reload", "Reload", id="silences.reload"),
        Binding("x,delete", "expire", "Expire", id="silences.expire"),
        Binding("e", "edit", "Edit", id="silences.edit"),
    ]

    def __init__(
        self,
        board: Board,
        clock: Callable[[], datetime],
        edit: Callable[[Silence], None],
        expire: Callable[[Silence], None],
        read_only: bool = False,
    ) -> None:
        """`edit`, `expire`: the alerts pane's, which asks and writes (and records); `read_only`:
        they are not offered (pressed, they say why not)."""
        super().__init__()
        self.read_only = read_only
        self.board = board
        self.clock = clock
        self._edit, self._expire = edit, expire
        self.silences: list[Silence] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="silences-pane", classes="pane"):
            yield Static("SILENCES  loading…", id="silences-title", classes="pane-title")
            yield DataTable(id="silences-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar(frozenset({"expire", "edit"}) if self.read_only else frozenset())

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("state", "ends in", "matchers", "created by", "comment", "id", "source")
        self.action_reload()

    @work(exclusive=True, group="silences", description="Loading silences")
    async def action_reload(self) -> None:
        title = self.query_one("#silences-title", Static)
        try:
            self.silences = await self.board.silences()
        except AlertmanagerError as error:
            title.update(Text(f"SILENCES  could not load: {error}"))
            return
        now = self.clock()
        table = self.query_one(DataTable)
        table.clear()
        for silence in self.silences:
            left = (silence.ends_at - now).total_seconds()
            table.add_row(
                f"{silence.state} ack" if is_ack(silence) else silence.state,  # A's, kept while its alert fires
                format_age(left) if silence.state != "expired" else "-",
                Text(clean_line(format_matchers(silence.matchers), 64)),
                Text(clean_line(silence.created_by, 30)),
                Text(clean_line(silence.comment, 60)),
                silence.id,
                silence.source,
            )
        live = sum(s.state != "expired" for s in self.silences)
        title.update(
            f"SILENCES  {live} active or pending · {len(self.silences) - live} expired{'' if self.read_only else ' · x expire · e edit'}"
        )

    def _selected(self) -> Silence | None:
        table = self.query_one(DataTable)
        if not self.silences or table.cursor_row >= len(self.silences):
            return None
        return self.silences[table.cursor_row]

    def action_expire(self) -> None:
        silence = self._selected()
        if silence is None:
            return
        if silence.state == "expired":
            self.notify("That silence has already expired.")
            return
        self._expire(silence)

    def action_edit(self) -> None:
        silence = self._selected()
        if silence is not None:
            self._edit(silence)
