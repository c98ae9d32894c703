"""The silence form: matchers prefilled from the alert, a duration, a required comment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from oncall_tui.core.alerts.matchers import MatcherError, format_matchers, matches_all, parse_matchers
from oncall_tui.core.alerts.models import Alert, SilenceMatcher, SilenceRequest
from oncall_tui.core.durations import format_duration, parse_duration
from oncall_tui.core.text import clean_line, hidden_characters


class SilenceForm(ModalScreen[SilenceRequest | None]):
    """Returns the request to send, or None when cancelled. Nothing is sent from here."""

    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    """Below 32 rows the inputs are one line each: the whole form, matchers first, is in view."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="silence_form.cancel"),
        Binding("ctrl+s", "submit", "Create", id="silence_form.submit"),
    ]

    def __init__(
        self,
        matchers: str,
        duration: float,
        author: str,
        clock: Callable[[], datetime],
        alerts: list[Alert],
        comment: str = "",
        silence_id: str | None = None,
    ) -> None:
        super().__init__()
        self.initial = {
            "matchers": matchers,
            "duration": format_duration(duration),
            "author": author,
            "comment": comment,
        }
        self.clock = clock
        self.alerts = alerts
        self.silence_id = silence_id

    def compose(self) -> ComposeResult:
        title = f"Edit silence {self.silence_id}" if self.silence_id else "New silence"
        with Vertical(id="silence-dialog", classes="dialog"):
            yield Static(title, classes="title")
            yield Label('Matchers (Alertmanager\'s, comma-separated: a="b", c=~"d.*", e!="f")')
            yield Input(self.initial["matchers"], id="silence-matchers", select_on_focus=False)  # typing never wipes it
            yield Label("Duration (e.g. 30m, 1h, 2h30m)")
            yield Input(self.initial["duration"], id="silence-duration")  # typed over: "1h" then "30m" is 30m
            yield Label("Author")
            yield Input(self.initial["author"], id="silence-author", select_on_focus=False)  # typing never wipes it
            yield Label("Comment (required: why, and a ticket if there is one)")
            yield Input(
                self.initial["comment"],
                id="silence-comment",
                placeholder="e.g. deploying fix, INC-42",
                select_on_focus=False,
            )  # tabbing back never wipes what was typed
            yield Static(id="silence-preview")
            yield Static(id="silence-error").set_styles("display: none;")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Create (ctrl+s)" if not self.silence_id else "Save (ctrl+s)",
                    variant="primary",
                    id="silence-submit",
                )
                yield Button("Cancel (esc)", id="silence-cancel")

    def on_mount(self) -> None:
        self.query_one("#silence-matchers", Input).cursor_position = 0  # show alertname=, not the tail
        self.query_one("#silence-comment", Input).focus()
        self._preview()

    def _value(self, name: str) -> str:
        return self.query_one(f"#silence-{name}", Input).value.strip()

    def _matchers_and_duration(self) -> tuple[tuple[SilenceMatcher, ...], float]:
        try:  # as typed, not stripped: Alertmanager's parser decides what surrounding space means
            matchers = parse_matchers(self.query_one("#silence-matchers", Input).value)
        except MatcherError as error:
            raise ValueError(f"matchers: {error}") from None
        try:
            return matchers, parse_duration(self._value("duration"))
        except ValueError as error:
            raise ValueError(f"duration: {error}") from None

    def build(self) -> SilenceRequest:
        """The request the form describes. Raises ValueError with what to fix."""
        matchers, duration = self._matchers_and_duration()
        if not self._value("author"):
            raise ValueError("author: who is silencing? (set user.name in config.yaml to prefill it)")
        if not self._value("comment"):
            raise ValueError("comment: say why this is silenced")
        now = self.clock()
        return SilenceRequest(
            matchers=matchers,
            starts_at=now,
            ends_at=now + timedelta(seconds=duration),
            created_by=self._value("author"),
            comment=self._value("comment"),
            id=self.silence_id,
        )

    def _preview(self) -> None:
        """How many firing alerts the matchers catch, and until when: before anything is sent."""
        preview = self.query_one("#silence-preview", Static)
        try:
            matchers, duration = self._matchers_and_duration()
        except ValueError as error:
            preview.update(Text(str(error), style="italic"))
            return
        hits = sum(matches_all(matchers, a.labels) for a in self.alerts)
        ends = (self.clock() + timedelta(seconds=duration)).strftime("%Y-%m-%d %H:%M UTC")
        # the matchers as read: the input above is one line and cuts a long list at its edge
        said = (
            f"Silences {hits} alert(s) firing now, until {ends}. Matchers: {clean_line(format_matchers(matchers), 240)}"
        )
        hidden = hidden_characters(self.query_one("#silence-matchers", Input).value)
        if hidden:  # the input draws them as nothing: two values that look alike may differ
            said += f"\nThe matchers hold invisible characters, kept as the labels have them: {' '.join(hidden)}"
        preview.update(Text(said))

    def _say_error(self, error: str) -> None:
        """Why the form was refused; no line is kept for it until there is one (80×24 is short).
        A matcher or duration error the preview already says is said there, in bold: once."""
        shown = self.query_one("#silence-error", Static)
        preview = self.query_one("#silence-preview", Static)
        if error and str(preview.render()) == error:
            preview.update(Text(error, style="bold"))
            error = ""
        shown.update(Text(error, style="bold"))
        shown.display = bool(error)

    def on_input_changed(self) -> None:
        self._say_error("")
        self._preview()

    def on_input_submitted(self) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "silence-submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        try:
            request = self.build()
        except ValueError as error:
            self._say_error(str(error))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)
