"""The simulator: the demo's churn, and silences with Alertmanager 0.25's semantics."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from oncall_tui.sim.scenario import CYCLE, SCRIPT, Scenario
from oncall_tui.sim.store import SimAlertmanager, SimError
from tests.conftest import SteppedClock, alert


def firing(store: SimAlertmanager, scenario: Scenario) -> dict[tuple[str, str], dict]:
    scenario.tick()
    return {(a["labels"]["alertname"], a["labels"].get("service", "")): a for a in store.get_alerts()}


def test_scenario_fires_resolves_and_refires(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    scenario = Scenario(store, start_phase=0)
    assert ("SLOViolation", "ml-api") not in firing(store, scenario)
    clock.advance(70)
    now = firing(store, scenario)
    assert {("SLOViolation", "ml-api"), ("HighErrorRate", "ml-api"), ("DiskWillFill", "")} <= now.keys()
    assert now[("HighLatency", "ml-api")]["status"]["state"] == "suppressed"  # inhibited by the critical
    assert now[("HighLatency", "ml-api")]["status"]["inhibitedBy"]
    first_start = now[("SLOViolation", "ml-api")]["startsAt"]
    clock.advance(200)  # phase 270: the SLO alert has resolved
    assert ("SLOViolation", "ml-api") not in firing(store, scenario)
    clock.advance(CYCLE - 200)  # the next cycle: it fires again, with a new start
    again = firing(store, scenario)[("SLOViolation", "ml-api")]
    assert again["startsAt"] > first_start


def test_every_scripted_alert_fires_within_a_cycle_and_names_a_runbook_when_actionable(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    scenario = Scenario(store, start_phase=0)
    seen = set()
    for _ in range(int(CYCLE // 5)):
        seen |= {a["fingerprint"] for a in (scenario.tick() or store.get_alerts())}
        clock.advance(5)
    assert len(seen) == len(SCRIPT)
    for scripted in SCRIPT:
        if scripted.labels["severity"] in ("critical", "warning"):
            assert scripted.annotations["runbook_url"].endswith(".md")


def test_silence_lifecycle_matches_alertmanager(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    store.post_alerts([alert("X", service="a"), alert("Y", service="a")])
    body = {
        "matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
        "startsAt": clock.now.isoformat(),
        "endsAt": (clock.now + timedelta(hours=1)).isoformat(),
        "createdBy": "alice",
        "comment": "c",
    }
    first = store.post_silence(body)
    by_name = {a["labels"]["alertname"]: a for a in store.get_alerts()}
    assert by_name["X"]["status"]["silencedBy"] == [first] and not by_name["Y"]["status"]["silencedBy"]
    assert store.post_silence({**body, "id": first, "comment": "longer"}) == first  # same matchers: same ID
    second = store.post_silence(
        {**body, "id": first, "matchers": [{"name": "alertname", "value": "Y", "isRegex": False}]}
    )
    assert second != first  # changed matchers: new ID, old one expired
    states = {s["id"]: s["status"]["state"] for s in store.get_silences()}
    assert states == {first: "expired", second: "active"}
    store.expire_silence(second)
    store.expire_silence(second)  # expiring twice is fine, as in Alertmanager
    with pytest.raises(SimError) as unknown:
        store.expire_silence("nope")
    assert unknown.value.status == 500
    with pytest.raises(SimError, match="must not match the empty string"):
        store.post_silence({**body, "matchers": [{"name": "a", "value": ".*", "isRegex": True}]})
    with pytest.raises(SimError) as missing:
        store.post_silence({**body, "id": "nope"})
    assert missing.value.status == 404


def test_alerts_resolve_at_ends_at(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    store.post_alerts([alert("X")])
    clock.advance(299)
    assert store.get_alerts()
    clock.advance(2)
    assert store.get_alerts() == []


def test_http_surface(sim) -> None:
    assert httpx.get(f"{sim.url}/-/ready").status_code == 200
    assert httpx.post(f"{sim.url}/api/v2/alerts", content=b"{nope").status_code == 400
    assert httpx.get(f"{sim.url}/api/v2/nothing").status_code == 404
    response = httpx.delete(f"{sim.url}/api/v2/silence/unknown")
    assert response.status_code == 500 and response.json() == "silence not found"
