"""The simulator answers, and the console asks, as the official Alertmanager 0.25 API says.

The same checks run against the real Alertmanager in tests/integration, which keeps the
schema handling itself honest.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import jsonschema
import pytest

from oncall_tui.core.alerts.models import SilenceMatcher, SilenceRequest
from oncall_tui.sim.scenario import start_demo
from tests.conftest import FROZEN, SteppedClock
from tests.contracts import require_contracts, validate


@pytest.fixture(autouse=True)
def _contracts() -> None:
    require_contracts()


def test_the_validator_rejects_what_the_schema_forbids() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate([{"labels": {"a": "b"}}], "gettableAlerts")  # no fingerprint, status, ...
    with pytest.raises(jsonschema.ValidationError):
        validate({"matchers": [], "startsAt": "x", "endsAt": "y", "createdBy": "a", "comment": "c"}, "postableSilence")


def test_simulator_responses_fit_the_contract(clock: SteppedClock) -> None:
    server = start_demo(clock=clock)
    try:
        alerts = httpx.get(f"{server.url}/api/v2/alerts").json()
        assert alerts
        validate(alerts, "gettableAlerts")
        validate(httpx.get(f"{server.url}/api/v2/status").json(), "alertmanagerStatus")
        body = SilenceRequest(
            (SilenceMatcher("alertname", "SLOViolation"), SilenceMatcher("service", "ml-.*", is_regex=True)),
            clock.now,
            clock.now + timedelta(hours=1),
            "alice",
            "contract",
        ).to_api()
        validate(body, "postableSilence")  # what the console sends
        created = httpx.post(f"{server.url}/api/v2/silences", json=body).json()
        assert set(created) == {"silenceID"}
        silences = httpx.get(f"{server.url}/api/v2/silences").json()
        validate(silences, "gettableSilences")
        validate(httpx.get(f"{server.url}/api/v2/silence/{created['silenceID']}").json(), "gettableSilence")
        silenced = [a for a in httpx.get(f"{server.url}/api/v2/alerts").json() if a["status"]["silencedBy"]]
        validate(silenced, "gettableAlerts")
        assert [a["labels"]["alertname"] for a in silenced] == ["SLOViolation"]
    finally:
        server.stop()


def test_edited_silence_body_fits_the_contract() -> None:
    body = SilenceRequest((SilenceMatcher("a", "b", is_equal=False),), FROZEN, FROZEN, "x", "y", id="abc").to_api()
    validate(body, "postableSilence")
    assert body["id"] == "abc" and body["matchers"][0]["isEqual"] is False
