"""Shared fixtures: the simulator on a loopback port, configs, and waiting for conditions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oncall_tui.core.config import Config

if TYPE_CHECKING:
    from oncall_tui.ui.app import OncallApp
from oncall_tui.sim.pagerduty import PagerDutyServer, guide_account
from oncall_tui.sim.pagerduty_events import EventsServer, SimEventsService
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager

ROOT = Path(__file__).resolve().parent.parent
FROZEN = datetime(2026, 11, 27, 14, 32, 5, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="session")
def _utc() -> None:
    """Local time is shown beside UTC; pin it so screens are the same on every machine."""
    os.environ["TZ"] = "UTC"
    time.tzset()


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps its incident journals to itself, never in the user's data dir."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


class SteppedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = FROZEN) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def sim(clock: SteppedClock) -> Iterator[SimServer]:
    """An empty simulator on a free loopback port, on the stepped clock."""
    with SimServer(SimAlertmanager(clock=clock)) as server:
        yield server


def make_config(*urls: str, **overrides: object) -> Config:
    raw: dict[str, object] = {
        "user": {"name": "alice", "email": "alice@example.com"},
        "alertmanagers": [
            {"name": f"am{i}" if i else "prod", "url": url, "timeout": "2s"} for i, url in enumerate(urls)
        ],
        "poll_interval": "0.2s",
        "alerts": {"max_poll_interval": "1s"},  # a loaded test machine's slow answer costs a second at most
        "runbooks": {"dir": str(ROOT / "runbooks")},  # the shipped ones, wherever pytest runs from
    }
    if isinstance(overrides.get("alerts"), dict):  # the test's alerts: settings, over the short max_poll_interval
        overrides = {**overrides, "alerts": {**raw["alerts"], **overrides["alerts"]}}  # type: ignore[dict-item]
    raw.update(overrides)
    return Config.model_validate(raw)


def alert(name: str, severity: str = "warning", annotations: dict[str, str] | None = None, **labels: str) -> dict:
    """A postable alert, as Prometheus would send it."""
    return {"labels": {"alertname": name, "severity": severity, **labels}, "annotations": annotations or {}}


def notes(app: OncallApp) -> list[str]:
    """The notifications the console has shown, oldest first. `notify` posts a message, so a
    notice from a worker shows up a moment later: wait for it with `until`."""
    return [n.message for n in app._notifications]


async def steps_settled(app: OncallApp) -> None:
    """Every runbook step has ended and the console has taken it in: a step's worker returns
    only after its end was shown on the UI thread (the notice, the next step selected)."""
    await until(lambda: all(w.is_finished for w in app.workers if w.group == "steps"), what="the steps to end")


async def until(
    predicate: Callable[[], bool],
    timeout: float = 30.0,
    what: str = "condition",
    seen: Callable[[], object] | None = None,
) -> None:
    """Wait for a condition (not for a time): poll it every 20 ms, fail after `timeout`, saying
    what `seen` returns then (what there was instead)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            instead = f"; instead: {seen()!r}" if seen else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{instead}")
        await asyncio.sleep(0.02)


TOKEN = "pd-test-token-SECRET-7f3a9c"  # grep-able: it must never reach a file, a log or the screen


@pytest.fixture
def pagerduty(clock: SteppedClock, tmp_path: Path) -> Iterator[PagerDutyServer]:
    """The local HTTPS PagerDuty server on the guide's team, on the stepped clock."""
    certs = tmp_path / "certs"
    certs.mkdir()
    with PagerDutyServer(guide_account(TOKEN, clock), certs) as server:
        yield server


ROUTING_KEY = "R0utingKeySECRET7f3a9c5e1d2b4a60"  # 32 alphanumerics, as PagerDuty's are; grep-able like TOKEN


@pytest.fixture
def pagerduty_events(clock: SteppedClock, tmp_path: Path) -> Iterator[EventsServer]:
    """The local HTTPS Events API v2 server, with one integration (ROUTING_KEY), on the stepped clock."""
    certs = tmp_path / "events-certs"
    certs.mkdir()
    with EventsServer(SimEventsService([ROUTING_KEY], clock), certs) as server:
        yield server


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs (needs root, as CI and these machines have): room for a journal and the alert history."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
