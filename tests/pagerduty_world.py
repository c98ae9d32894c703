"""The local HTTPS PagerDuty servers (REST on the guide's team, and Events API v2), and configs
and clients that point at them."""

from __future__ import annotations

from typing import Any

from oncall_tui.core.config import PagerDuty, PagerDutyEvents
from oncall_tui.core.pagerduty.events import EventsApi
from oncall_tui.core.pagerduty.rest import PagerDutyApi
from oncall_tui.sim.pagerduty import PagerDutyServer
from oncall_tui.sim.pagerduty_events import EventsServer
from tests.conftest import ROUTING_KEY, TOKEN, SteppedClock


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


def events_config(server: EventsServer, **overrides: Any) -> PagerDutyEvents:
    """`paging.pagerduty_events` pointing at the local Events API server, trusting its CA."""
    raw: dict[str, Any] = {
        "routing_key": ROUTING_KEY,
        "url": server.enqueue_url,
        "ca_bundle": str(server.ca_path),
        "timeout": "5s",
        "retries": 3,
    }
    raw.update(overrides)
    return PagerDutyEvents.model_validate(raw)


def events_api_for(server: EventsServer, **overrides: Any) -> tuple[EventsApi, list[str], list[float]]:
    """A client, the list its "retrying" messages go to, and the pauses it asked for (recorded,
    not slept: the pauses are checked, and the tests stay fast)."""
    waits: list[str] = []
    pauses: list[float] = []
    api = EventsApi(events_config(server, **overrides), waits.append, pauses.append)
    return api, waits, pauses
