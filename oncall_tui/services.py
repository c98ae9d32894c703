"""The console's services, built from the config in one place and handed to the screens: the
alerts board, the incident desk and who follows the alerts for it, who is on call, the runbook
library, PagerDuty. Tests build their own, or swap one for a fake."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.history import Fallback, History
from oncall_tui.core.alerts.history_store import HistoryRecorder, LocalHistory, default_gap, history_path
from oncall_tui.core.alerts.prometheus import PrometheusHistory
from oncall_tui.core.config import Config
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.following import PollFollower
from oncall_tui.core.oncall.now import OnCallNow
from oncall_tui.core.oncall.roster import Roster
from oncall_tui.core.pagerduty.incidents import PagerDutyProvider
from oncall_tui.core.pagerduty.rest import PagerDutyApi
from oncall_tui.core.paging.pagers import build_pager
from oncall_tui.core.runbooks.library import RunbookLibrary
from oncall_tui.core.timefmt import utc_now

READ_ONLY = "Read-only: started with --read-only, so nothing is sent or recorded."


class Relay:
    """A callback handed to a service before anyone listens: it passes each call on to
    `listener` once one is set (PagerDuty's "retrying in 4 s" reaches the screen that way),
    saying whether it came from a background thread (nobody waits on it: the header says it)
    or from an action the user is waiting for."""

    def __init__(self) -> None:
        self.listener: Callable[[str, bool], None] | None = None
        self._threads = threading.local()

    def in_background(self) -> None:
        """The calling thread works for nobody in particular (a sync, keeping pages)."""
        self._threads.background = True

    def __call__(self, message: str) -> None:
        if self.listener is not None:
            self.listener(message, getattr(self._threads, "background", False))


@dataclass(eq=False)
class Services:
    config: Config
    clock: Callable[[], datetime]
    board: Board
    desk: IncidentDesk
    follower: PollFollower
    oncall: OnCallNow
    library: RunbookLibrary
    pagerduty: PagerDutyApi | None
    """When on-call or incidents come from PagerDuty (built first, so a bad token file or CA
    bundle stops the console with one line before anything starts)."""
    waiting: Relay
    """What the PagerDuty clients say before they sleep to retry."""
    history: History
    """Where an alert's past is read: Prometheus (the local history when it cannot answer), or the local history."""
    recorder: HistoryRecorder | None
    """Writes the local history (None when read-only)."""
    read_only: bool = False
    dry_run: bool = False
    """Runbook steps are recorded and shown, never run."""
    is_demo: bool = False

    def refuses(self, say: Callable[..., None]) -> bool:
        """Whether a key that writes is refused (read-only); said with `say` (a `notify`)."""
        if self.read_only:
            say(READ_ONLY, severity="warning")
        return self.read_only

    async def aclose(self) -> None:
        if self.pagerduty:
            self.pagerduty.close()
        if self.recorder:
            await asyncio.to_thread(self.recorder.close)
        self.history.close()
        await self.board.aclose()


def local_history(config: Config, clock: Callable[[], datetime] = utc_now) -> LocalHistory:
    """The console's own record, `<data_dir>/history.sqlite3`, read."""
    return LocalHistory(history_path(config.data_dir), default_gap(config.poll_interval), clock)


def build_history(config: Config, clock: Callable[[], datetime] = utc_now) -> History:
    """Prometheus's `ALERTS` when `prometheus:` is set (the local history standing in while it
    cannot answer), else the local history. Raises HistoryError for a CA bundle it cannot use."""
    local = local_history(config, clock)
    if config.prometheus is None:
        return local
    return Fallback(PrometheusHistory(config.prometheus, clock), local)


BUSY_STALE_AFTER = 3
"""A busy Alertmanager's last answer stands for this many of its longest waits; then it is stale."""


def build_services(
    config: Config,
    *,
    read_only: bool = False,
    clock: Callable[[], datetime] = utc_now,
    dry_run: bool = False,
    is_demo: bool = False,
) -> Services:
    """Everything the console runs on, from `config`; ConfigError (one line) when it cannot."""
    board = Board(
        [AlertmanagerClient(source) for source in config.alertmanagers],
        clock=clock,
        resend_grace=config.alerts.resend_grace,
        busy_stale_after=BUSY_STALE_AFTER * max(config.poll_interval, config.alerts.max_poll_interval),
        whole_every=config.alerts.full_poll_interval,
    )
    waiting = Relay()
    pagerduty = None
    if config.pagerduty and "pagerduty" in (config.incidents.provider, config.oncall.provider):
        pagerduty = PagerDutyApi(config.pagerduty, config.user.email, waiting, clock)
    provider = PagerDutyProvider(pagerduty) if pagerduty and config.incidents.provider == "pagerduty" else None
    desk = IncidentDesk(
        config.data_dir,
        config.user.name,
        provider=provider,
        clock=clock,
        pager=build_pager(config, waiting),
        read_only=read_only,
    )
    desk.names |= {config.user.email} if config.user.email else set()
    oncall = OnCallNow(
        Roster(config.oncall), config.oncall.provider == "pagerduty", config.user.name, config.user.email or ""
    )
    desk.oncall = oncall.recorded
    return Services(
        config=config,
        clock=clock,
        board=board,
        desk=desk,
        follower=PollFollower(desk, config.incidents),
        oncall=oncall,
        library=RunbookLibrary(config.runbooks.dir),
        pagerduty=pagerduty,
        waiting=waiting,
        history=build_history(config, clock),
        recorder=None
        if read_only
        else HistoryRecorder(history_path(config.data_dir), config.history.keep, default_gap(config.poll_interval)),
        read_only=read_only,
        dry_run=dry_run,
        is_demo=is_demo,
    )
