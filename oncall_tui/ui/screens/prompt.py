"""Asking for one line of text (a note, a title, a resolution) or one severity."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from oncall_tui.core.incidents.incident import SEVERITIES


class TextPrompt(ModalScreen[str | None]):
    """`enter` returns the text (refused when empty), `esc` cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, label: str, value: str = "", placeholder: str = "", required: bool = True) -> None:
        """`required=False`: enter with nothing typed returns ""."""
        super().__init__()
        self.title_text, self.label, self.value, self.placeholder = title, label, value, placeholder
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="title")
            yield Static(Text(self.label), id="prompt-label")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(id="prompt-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip() and self.required:
            self.query_one("#prompt-error", Static).update("Type something, or esc to cancel.")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class SeverityPicker(ModalScreen[str | None]):
    """SEV-1..4 with what each means; `1`-`4` or `enter` pick, `esc` cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="severity.cancel"),
        *(Binding(str(n), f"pick({n})", f"SEV-{n}", show=False, id=f"severity.{n}") for n in range(1, 5)),
    ]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Severity (now {self.current})", classes="title")
            options = [Option(f"{sev}  {meaning}", id=sev) for sev, meaning in SEVERITIES.items()]
            yield OptionList(*options, id="severity-list")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = list(SEVERITIES).index(self.current) if self.current in SEVERITIES else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, number: int) -> None:
        self.dismiss(f"SEV-{number}")

    def action_cancel(self) -> None:
        self.dismiss(None)
