"""Silences written from the console: sent to Alertmanager, then on the record of the incidents
they touch (`IncidentDesk.record_silence`). The alerts pane's `s` and the silences screen's
edit and expiry all go through here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.models import Alert, Silence, SilenceRequest
from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents.desk import IncidentDesk


@dataclass
class SilenceWritten:
    said: str
    """What Alertmanager did, in one line: `Silence created: 3f2a… on prod`."""
    created: list[tuple[str, str]] = field(default_factory=list)
    """(source, silence ID) of each silence created, as the servers returned them."""
    problems: list[str] = field(default_factory=list)
    """What could not be recorded, one line each."""


async def send_silence(
    board: Board, desk: IncidentDesk, request: SilenceRequest, sources: tuple[str, ...] | list[str]
) -> SilenceWritten:
    """Create (or, with `request.id`, update) a silence; AlertmanagerError when refused."""
    created = await board.create_silence(request, sources)
    verb = "updated" if request.id and all(i == request.id for _, i in created) else "created"
    written = SilenceWritten(f"Silence {verb}: " + ", ".join(f"{i} on {s}" for s, i in created), created)
    lasting = format_duration((request.ends_at - request.starts_at).total_seconds())
    for _, silence_id in created:
        written.problems += await asyncio.to_thread(
            desk.record_silence,
            "silence.created",
            silence_id,
            request.matchers,
            f"Silence {silence_id} {verb} for {lasting}",
            board.alerts,
            request,
        )
    return written


async def send_ack(
    board: Board, desk: IncidentDesk, alerts: list[Alert], request: SilenceRequest, sources: list[str]
) -> SilenceWritten:
    """Acknowledge `alerts` with the `ACK!` silence `request`: sent as any silence (and on the
    record as one), then as `alert.acknowledged` on their linked incidents."""
    written = await send_silence(board, desk, request, sources)
    written.said = written.said.replace("Silence created", "Acknowledged, until it resolves: silence", 1)
    for _, silence_id in written.created:
        written.problems += await asyncio.to_thread(desk.record_ack, alerts, silence_id, request.comment)
    return written


async def expire_silence(board: Board, desk: IncidentDesk, silence: Silence) -> SilenceWritten:
    """Expire a silence; AlertmanagerError when refused."""
    await board.expire_silence(silence)
    problems = await asyncio.to_thread(
        desk.record_silence,
        "silence.expired",
        silence.id,
        silence.matchers,
        f"Silence {silence.id} expired",
        board.alerts,
    )
    return SilenceWritten(f"Silence {silence.id} expired.", problems=problems)
