"""The silence keys of the console: the form, the list, edits and expiry; every write asks first."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from oncall_tui.core.alerts.alertmanager import AlertmanagerError
from oncall_tui.core.alerts.matchers import format_matchers, matchers_for
from oncall_tui.core.alerts.models import Silence, SilenceMatcher, SilenceRequest
from oncall_tui.core.durations import format_duration
from oncall_tui.core.text import clean_line
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.screens.silences import SilencesScreen

if TYPE_CHECKING:
    from oncall_tui.ui.app import OncallApp


class SilenceKeys:
    """Mixed into OncallApp: `s`, `S`, and the silences screen's edit and expire requests."""

    def action_silence(self: OncallApp) -> None:
        if self._refuse_if_read_only():
            return
        alert = self.alert_list.current
        if alert is None:
            self.notify("Select an alert to silence first (or press S to manage silences).")
            return
        if alert.is_page:
            self.notify(
                f"Not silenced: this is an oncall-tui page for {clean_line(alert.labels.get('oncall', ''), 40)} "
                f"({clean_line(alert.labels.get('incident', ''), 40)}): silencing it stops the paging unrecorded. "
                "It ends when its level acknowledges (a), on escalation, or when the incident is resolved.",
                severity="warning",
                timeout=10,
            )
            return
        form = SilenceForm(
            matchers_for(alert),
            self.config.silences.default_duration,
            self.config.user.name,
            self.clock,
            self.board.alerts,
        )
        self.push_screen(form, lambda request: request and self.send_silence(request, alert.sources))

    def action_silences(self: OncallApp) -> None:
        self.push_screen(SilencesScreen(self.board, self.clock))

    def on_silences_screen_edit_requested(self: OncallApp, event: SilencesScreen.EditRequested) -> None:
        if self._refuse_if_read_only():
            return
        silence = event.silence
        remaining = max(60.0, (silence.ends_at - self.clock()).total_seconds())
        form = SilenceForm(
            format_matchers(silence.matchers),
            remaining,
            self.config.user.name,
            self.clock,
            self.board.alerts,
            comment=silence.comment,
            silence_id=silence.id if silence.state != "expired" else None,
        )
        self.push_screen(form, lambda request: request and self.send_silence(request, [silence.source]))

    def on_silences_screen_expire_requested(self: OncallApp, event: SilencesScreen.ExpireRequested) -> None:
        if self._refuse_if_read_only():
            return
        silence = event.silence
        question = f"Expire silence {silence.id}?"
        detail = (
            clean_line(format_matchers(silence.matchers), 300)
            + f"\nby {clean_line(silence.created_by, 60)}: {clean_line(silence.comment, 200)}"
        )
        self.push_screen(ConfirmScreen(question, detail, yes="Expire"), lambda yes: yes and self.send_expire(silence))

    @work(group="writes", description="Creating a silence")
    async def send_silence(self: OncallApp, request: SilenceRequest, sources: tuple[str, ...] | list[str]) -> None:
        try:
            created = await self.board.create_silence(request, sources)
        except AlertmanagerError as error:
            self.notify(f"Silence not created: {error}", severity="error", timeout=10)
            return
        self.created_silences.extend(created)
        verb = "updated" if request.id and all(i == request.id for _, i in created) else "created"
        self.notify(f"Silence {verb}: " + ", ".join(f"{i} on {s}" for s, i in created))
        for _, silence_id in created:
            summary = f"Silence {silence_id} {verb} for {format_duration((request.ends_at - request.starts_at).total_seconds())}"
            await asyncio.to_thread(
                self._record_silence, "silence.created", silence_id, request.matchers, summary, request
            )
        self._after_silence_change()

    @work(group="writes", description="Expiring a silence")
    async def send_expire(self: OncallApp, silence: Silence) -> None:
        try:
            await self.board.expire_silence(silence)
        except AlertmanagerError as error:
            self.notify(f"Silence not expired: {error}", severity="error", timeout=10)
            return
        self.notify(f"Silence {silence.id} expired.")
        await asyncio.to_thread(
            self._record_silence, "silence.expired", silence.id, silence.matchers, f"Silence {silence.id} expired"
        )
        self._after_silence_change()

    def _after_silence_change(self: OncallApp) -> None:
        self.action_refresh_now()
        if isinstance(self.screen, SilencesScreen):
            self.screen.action_reload()

    def _record_silence(
        self: OncallApp,
        kind: str,
        silence_id: str,
        matchers: tuple[SilenceMatcher, ...],
        summary: str,
        request: SilenceRequest | None = None,
    ) -> None:
        """In a thread: see `IncidentDesk.record_silence`."""
        for problem in self.desk.record_silence(kind, silence_id, matchers, summary, self.board.alerts, request):
            self.call_from_thread(self.notify, problem, severity="error")
