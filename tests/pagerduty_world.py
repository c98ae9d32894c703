"""The local HTTPS PagerDuty server, on the guide's team, and configs that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.core.config import PagerDuty
from oncall_tui.core.pagerduty import PagerDutyApi
from oncall_tui.sim.pagerduty import PagerDutyServer, SimPagerDuty, guide_account
from tests.conftest import SteppedClock

TOKEN = "pd-test-token-SECRET-7f3a9c"  # grep-able: it must never reach a file, a log or the screen


@pytest.fixture
def pagerduty(clock: SteppedClock, tmp_path: Path) -> Iterator[PagerDutyServer]:
    certs = tmp_path / "certs"
    certs.mkdir()
    with PagerDutyServer(guide_account(TOKEN, clock), certs) as server:
        yield server


def account(server: PagerDutyServer) -> SimPagerDuty:
    return server.account


def pd_section(server: PagerDutyServer, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "token": TOKEN,
        "base_url": server.url,
        "ca_bundle": str(server.ca_path),
        "escalation_policy_ids": ["PPOL1"],
        "service_ids": ["PSVC1"],
        "retries": 2,
        "poll_interval": "0.3s",
    }
    raw.update(overrides)
    return raw


def api_for(
    server: PagerDutyServer, clock: SteppedClock, email: str | None = "alice@example.com", **overrides: Any
) -> tuple[PagerDutyApi, list[str]]:
    """A client, and the list its "retrying" messages go to."""
    waits: list[str] = []
    api = PagerDutyApi(PagerDuty.model_validate(pd_section(server, **overrides)), email, waits.append, clock)
    api.backoff = 0.01
    return api, waits
