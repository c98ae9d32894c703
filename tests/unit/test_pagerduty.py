"""The PagerDuty client and provider against the local HTTPS test server (real TLS, real HTTP)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.core.config import ConfigError, OnCall, PagerDuty, parse_config
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.oncall.roster import Roster
from oncall_tui.core.pagerduty.incidents import PagerDutyProvider, sync
from oncall_tui.core.pagerduty.rest import PagerDutyApi, PagerDutyError, levels_from_oncalls, wait_seconds
from oncall_tui.sim.pagerduty import PagerDutyServer
from tests.conftest import FROZEN, TOKEN, SteppedClock
from tests.pagerduty_world import api_for, pd_section

GUIDE_ONCALL = {
    "schedules": [
        {
            "name": "ML Platform On-Call",
            "time_zone": "America/Los_Angeles",
            "layers": [
                {
                    "name": "Weekly",
                    "start": "2024-01-01T00:00:00",
                    "rotation_virtual_start": "2024-01-01T00:00:00",
                    "rotation_turn_length_seconds": 604800,
                    "users": ["alice", "bob", "carol"],
                }
            ],
        }
    ],
    "escalation": [{"level": 1, "schedule": "ML Platform On-Call"}, {"level": 2, "users": ["dana"]}],
}


# -- config ---------------------------------------------------------------------------------------
BASE = "user: {name: alice, email: alice@example.com}\nalertmanagers: [{name: am, url: 'http://127.0.0.1:9093'}]\n"


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        (
            "incidents: {provider: pagerduty}",
            "incidents.provider is pagerduty, so a pagerduty: section (token, ids) is needed",
        ),
        (
            "incidents: {provider: pagerduty}\npagerduty: {token: t}",
            "incidents.provider is pagerduty: list pagerduty.service_ids",
        ),
        (
            "oncall: {provider: pagerduty}\npagerduty: {token: t}",
            "oncall.provider is pagerduty: list pagerduty.escalation_policy_ids or schedule_ids",
        ),
        (
            "pagerduty: {token: t, token_file: /f}",
            "pagerduty: give either token (write ${PAGERDUTY_API_KEY}) or token_file",
        ),
        (
            "pagerduty: {token: t, base_url: 'http://api.pagerduty.com'}",
            "pagerduty.base_url: 'http://api.pagerduty.com' is not an https URL like https://api.pagerduty.com (TLS is always used)",
        ),
        ("pagerduty: {token: [s3cr3t-in-a-list]}", "pagerduty.token: Input should be a valid string"),
    ],
)
def test_pagerduty_config_problems_are_one_line_each(yaml_text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + yaml_text, "config.yaml", env={})
    assert caught.value.problems == [f"config.yaml: {problem}"]
    assert "s3cr3t" not in str(caught.value)


def test_the_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    config = parse_config(BASE + "pagerduty: {token: '${PD_KEY}'}", "c", env={"PD_KEY": "abc"})
    assert config.pagerduty.read_token() == "abc" and "abc" not in repr(config)
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    config = parse_config(BASE + f"pagerduty: {{token_file: '{secret}'}}", "c", env={})
    assert config.pagerduty.read_token() == "from-a-file"


# -- on call --------------------------------------------------------------------------------
@pytest.mark.parametrize("days", [0, 2.7, 3, 10, 45])
def test_oncall_from_pagerduty_agrees_with_the_local_engine(
    pagerduty: PagerDutyServer, clock: SteppedClock, days: float
) -> None:
    clock.advance(days * 86400)
    api, _ = api_for(pagerduty, clock)
    remote = api.oncall_levels(clock())
    local = Roster(OnCall.model_validate(GUIDE_ONCALL)).levels(clock())
    assert [(lv.level, lv.users, lv.until, lv.next_users) for lv in remote] == [
        (lv.level, lv.users, lv.until, lv.next_users) for lv in local
    ]
    sent = pagerduty.account.requests[-1]
    assert sent["query"]["escalation_policy_ids[]"] == ["PPOL1"] and sent["query"]["include[]"] == ["users"]
    assert sent["query"]["earliest"] == ["true"]


def test_a_null_end_means_on_call_for_good() -> None:
    entry = {
        "escalation_policy": {"id": "P1", "type": "escalation_policy_reference", "summary": "Ops"},
        "escalation_level": 1,
        "user": {"id": "U1", "type": "user", "name": "dana"},
        "start": None,
        "end": None,
    }
    (level,) = levels_from_oncalls([entry], FROZEN)
    assert level.users == ("dana",) and level.until is None and level.next_users == ()


# -- errors and retries ------------------------------------------------------------------------
def test_a_wrong_token_is_one_clear_line_without_the_token(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, _ = api_for(pagerduty, clock, token="wrong-token-ABCDEF")
    with pytest.raises(PagerDutyError) as caught:
        api.open_incidents()
    assert str(caught.value).startswith("PagerDuty token rejected (HTTP 401")
    assert "ABCDEF" not in str(caught.value)


def test_403_is_token_rejected_too(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, _ = api_for(pagerduty, clock)
    pagerduty.account.fail("GET", "/incidents", 403)
    with pytest.raises(PagerDutyError, match=r"token rejected \(HTTP 403: not allowed"):
        api.open_incidents()


@pytest.mark.parametrize(
    ("headers", "said"), [({"ratelimit-reset": "0"}, "retrying in 1s"), ({"Retry-After": "1"}, "retrying in 1s")]
)
def test_a_429_burst_waits_as_told_and_says_so(
    pagerduty: PagerDutyServer, clock: SteppedClock, headers: dict[str, str], said: str
) -> None:
    api, waits = api_for(pagerduty, clock)
    pagerduty.account.fail("GET", "/incidents", 429, times=3, headers=headers)
    assert api.open_incidents() == []
    assert waits == [f"PagerDuty rate limited, {said}"] * 3


def test_rate_limited_for_good_gives_up(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, waits = api_for(pagerduty, clock)
    pagerduty.account.fail("GET", "/incidents", 429, times=50, headers={"ratelimit-reset": "0"})
    with pytest.raises(PagerDutyError, match="still rate limited after 5 tries"):
        api.open_incidents()
    assert len(waits) == 4


def test_wait_seconds_reads_both_headers_and_caps_them() -> None:
    assert wait_seconds({"ratelimit-reset": "17"}, FROZEN, 1) == 17
    assert wait_seconds({"retry-after": "Fri, 27 Nov 2026 14:32:35 GMT"}, FROZEN, 1) == 30
    assert wait_seconds({"retry-after": "86400"}, FROZEN, 1) == 60  # never hang for a day
    assert wait_seconds({"retry-after": "soon"}, FROZEN, 2) == 4  # unreadable: back off


def test_5xx_is_retried_a_bounded_number_of_times(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, waits = api_for(pagerduty, clock, retries=2)
    pagerduty.account.fail("GET", "/incidents", 503, times=2)
    assert api.open_incidents() == []  # third try answers
    pagerduty.account.fail("GET", "/incidents", 503, times=3)
    with pytest.raises(PagerDutyError, match=r"GET /incidents: HTTP 503 after 3 tries: Service Unavailable"):
        api.open_incidents()
    assert waits.count("PagerDuty answered HTTP 503, retrying") == 4


def test_unreachable_is_one_line(clock: SteppedClock) -> None:
    config = PagerDuty(token=TOKEN, base_url="https://127.0.0.1:9", retries=1)
    api = PagerDutyApi(config, "alice@example.com")
    api.backoff = 0.01
    with pytest.raises(PagerDutyError, match=r"cannot reach 127\.0\.0\.1") as caught:
        api.open_incidents()
    assert "\n" not in str(caught.value)


def test_tls_is_verified_without_the_ca_bundle(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, _ = api_for(pagerduty, clock, ca_bundle=None, retries=0)
    with pytest.raises(PagerDutyError, match="CERTIFICATE_VERIFY_FAILED"):
        api.open_incidents()
    assert not pagerduty.account.requests  # nothing was sent over the unverified connection


def test_a_bad_ca_bundle_is_one_line(tmp_path: Path, pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(PagerDutyError, match=r"pagerduty.ca_bundle: cannot use .*junk.pem"):
        api_for(pagerduty, clock, ca_bundle=str(junk))


def test_incident_writes_need_the_from_header(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, _ = api_for(pagerduty, clock, email=None)
    with pytest.raises(
        PagerDutyError, match=r"HTTP 400: Invalid Input Provided: A valid From header is required. \(code 2016\)"
    ):
        api.create_incident("x", "high", "INC-1", {})


def test_paging_follows_more(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    for n in range(130):
        pagerduty.account.open_incident(f"incident {n}", "PSVC1")
    api, _ = api_for(pagerduty, clock)
    assert [i["title"] for i in api.open_incidents()] == [f"incident {n}" for n in range(130)]
    offsets = [r["query"].get("offset") for r in pagerduty.account.requests if r["path"] == "/incidents"]
    assert offsets == [["0"], ["100"]]


def test_the_package_logs_nothing_to_the_terminal(
    pagerduty: PagerDutyServer, clock: SteppedClock, capfd: pytest.CaptureFixture[str]
) -> None:
    api, _ = api_for(pagerduty, clock, retries=1)
    pagerduty.account.fail("GET", "/incidents", 503, times=5)
    with pytest.raises(PagerDutyError):
        api.open_incidents()
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # stderr is the console's screen


# -- the provider: nothing is recorded unless PagerDuty confirmed it ------------------------------
def desk_for(pagerduty: PagerDutyServer, clock: SteppedClock, data: Path, **overrides: object) -> IncidentDesk:
    api, _ = api_for(pagerduty, clock, **overrides)
    return IncidentDesk(data, "alice", PagerDutyProvider(api), clock).load()


def test_every_action_goes_to_pagerduty_first(pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path) -> None:
    desk = desk_for(pagerduty, clock, tmp_path)
    incident = desk.declare("HighErrorRate: ml-api", severity="SEV-2")
    remote = pagerduty.account.incidents[incident.pagerduty["id"]]
    assert remote["incident_key"] == incident.id and remote["urgency"] == "high"
    desk.acknowledge(incident.id)
    assert remote["status"] == "acknowledged"
    desk.escalate(incident.id, ["dana"])
    assert remote["escalation_level"] == 2
    desk.reassign(incident.id, "bob@example.com")
    assert remote["assignments"][0]["assignee"]["id"] == "PUBOB"
    desk.note(incident.id, "rolled back ml-api to v41")
    assert [n["content"] for n in pagerduty.account.notes[remote["id"]]] == ["rolled back ml-api to v41"]
    desk.resolve(incident.id, "rollback")
    assert remote["status"] == "resolved"
    put = [r["body"] for r in pagerduty.account.requests if r["method"] == "PUT"][-1]
    assert put == {"incident": {"type": "incident_reference", "status": "resolved", "resolution": "rollback"}}
    assert all(r["from"] == "alice@example.com" for r in pagerduty.account.requests if r["method"] != "GET")
    kinds = [e.kind for e in desk.get(incident.id).events]
    assert kinds == [
        "incident.declared",
        "incident.acknowledged",
        "incident.escalated",
        "incident.reassigned",
        "note",
        "incident.resolved",
    ]


def test_a_failed_action_is_not_recorded_as_done_and_the_timeline_says_so(
    pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    desk = desk_for(pagerduty, clock, tmp_path, retries=1)
    incident = desk.declare("HighErrorRate", severity="SEV-2")
    pagerduty.account.fail("PUT", "/incidents", 503, times=2)
    with pytest.raises(IncidentError, match="HTTP 503 after 2 tries"):
        desk.acknowledge(incident.id)
    reloaded = IncidentDesk(tmp_path, "alice").load().get(incident.id)
    assert reloaded.status == "triggered" and reloaded.acknowledged_at is None
    failed = reloaded.events[-1]
    assert failed.kind == "incident.action_failed" and failed.data["action"] == "incident.acknowledged"
    assert "HTTP 503" in failed.summary
    desk.acknowledge(incident.id)  # PagerDuty is back: the same key works
    assert desk.get(incident.id).status == "acknowledged"


def test_a_refused_declaration_leaves_nothing(pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path) -> None:
    desk = desk_for(pagerduty, clock, tmp_path, token="wrong")
    with pytest.raises(IncidentError, match="token rejected"):
        desk.declare("HighErrorRate")
    assert desk.incidents == {} and list((tmp_path / "incidents").glob("*.jsonl")) == []


def test_a_lost_answer_to_a_declaration_does_not_open_two(
    pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    desk = desk_for(pagerduty, clock, tmp_path)
    pagerduty.account.fail("POST", "/incidents", 503, after_apply=True)  # created, but the answer is an error
    incident = desk.declare("HighErrorRate", severity="SEV-2")
    assert len(pagerduty.account.incidents) == 1
    assert incident.pagerduty["id"] == next(iter(pagerduty.account.incidents))


# -- the sync: one timeline for every responder --------------------------------------------------
def test_sync_adopts_follows_and_merges_once(pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path) -> None:
    account = pagerduty.account
    api, _ = api_for(pagerduty, clock)
    desk = IncidentDesk(tmp_path, "alice", PagerDutyProvider(api), clock).load()
    remote = account.open_incident("Checkout latency high", "PSVC1")  # from an integration
    opened = clock.now
    clock.advance(30)  # the console picks it up a while later
    told = sync(api, desk)
    (incident,) = desk.incidents.values()
    assert told == [f"{incident.id}: PagerDuty #1 Checkout latency high"]
    assert incident.pagerduty["id"] == remote["id"] and incident.events[0].who == "oncall-tui (pagerduty)"
    assert incident.declared_at == opened and incident.events[0].ts == clock.now  # measured from PagerDuty's time
    acked = clock.now
    # bob acknowledges in PagerDuty's web UI and writes a note; alice writes one from the console
    account.handle(
        "PUT",
        f"/incidents/{remote['id']}",
        {},
        {"authorization": f"Token token={TOKEN}", "from": "bob@example.com"},
        {"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    account.handle(
        "POST",
        f"/incidents/{remote['id']}/notes",
        {},
        {"authorization": f"Token token={TOKEN}", "from": "bob@example.com"},
        {"note": {"content": "checking the database"}},
    )
    desk.note(incident.id, "looking at the deploy")
    clock.advance(5)
    sync(api, desk)
    events = desk.get(incident.id).events
    summaries = [(e.actor, e.summary) for e in events]
    assert ("bob", "Acknowledged in PagerDuty (#1)") in summaries
    assert ("bob", "Note: checking the database") in summaries
    assert [s for _, s in summaries].count("Note: looking at the deploy") == 1  # ours, not merged back
    assert desk.get(incident.id).status == "acknowledged"
    assert desk.get(incident.id).acknowledged_at == acked  # when bob acknowledged, not when it was merged
    # again, and after a restart: nothing new
    sync(api, desk)
    restarted = IncidentDesk(tmp_path, "alice", PagerDutyProvider(api), clock).load()
    sync(api, restarted)
    assert [e.id for e in restarted.get(incident.id).events] == [e.id for e in events]
    # resolved elsewhere: gone from the open list, and recorded as resolved
    account.handle(
        "PUT",
        f"/incidents/{remote['id']}",
        {},
        {"authorization": f"Token token={TOKEN}", "from": "bob@example.com"},
        {"incident": {"type": "incident_reference", "status": "resolved"}},
    )
    resolved = clock.now
    clock.advance(9)
    sync(api, restarted)
    assert restarted.get(incident.id).status == "resolved" and restarted.get(incident.id).resolved_at == resolved


def test_this_consoles_own_actions_are_not_merged_twice(
    pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path
) -> None:
    api, _ = api_for(pagerduty, clock)
    desk = IncidentDesk(tmp_path, "alice", PagerDutyProvider(api), clock).load()
    incident = desk.declare("HighErrorRate", severity="SEV-2")
    desk.acknowledge(incident.id)
    desk.escalate(incident.id, ["dana"])
    sync(api, desk)
    assert not [e for e in desk.get(incident.id).events if e.kind == "pagerduty.log_entry"]


def test_the_token_is_in_no_file(pagerduty: PagerDutyServer, clock: SteppedClock, tmp_path: Path) -> None:
    desk = desk_for(pagerduty, clock, tmp_path, retries=0)
    incident = desk.declare("HighErrorRate")
    desk.note(incident.id, "note")
    pagerduty.account.fail("PUT", "/incidents", 503)
    with pytest.raises(IncidentError):
        desk.acknowledge(incident.id)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(errors="replace"), path
    assert TOKEN not in repr(PagerDuty.model_validate(pd_section(pagerduty)))


def test_a_short_window_has_no_handoff(pagerduty: PagerDutyServer, clock: SteppedClock) -> None:
    api, _ = api_for(pagerduty, clock)
    levels = api.oncall_levels(clock(), window=timedelta(hours=1))
    assert levels[0].users == ("bob",) and levels[0].until is None  # no handoff within the hour
    assert levels[0].next_users == ()
