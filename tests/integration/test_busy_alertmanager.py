"""A busy Alertmanager is not a dead one: the real Alertmanager 0.25, with room for two GETs
at a time (a poll asks for the alerts and the status at once), both held by clients that never
read their answers, turns the console's polls away."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.alerts_scale import realistic_alerts
from oncall_tui.ui.app import oncall_app
from tests.alertmanager_process import BINARY, RealAlertmanager, start_ready, stop  # noqa: F401
from tests.conftest import make_config, until

pytestmark = pytest.mark.skipif(BINARY is None, reason="prometheus-alertmanager is not installed")
ALERTS = 8_000
"""An answer of 6.6 MB: more than a loopback socket buffers (4 MB at most), so a reader that
stops holds it; answered in a second or two, in time for a 3 s interval."""


@pytest.fixture
def busy_am(tmp_path: Path) -> Iterator[RealAlertmanager]:
    am = RealAlertmanager(tmp_path, args=("--web.get-concurrency=2",)).start()
    try:
        batch = realistic_alerts(ALERTS)
        for i in range(0, len(batch), 1000):
            am.post_alerts(batch[i : i + 1000])
        yield am
    finally:
        am.stop()


def hold_slot(url: str, deadline: float) -> socket.socket:
    """A GET of every alert whose answer is never read past its status line, once Alertmanager
    has taken it into a slot: turned away (a console's poll had the slot), it is asked again."""
    parts = urlsplit(url)
    while True:
        held = socket.socket()
        held.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        held.settimeout(max(deadline - time.monotonic(), 0.1))
        held.connect((parts.hostname, parts.port))
        held.sendall(f"GET /api/v2/alerts HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        status = b""
        while len(status) < 12 and (got := held.recv(12 - len(status))):
            status += got
        if status.startswith(b"HTTP/1.1 200"):
            return held
        held.close()
        if time.monotonic() > deadline:
            raise AssertionError(f"could not take a slot of Alertmanager's: {status!r}")
        time.sleep(0.05)  # (a thread's: the console's poll that has the slot needs the core)


@asynccontextmanager
async def holding(url: str, slots: int = 2) -> AsyncIterator[None]:
    """Alertmanager's slots taken by answers that are never read (taken in a thread, so the
    console's own poll goes on meanwhile: while it has a slot, ours is turned away and asked again)."""
    with ExitStack() as stack:
        deadline = time.monotonic() + 60
        for _ in range(slots):
            stack.enter_context(closing(await asyncio.to_thread(hold_slot, url, deadline)))
        yield


async def test_a_busy_alertmanager_is_said_busy_its_alerts_stand_and_the_waits_grow_and_recover(
    busy_am: RealAlertmanager, tmp_path: Path
) -> None:
    config = make_config(busy_am.url, poll_interval="3s", alerts={"max_poll_interval": "6s"}, data_dir=str(tmp_path))
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)):
        await until(lambda: len(app.main.alert_list.alerts) == ALERTS, timeout=60, what="the alerts")
        status, pane = app.services.board.status["prod"], app.main.alerts
        async with holding(busy_am.url):
            await until(lambda: "HTTP 503" in (status.busy or ""), timeout=30, what="a poll turned away")
            assert status.error is None  # busy, not down
            await until(lambda: pane.schedules["prod"].ceiling >= 6.0, timeout=60, what="the waits to grow")
            assert len(app.main.alert_list.alerts) == ALERTS  # its last alerts stand ...
            assert not any(a.stale for a in app.services.board.alerts)  # ... not stale
            line = str(app.main.status_line.line(160))
            assert "prod ~ busy, answered" in line and "stale" not in line
        await until(lambda: not status.busy, timeout=60, what="an answer in time")
        await until(lambda: pane.schedules["prod"].ceiling == 3.0, timeout=60, what="the waits back to the interval")
        header = app.main.status_line
        await until(lambda: header.show() or "prod ✓" in str(header.line(160)), what="the header (read each second)")
        assert status.error is None
