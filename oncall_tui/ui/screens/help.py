"""`?`: every key of the console, with the binding ids a keymap in config.yaml can remap."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import key_to_character
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = (
    "Filter (/): Alertmanager matchers and free text, all must match:\n"
    "  severity=critical   service=~ml-.*   team!=search   job!~node|blackbox   db-1\n"
    "esc clears the filter."
)


def keys_by_id(bindings: list[Binding]) -> dict[str, tuple[list[str], str]]:
    """The console's own bindings (those with an id), each with all the keys bound to it."""
    found: dict[str, tuple[list[str], str]] = {}
    for binding in bindings:
        if not binding.id:
            continue  # Textual's own (focus, copy, palette) are not ours to document
        keys, _ = found.setdefault(binding.id, ([], binding.description))
        for key in binding.key.split(","):
            name = key.strip()
            character = key_to_character(name)
            shown = binding.key_display or (
                character if character and character.strip() and character.isprintable() else name
            )
            if shown not in keys:
                keys.append(shown)
    return found


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, bindings: list[Binding], filter_help: bool = True) -> None:
        """`filter_help`: say the filter's syntax (the main screen has the filter; others do not)."""
        super().__init__()
        self.keys = keys_by_id(bindings)
        self.filter_help = filter_help

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("keys")
        table.add_column("does")
        table.add_column("id (for keymap: in config.yaml)")
        for binding_id, (keys, description) in self.keys.items():
            table.add_row(", ".join(keys), description, binding_id)
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static("Keys", classes="title")
            yield Static(table)
            if self.filter_help:
                yield Static(FILTER_HELP, id="help-filter")
