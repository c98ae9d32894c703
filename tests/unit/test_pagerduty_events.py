"""The Events API v2 client against the local HTTPS Events server (real TLS, real HTTP), the
server's own rules, and both checked against the official schema when it is beside the repo."""

from __future__ import annotations

import json
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from oncall_tui.core.pagerduty.events import EventsApi, EventsError
from oncall_tui.sim.pagerduty_events import EventsServer, SimEventsService
from tests.conftest import FROZEN, ROUTING_KEY
from tests.contracts import require_events_contract, validate_events
from tests.pagerduty_world import events_api_for, events_config

KEY = "INC-20261127-0001-L2"


def page(api: EventsApi, dedup_key: str = KEY, **fields: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {"summary": "Page L2: HighErrorRate on ml-api", "severity": "critical", "source": "oncall-tui"}
    return api.trigger(dedup_key, **{**kw, **fields})


# -- the three events ---------------------------------------------------------------------------
def test_a_trigger_sends_the_event_the_api_wants(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events)
    answer = api.trigger(
        KEY,
        "Page L2: HighErrorRate on ml-api",
        "critical",
        "oncall-tui",
        custom_details={"incident": "INC-20261127-0001", "level": 2},
        links=[{"href": "https://grafana.example.com/d/ml-api", "text": "Dashboard"}],
        timestamp=FROZEN,
    )
    assert answer == {"status": "success", "message": "Event processed", "dedup_key": KEY}
    assert pagerduty_events.service.requests == [
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": KEY,
            "payload": {
                "summary": "Page L2: HighErrorRate on ml-api",
                "source": "oncall-tui",
                "severity": "critical",
                "timestamp": "2026-11-27T14:32:05.000Z",
                "custom_details": {"incident": "INC-20261127-0001", "level": 2},
            },
            "links": [{"href": "https://grafana.example.com/d/ml-api", "text": "Dashboard"}],
            "client": "oncall-tui",
        }
    ]
    alert = pagerduty_events.service.alert(KEY)
    assert alert is not None and (alert.status, alert.severity, alert.routing_key) == (
        "triggered",
        "critical",
        ROUTING_KEY,
    )
    assert waits == []


def test_acknowledge_then_resolve_move_the_alert_on(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    page(api)
    assert api.acknowledge(KEY)["dedup_key"] == KEY
    assert pagerduty_events.service.alert(KEY).status == "acknowledged"
    assert api.resolve(KEY)["dedup_key"] == KEY
    assert pagerduty_events.service.alert(KEY).status == "resolved"
    assert pagerduty_events.service.requests[1:] == [
        {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": KEY},
        {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": KEY},
    ]


def test_the_same_dedup_key_is_one_alert_until_it_is_resolved(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    service = pagerduty_events.service
    page(api)
    page(api, summary="Page L2 again")
    assert len(service.alerts_for(KEY)) == 1
    api.acknowledge(KEY)
    page(api)  # a trigger does not take an acknowledgement back
    assert service.alert(KEY).status == "acknowledged"
    api.resolve(KEY)
    page(api)  # after a resolve, the same key is a new alert
    assert [a.status for a in service.alerts_for(KEY)] == ["resolved", "triggered"]
    assert [e.outcome for e in service.events] == [
        "triggered",
        "deduplicated",
        "acknowledged",
        "deduplicated",
        "resolved",
        "triggered",
    ]


def test_acknowledge_or_resolve_without_an_open_alert_is_accepted_and_dropped(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    assert api.acknowledge("INC-never-paged-L1")["status"] == "success"  # 202: the API is asynchronous
    assert api.resolve("INC-never-paged-L1")["status"] == "success"
    assert [e.outcome for e in pagerduty_events.service.events] == ["dropped", "dropped"]
    assert pagerduty_events.service.alerts == []


def test_a_long_summary_is_cut_to_1024_characters(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    page(api, summary="x" * 5000)
    sent = pagerduty_events.service.requests[0]["payload"]["summary"]
    assert len(sent) == 1024 and sent.endswith("…") and sent.startswith("x" * 1023)
    page(api, "INC-2-L1", summary="y" * 1024)  # exactly the limit goes as it is
    assert pagerduty_events.service.requests[1]["payload"]["summary"] == "y" * 1024


def test_a_bad_severity_or_dedup_key_is_refused_before_anything_is_sent(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    with pytest.raises(EventsError, match=r"^PagerDuty Events: severity 'high' is not one of critical, error"):
        page(api, severity="high")
    with pytest.raises(EventsError, match="dedup_key must be 1 to 255 characters"):
        api.acknowledge("k" * 256)
    assert pagerduty_events.service.requests == []


# -- retries ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "said", "paused"),
    [({}, "retrying in 1s", 1.0), ({"Retry-After": "2"}, "retrying in 2s", 2.0)],
)
def test_a_429_is_retried_and_said(
    pagerduty_events: EventsServer, headers: dict[str, str], said: str, paused: float
) -> None:
    api, waits, pauses = events_api_for(pagerduty_events)
    pagerduty_events.fail(429, times=1, headers=headers)
    assert page(api)["status"] == "success"
    assert waits == [f"PagerDuty Events: HTTP 429 (rate limited); {said} (attempt 2 of 4)"]
    assert pauses == [paused]
    assert len(pagerduty_events.service.alerts_for(KEY)) == 1


@pytest.mark.parametrize(("status", "phrase"), [(500, "Internal Server Error"), (503, "Service Unavailable")])
def test_a_5xx_is_retried_with_a_growing_pause(pagerduty_events: EventsServer, status: int, phrase: str) -> None:
    api, waits, pauses = events_api_for(pagerduty_events)
    pagerduty_events.fail(status, times=2)
    assert api.resolve(KEY)["status"] == "success"
    assert waits == [
        f"PagerDuty Events: HTTP {status} ({phrase}); retrying in 1s (attempt 2 of 4)",
        f"PagerDuty Events: HTTP {status} ({phrase}); retrying in 2s (attempt 3 of 4)",
    ]
    assert pauses == [1.0, 2.0]


def test_a_lost_answer_retried_is_still_one_alert(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events)
    pagerduty_events.fail(500, after_apply=True)  # PagerDuty took the event in, the answer was a 500
    page(api)
    assert len(waits) == 1
    assert [e.outcome for e in pagerduty_events.service.events] == ["triggered", "deduplicated"]
    assert len(pagerduty_events.service.alerts_for(KEY)) == 1


def test_the_pause_doubles_up_to_30s_and_retry_after_is_capped(pagerduty_events: EventsServer) -> None:
    api, _, pauses = events_api_for(pagerduty_events, retries=7)
    pagerduty_events.fail(503, times=7)
    page(api)
    assert pauses == [1, 2, 4, 8, 16, 30, 30]
    pauses.clear()
    pagerduty_events.fail(429, headers={"Retry-After": "86400"})  # never hang a worker for a day
    pagerduty_events.fail(429, headers={"Retry-After": "Fri, 27 Nov 2026 14:32:05 GMT"})  # a date in the past
    page(api)
    assert pauses == [60, 0]


def test_the_backoff_base_is_settable(pagerduty_events: EventsServer) -> None:
    api, waits, pauses = events_api_for(pagerduty_events, retries=2)
    api.backoff = 0.01
    pagerduty_events.fail(503, times=2)
    page(api)
    assert pauses == [0.01, 0.02] and "retrying in 0.01s (attempt 2 of 3)" in waits[0]


def test_retries_exhausted_is_one_line(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events, retries=2)
    pagerduty_events.fail(503, times=10)
    with pytest.raises(EventsError) as caught:
        page(api)
    assert str(caught.value) == (
        "PagerDuty Events: HTTP 503 (Service Unavailable) after 3 attempts: "
        "The service is unavailable, retry after some time"
    )
    assert caught.value.status == 503 and len(waits) == 2
    assert pagerduty_events.service.alerts == []


def test_rate_limited_for_good_gives_up(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events, retries=0)
    pagerduty_events.fail(429, times=5)
    with pytest.raises(EventsError, match=r"^PagerDuty Events: HTTP 429 \(rate limited\) after 1 attempt: Too many"):
        page(api)
    assert waits == []


def test_an_invalid_event_is_one_line_and_not_retried(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events)
    with pytest.raises(EventsError) as caught:
        page(api, summary="   ")
    assert str(caught.value) == (
        "PagerDuty Events: HTTP 400: Event object is invalid ('payload.summary' is missing or blank)"
    )
    assert caught.value.status == 400 and "\n" not in str(caught.value)
    assert waits == [] and len(pagerduty_events.service.requests) == 1


def test_a_routing_key_no_integration_has_is_refused(pagerduty_events: EventsServer) -> None:
    other = "0" * 32
    api, waits, _ = events_api_for(pagerduty_events, routing_key=other)
    with pytest.raises(EventsError) as caught:
        page(api)
    assert str(caught.value) == "PagerDuty Events: HTTP 400: Invalid routing key"
    assert other not in str(caught.value) and waits == []


def test_a_routing_key_of_the_wrong_shape_is_refused_without_showing_it(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events, routing_key="u+REST-token-LEAK")
    with pytest.raises(EventsError) as caught:
        page(api)
    assert str(caught.value) == (
        "PagerDuty Events: HTTP 400: Event object is invalid (Length of 'routing_key' is incorrect "
        "(should be 32 characters); 'routing_key' cannot contain non-alphanumeric characters.)"
    )


# -- answers that are not a 202 success --------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (202, "<html>OK</html>", "HTTP 202, but the answer is not JSON (<html>OK</html>)"),
        (202, "", "HTTP 202, but the answer is not JSON (empty)"),
        (202, {"status": "queued", "message": "later"}, "HTTP 202, but the answer does not say success (later)"),
        (202, ["success"], "HTTP 202, but the answer does not say success (['success'])"),
        (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "someone-else"},
            "HTTP 202, but the answer names dedup_key 'someone-else', not 'INC-20261127-0001-L2'",
        ),
        (
            200,
            {"status": "success", "message": "Event processed", "dedup_key": KEY},
            "unexpected answer HTTP 200 (not 202 Accepted): Event processed",
        ),
        (301, "", "HTTP 301: Moved Permanently"),
        (404, "Not Found", "HTTP 404: Not Found"),
    ],
)
def test_only_a_202_success_is_success(pagerduty_events: EventsServer, status: int, body: Any, said: str) -> None:
    api, waits, _ = events_api_for(pagerduty_events)
    pagerduty_events.fail(status, body=body)
    with pytest.raises(EventsError) as caught:
        page(api)
    assert str(caught.value) == f"PagerDuty Events: {said}"
    assert caught.value.status == status and waits == []


# -- the network ------------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_retried_then_one_line(tmp_path: Path, pagerduty_events: EventsServer) -> None:
    port = _closed_port()
    config = events_config(pagerduty_events, url=f"https://127.0.0.1:{port}/v2/enqueue", retries=1)
    waits: list[str] = []
    api = EventsApi(config, waits.append)  # the real time.sleep, with a small backoff
    api.backoff = 0.01
    with pytest.raises(EventsError) as caught:
        page(api)
    text = str(caught.value)
    assert text.startswith(f"PagerDuty Events: cannot reach 127.0.0.1:{port} (") and text.endswith("after 2 attempts")
    assert "\n" not in text and caught.value.status is None
    assert waits and waits[0].endswith("retrying in 0.01s (attempt 2 of 2)")


def test_a_timeout_is_retried(pagerduty_events: EventsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api, waits, _ = events_api_for(pagerduty_events, timeout="2s")
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(202, json={"status": "success", "message": "Event processed", "dedup_key": KEY})

    monkeypatch.setattr(api, "_client", httpx.Client(transport=httpx.MockTransport(answer)))
    assert page(api)["status"] == "success"
    host = f"127.0.0.1:{pagerduty_events.server_address[1]}"
    assert waits == [f"PagerDuty Events: no answer from {host} within 2s; retrying in 1s (attempt 2 of 4)"]


def test_tls_is_verified_without_the_ca_bundle(pagerduty_events: EventsServer) -> None:
    api, waits, _ = events_api_for(pagerduty_events, ca_bundle=None)
    with pytest.raises(EventsError) as caught:
        page(api)
    host = f"127.0.0.1:{pagerduty_events.server_address[1]}"
    assert str(caught.value).startswith(f"PagerDuty Events: the TLS certificate of {host} is not trusted (")
    assert str(caught.value).endswith("give its CA in paging.pagerduty_events.ca_bundle")
    assert waits == []  # a certificate does not mend by itself
    assert pagerduty_events.service.requests == []  # nothing went over the unverified connection


def test_a_bad_ca_bundle_is_one_line(tmp_path: Path, pagerduty_events: EventsServer) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(EventsError, match=r"^paging.pagerduty_events.ca_bundle: cannot use .*junk.pem: "):
        events_api_for(pagerduty_events, ca_bundle=str(junk))


def test_a_closed_client_sends_nothing(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    api.close()
    with pytest.raises(EventsError, match="closed; the event was not sent"):
        page(api)
    assert pagerduty_events.service.requests == []


# -- the routing key is a secret ----------------------------------------------------------------------
ECHO = f"routing_key {ROUTING_KEY} is not allowed"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"status": "invalid event", "message": "Event object is invalid", "errors": [ECHO]}),
        (400, {"status": "invalid event", "message": ECHO.lower()}),  # in any case
        (403, ECHO),
        (503, {"status": "Service Unavailable", "message": ECHO}),
        (202, {"status": "success", "message": "Event processed", "dedup_key": ROUTING_KEY}),
        (202, f"<p>{ROUTING_KEY[:10]}\x1b[0m{ROUTING_KEY[10:]}</p>"),  # split by an escape sequence
        (400, {"status": "invalid event", "message": "x" * 180 + ROUTING_KEY}),  # where a cut would fall
        (202, "y" * 70 + ROUTING_KEY),
    ],
    ids=[
        "400-errors",
        "400-message-lowercase",
        "403-text",
        "503-retried",
        "202-as-dedup-key",
        "202-split",
        "400-at-the-cut",
        "202-at-the-cut",
    ],
)
def test_the_routing_key_is_in_no_error_even_when_the_answer_echoes_it(
    pagerduty_events: EventsServer, status: int, body: Any
) -> None:
    api, waits, _ = events_api_for(pagerduty_events, retries=1)
    pagerduty_events.fail(status, times=2, body=body)
    with pytest.raises(EventsError) as caught:
        page(api)
    for line in [str(caught.value), repr(caught.value), *waits]:
        assert ROUTING_KEY[:8].lower() not in line.lower(), line  # not even the start of it
    assert "<routing" in str(caught.value)  # hidden, then cut: "<routing …)"
    error = caught.value  # and no chained exception that a traceback would show
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.UnsupportedProtocol, httpx.TooManyRedirects])
def test_the_routing_key_is_in_no_network_error(
    pagerduty_events: EventsServer, monkeypatch: pytest.MonkeyPatch, error: type[httpx.HTTPError]
) -> None:
    api, waits, _ = events_api_for(pagerduty_events, retries=1)

    def fail(request: httpx.Request) -> httpx.Response:
        raise error(f"failed for https://events.example.com/v2/enqueue?key={ROUTING_KEY}", request=request)

    monkeypatch.setattr(api, "_client", httpx.Client(transport=httpx.MockTransport(fail)))
    with pytest.raises(EventsError) as caught:
        page(api)
    for line in [str(caught.value), *waits]:
        assert ROUTING_KEY not in line and "<routing key>" in line, line


def test_the_routing_key_is_in_no_config_text(pagerduty_events: EventsServer) -> None:
    api, _, _ = events_api_for(pagerduty_events)
    assert ROUTING_KEY not in repr(api.config) and ROUTING_KEY not in str(api.config)


# -- the server's own rules (a clean clone has no schema to lean on) ----------------------------------
GOOD = {
    "routing_key": ROUTING_KEY,
    "event_action": "trigger",
    "dedup_key": KEY,
    "payload": {"summary": "s", "source": "h", "severity": "info"},
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"routing_key": None}, "'routing_key' is missing or blank"),
        ({"routing_key": 42}, "'routing_key' must be a string"),
        ({"event_action": "escalate"}, "'event_action' must be one of trigger, acknowledge, resolve"),
        ({"event_action": None}, "'event_action' is missing or blank"),
        ({"event_action": "acknowledge", "dedup_key": None, "payload": None}, "'dedup_key' is missing or blank"),
        ({"event_action": "resolve", "dedup_key": "", "payload": None}, "'dedup_key' is missing or blank"),
        ({"dedup_key": "k" * 256}, "'dedup_key' is longer than 255 characters"),
        ({"dedup_key": 7}, "'dedup_key' must be a string"),
        ({"payload": None}, "'payload' is missing or blank"),
        ({"payload": "text"}, "'payload' must be an object"),
        ({"payload": {"source": "h", "severity": "info"}}, "'payload.summary' is missing or blank"),
        ({"payload": {"summary": "s", "severity": "info"}}, "'payload.source' is missing or blank"),
        ({"payload": {"summary": "s", "source": "h"}}, "'payload.severity' is missing or blank"),
        (
            {"payload": {**GOOD["payload"], "severity": "high"}},
            "'payload.severity' must be one of critical, error, warning, info",
        ),
        ({"payload": {**GOOD["payload"], "summary": "s" * 1025}}, "'payload.summary' is longer than 1024 characters"),
        (
            {"payload": {**GOOD["payload"], "timestamp": "yesterday"}},
            "'payload.timestamp' is not an ISO 8601 time with an offset",
        ),
        (
            {"payload": {**GOOD["payload"], "timestamp": "2026-11-27T14:32:05"}},
            "'payload.timestamp' is not an ISO 8601 time with an offset",
        ),
        ({"payload": {**GOOD["payload"], "custom_details": "x"}}, "'payload.custom_details' must be an object"),
        ({"links": [{"text": "no href"}]}, "'links' must be a list of objects, each with a 'href' string"),
        ({"images": "x"}, "'images' must be a list of objects, each with a 'src' string"),
        ({"client": 1}, "'client' must be a string"),
    ],
)
@pytest.mark.parametrize("with_schema", [False, True])
def test_the_server_refuses_what_the_real_api_refuses(change: dict[str, Any], problem: str, with_schema: bool) -> None:
    if with_schema:
        require_events_contract()
    service = SimEventsService([ROUTING_KEY], contract=None) if not with_schema else SimEventsService([ROUTING_KEY])
    event = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    status, body, _ = service.handle(json.dumps(event).encode())
    assert status == 400
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert problem in body["errors"]
    assert service.events == [] and service.alerts == []


def test_an_alert_belongs_to_the_integration_that_triggered_it() -> None:
    other = "1" * 32
    service = SimEventsService([ROUTING_KEY, other], contract=None)
    assert service.handle(json.dumps(GOOD).encode())[0] == 202
    ack = {"routing_key": other, "event_action": "acknowledge", "dedup_key": KEY}
    assert service.handle(json.dumps(ack).encode())[0] == 202
    assert service.alert(KEY).status == "triggered"  # PagerDuty drops it: another integration's event
    assert [e.outcome for e in service.events] == ["triggered", "dropped"]


@pytest.mark.parametrize("stamp", ["2015-07-17T08:42:58.315+0000", "2026-11-27T14:32:05Z", "2026-11-27T15:32:05+01:00"])
def test_the_server_takes_iso_8601_times_and_makes_a_dedup_key(stamp: str) -> None:
    service = SimEventsService([ROUTING_KEY], contract=None)
    event = {k: v for k, v in GOOD.items() if k != "dedup_key"}
    event["payload"] = {**GOOD["payload"], "timestamp": stamp}
    status, body, _ = service.handle(json.dumps(event).encode())
    assert status == 202 and len(body["dedup_key"]) == 32 and service.alert(body["dedup_key"]) is not None


def test_a_body_that_is_not_json_is_unrecognized(pagerduty_events: EventsServer) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(pagerduty_events.ca_path))) as client:
        answer = client.post(pagerduty_events.enqueue_url, content=b"routing_key=abc")
        wrong_path = client.post(pagerduty_events.url + "/v2/nowhere", json=GOOD)
    assert answer.status_code == 400 and answer.json() == {
        "status": "Unrecognized object",
        "message": "Event object format is unrecognized",
        "errors": ["JSON parse error"],
    }
    assert wrong_path.status_code == 404 and pagerduty_events.service.events == []


# -- the contract ----------------------------------------------------------------------------------------
def test_the_validator_rejects_what_the_schema_forbids() -> None:
    require_events_contract()
    with pytest.raises(jsonschema.ValidationError):
        validate_events({**GOOD, "event_action": "escalate"})
    with pytest.raises(jsonschema.ValidationError):
        validate_events({**GOOD, "payload": {"summary": "s", "source": "h"}})
    with pytest.raises(jsonschema.ValidationError):
        validate_events({"message": "no status"}, 202)
    with pytest.raises(jsonschema.ValidationError):
        validate_events({"status": "invalid event"}, 400)


def test_every_event_sent_and_every_answer_fits_the_schema(pagerduty_events: EventsServer) -> None:
    require_events_contract()
    service = pagerduty_events.service
    assert service.schema is not None  # with the contract beside the repo, the server checks by it too
    api, _, _ = events_api_for(pagerduty_events)
    page(
        api,
        custom_details={"incident": "INC-20261127-0001"},
        links=[{"href": "https://example.com/runbook", "text": "Runbook"}],
        timestamp=datetime(2026, 11, 27, 14, 32, 5, 123000, tzinfo=UTC),
    )
    page(api, summary="z" * 4000)
    api.acknowledge(KEY)
    api.resolve(KEY)
    api.resolve("INC-never-paged-L1")
    pagerduty_events.fail(429)
    pagerduty_events.fail(500, after_apply=True)
    pagerduty_events.fail(503)
    page(api, "INC-20261127-0002-L1")
    with pytest.raises(EventsError):
        page(api, "INC-3-L1", summary="")
    unknown, _, _ = events_api_for(pagerduty_events, routing_key="0" * 32)
    with pytest.raises(EventsError):
        page(unknown)
    for body in service.requests:
        validate_events(body)
        assert body["routing_key"] and body["event_action"] and body["dedup_key"]  # what the console relies on
    statuses = set()
    for answer in service.answers:
        statuses.add(answer["status"])
        if isinstance(answer["body"], str):  # the plain-text "Invalid routing key", as the real API sends it
            assert (answer["status"], answer["body"]) == (400, "Invalid routing key")
            continue
        validate_events(answer["body"], answer["status"])
    assert statuses == {202, 400, 429, 500, 503}
