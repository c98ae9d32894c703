"""Asking before anything that changes the outside world."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question. `enter`/`y` confirms, `esc`/`n` cancels. The text is plain, never markup."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        Binding("down", "scroll_detail(1)", "Scroll down", show=False, id="confirm.down"),
        Binding("up", "scroll_detail(-1)", "Scroll up", show=False, id="confirm.up"),
        Binding("pagedown", "scroll_detail(10)", "Page down", show=False, id="confirm.page_down"),
        Binding("pageup", "scroll_detail(-10)", "Page up", show=False, id="confirm.page_up"),
    ]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    """Below 32 rows the buttons are one line, and the detail scrolls sooner: the question stays in view."""

    def __init__(self, question: str, detail: str = "", yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(Text(self.question, style="bold"), id="confirm-question")
            if self.detail:  # it scrolls; the question and the buttons stay in view however long it is
                with VerticalScroll(id="confirm-detail-scroll"):  # the arrows scroll it, wherever the focus is
                    yield Static(Text(self.detail), id="confirm-detail")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (esc)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_scroll_detail(self, lines: int) -> None:
        for scroll in self.query("#confirm-detail-scroll").results(VerticalScroll):
            scroll.scroll_relative(y=lines, animate=False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
