"""A week of alert history, recorded as the console records it: a simulator polled on a
stepped clock, every change written by the real `HistoryRecorder`."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.history_store import HistoryRecorder, history_path
from oncall_tui.core.private import private_dir
from oncall_tui.sim.server import SimServer
from tests.conftest import SteppedClock, alert, make_config

DISK = {"alertname": "DiskWillFill", "severity": "warning", "service": "db"}


_MADE: dict[datetime, Path] = {}
"""The weeks already recorded in this process, by their end: recorded once, copied after."""


async def a_week_of_history(sim: SimServer, clock: SteppedClock, data_dir: Path) -> None:
    """Ends at the clock's time, with DiskWillFill firing (recorded once per process and end,
    then copied: the recording takes seconds). Watched for the first two days and
    the last two (nobody between); in them it fired 20 minutes every 6 hours, and in the last
    hour it flapped: 5 minutes firing, 10 quiet, three times."""
    end = clock.now
    made = _MADE.get(end)
    if made is not None:
        private_dir(data_dir, tighten=False)
        shutil.copyfile(made, history_path(data_dir))
        os.chmod(history_path(data_dir), 0o600)
        sim.store.post_alerts([alert(DISK["alertname"], DISK["severity"], service=DISK["service"])])
        return
    await _record_a_week(sim, clock, data_dir, end)
    kept = Path(tempfile.mkdtemp(prefix="history-week-")) / "history.sqlite3"
    shutil.copyfile(history_path(data_dir), kept)
    _MADE[end] = kept


async def _record_a_week(sim: SimServer, clock: SteppedClock, data_dir: Path, end: datetime) -> None:
    clock.now = end - timedelta(days=7)
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock)
    recorder = HistoryRecorder(history_path(data_dir), keep=90 * 86400, gap=7200)

    firing = False

    async def poll() -> None:
        if firing:  # resent, as Prometheus resends what fires (or it would end at its endsAt)
            sim.store.post_alerts([alert(DISK["alertname"], DISK["severity"], service=DISK["service"])])
        await board.poll_once()
        recorder.record(board.sightings)

    async def watch(until: timedelta) -> None:
        """Until `end - until`: fire for 20 minutes every 6 hours, polled while it fires and hourly."""
        while clock.now < end - until:
            nonlocal firing
            cycle, firing = clock.now, True
            for _ in range(5):  # polled every 4 minutes while it fires (resent within its endsAt)
                await poll()
                clock.advance(240)  # last seen firing 16 minutes in
            firing = False
            sim.store.resolve(DISK)
            await poll()
            while clock.now < cycle + timedelta(hours=6) and clock.now < end - until:
                clock.advance(min(3600, (cycle + timedelta(hours=6) - clock.now).total_seconds()))
                await poll()

    await watch(timedelta(days=5))
    sim.store.resolve(DISK)
    clock.now = end - timedelta(days=2)  # nobody watched for three days
    await watch(timedelta(hours=1))
    for _ in range(3):  # the last hour: it flaps
        firing = True
        await poll()
        clock.advance(240)
        await poll()
        clock.advance(60)
        firing = False
        sim.store.resolve(DISK)
        await poll()
        clock.advance(600)
    clock.now, firing = end, True
    await poll()
    recorder.close()
    await board.aclose()
