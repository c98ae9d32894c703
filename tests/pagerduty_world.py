"""The local HTTPS PagerDuty server, on the guide's team, and configs that point at it."""

from __future__ import annotations

from typing import Any

from oncall_tui.core.config import PagerDuty
from oncall_tui.core.pagerduty import PagerDutyApi
from oncall_tui.sim.pagerduty import PagerDutyServer
from tests.conftest import TOKEN, SteppedClock


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
