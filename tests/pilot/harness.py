"""One pane alone on a screen: what it posts and what it draws, with no main screen to pass
its news on. `run_test(message_hook=harness.heard)` keeps every message, in order."""

from __future__ import annotations

from typing import TypeVar

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget

M = TypeVar("M", bound=Message)


class PaneHarness(App[None]):
    def __init__(self, pane: Widget) -> None:
        super().__init__()
        self.pane = pane
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.pane

    def on_mount(self) -> None:
        self.pane.focus()

    def heard(self, message: Message) -> None:
        self.messages.append(message)

    def posted(self, kind: type[M]) -> list[M]:
        """The messages of this kind the pane (or a widget in it) sent, in order: each once,
        though every node it bubbles through handles it."""
        return posted(self.messages, kind)


def posted(messages: list[Message], kind: type[M]) -> list[M]:
    seen: set[int] = set()
    return [m for m in messages if isinstance(m, kind) and not (id(m) in seen or seen.add(id(m)))]
