"""`?`: every key of the console, with the binding ids a keymap in config.yaml can remap."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = (
    "Filter (/): Alertmanager matchers and free text, all must match:\n"
    "  severity=critical   service=~ml-.*   team!=search   job!~node|blackbox   db-1\n"
    "esc clears the filter."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("key")
        table.add_column("does")
        table.add_column("id (for keymap:)")
        for binding in self.bindings:
            table.add_row(binding.key_display or binding.key, binding.description, binding.id or "")
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static("Keys", classes="title")
            yield Static(table)
            yield Static(FILTER_HELP, id="help-filter")
