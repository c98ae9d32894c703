"""The console: theme, keymap, the global keys, and the main screen, handed its services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel

from oncall_tui.core.bell import desktop_notification
from oncall_tui.core.config import Config
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now
from oncall_tui.services import Services, build_services
from oncall_tui.ui.collecting import steady_malloc
from oncall_tui.ui.main_screen import MainScreen, current_ids
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.widgets.alert_list import AlertList
from oncall_tui.ui.widgets.alerts_pane import FilterBox
from oncall_tui.ui.widgets.runbook_view import StepList


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.main = MainScreen(services)

    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        config = self.services.config
        if config.theme in self.available_themes:
            self.theme = config.theme
        else:
            self.notify(f"Unknown theme {config.theme!r} in config.yaml; using the default.", severity="warning")
        if config.keymap:
            self.set_keymap(current_ids(config.keymap))

    def on_key(self, event: events.Key) -> None:
        """A character no widget took, while the filter box has the focus: it came in the same
        read as the `/` that opened it (`/sev` over SSH or from tmux) and was sent to the list
        before the focus moved. It is the filter's: typed there, never lost, never a key of the
        list (the box takes every character it is sent itself, so none reaches here otherwise)."""
        focused = self.focused
        if isinstance(focused, FilterBox) and not focused.closing and event.is_printable and event.character:
            if event.key.startswith("alt+"):
                focused.escape_then(event)
                return
            focused.insert_text_at_cursor(event.character)
            event.stop()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry label values, notes and server messages: always plain text (a
        pane's `notify` asks for markup; a `[/…]` in a note must not be read as it)."""
        super().notify(clean_line(message, 500), title=title, severity=severity, timeout=timeout, markup=False)

    def ring(self, title: str, body: str) -> None:
        """The bell and a desktop notification, as `notify:` says; nothing in a headless test.
        Written as Textual's own `bell` writes: through its driver, between frames."""
        notify = self.services.config.notify
        if self.is_headless or self._driver is None:
            return
        if notify.bell:
            self._driver.write("\a")
        if notify.desktop:
            self._driver.write(desktop_notification(title, body))

    async def on_unmount(self) -> None:
        await self.main.wind_down()
        await self.services.aclose()

    async def action_quit(self) -> None:
        """Quit, after asking if that would kill running steps or let standing pages lapse."""
        question = self.main.quit_question()
        if question is None:
            self.exit()
            return
        self.push_screen(ConfirmScreen(*question, yes="Quit"), lambda yes: yes and self.exit())

    def action_help(self) -> None:
        """Every key of the screen `?` was pressed on: its own, the app's, each pane's (whatever
        has the focus), and how to close the help; remapped as `keymap:` says."""
        active = [a.binding for a in self.screen.active_bindings.values()]
        panes = [*AlertList.BINDINGS, *StepList.BINDINGS] if self.screen is self.main else []
        remapped = getattr(self, "_keymap", {}) or {}
        extra = [
            replace(b, key=remapped[b.id]) if b.id in remapped else b
            for b in Binding.make_bindings([*panes, *HelpScreen.BINDINGS])
        ]
        self.push_screen(HelpScreen([*active, *extra], filter_help=self.screen is self.main))


def oncall_app(config: Config, clock: Callable[[], datetime] = utc_now, **options: Any) -> OncallApp:
    """The console on `config`'s services (`read_only`, `dry_run`, `is_demo`: see `build_services`)."""
    steady_malloc()  # before its threads start
    return OncallApp(build_services(config, clock=clock, **options))
