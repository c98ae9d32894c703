"""The client turns every kind of failure into one line naming the source, never a crash."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from oncall_tui.core.alerts.alertmanager import AlertmanagerBusyError, AlertmanagerClient, AlertmanagerError
from oncall_tui.core.alerts.models import Alert, PayloadError
from oncall_tui.core.config import AlertmanagerSource
from tests.misbehaving import Misbehaving


@pytest.fixture
def broken() -> Iterator[Misbehaving]:
    server = Misbehaving()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("status:503", "prod: HTTP 503, turned away: upstream ⟨ESC⟩[31mexploded⟨ESC⟩[0m second line"),
        ("status:404", "prod: HTTP 404 from /api/v2/alerts: upstream ⟨ESC⟩[31mexploded⟨ESC⟩[0m second line"),
        ("not-json", "prod: response from /api/v2/alerts is not JSON"),
        ("wrong-shape", "prod: unexpected response: expected a list of alerts, got dict"),
        ("item-shape", "prod: unexpected response: alert f.labels.a: expected a string"),
    ],
)
async def test_misbehaving_server_gives_one_clean_line(broken: Misbehaving, mode: str, message: str) -> None:
    broken.mode = mode
    async with AlertmanagerClient(AlertmanagerSource(name="prod", url=broken.url)) as client:
        with pytest.raises(AlertmanagerError) as caught:
            await client.alerts()
    assert str(caught.value) == message
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "header", "wait"),
    [
        (503, None, None),
        (503, "7", 7.0),
        (429, "in 30 s", 30.0),  # an HTTP date 30 s after its own Date header
        (429, "soon", None),
        (503, "99999999", 86400.0),  # a day at most
    ],
)
async def test_a_busy_alertmanager_is_busy_not_down(
    broken: Misbehaving, status: int, header: str | None, wait: float | None
) -> None:
    broken.mode = f"status:{status}"
    if header == "in 30 s":
        header = format_datetime(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30), usegmt=True)
    broken.headers = {"Retry-After": header} if header else {}
    async with AlertmanagerClient(AlertmanagerSource(name="prod", url=broken.url)) as client:
        with pytest.raises(AlertmanagerBusyError, match=rf"^prod: HTTP {status}, turned away: upstream") as caught:
            await client.alerts()
    assert caught.value.retry_after == (pytest.approx(wait, abs=1.5) if wait else wait)


async def test_timeouts_are_bounded(broken: Misbehaving) -> None:
    broken.mode = "hang"
    async with AlertmanagerClient(AlertmanagerSource(name="prod", url=broken.url, timeout="300ms")) as client:
        with pytest.raises(AlertmanagerError, match=r"^prod: timed out after 300ms$"):
            await client.alerts()


async def test_unreachable() -> None:
    source = AlertmanagerSource(name="prod", url=f"http://127.0.0.1:{free_port()}")
    async with AlertmanagerClient(source) as client:
        with pytest.raises(AlertmanagerError, match=r"^prod: unreachable \("):
            await client.alerts()


def _gettable(i: int, value: str) -> dict:
    """One alert as Alertmanager writes it: its fields in Go's order, annotations first."""
    return {
        "annotations": {"summary": value},
        "endsAt": "2026-11-27T15:32:05.000Z",
        "fingerprint": f"{i:016x}",
        "receivers": [{"name": "null"}],
        "startsAt": "2026-11-27T14:32:05.123Z",
        "status": {
            "inhibitedBy": [],
            "silencedBy": ["s1"] if i % 3 == 0 else [],
            "state": "suppressed" if i % 3 == 0 else "active",
        },
        "updatedAt": "2026-11-27T14:32:05.123Z",
        "generatorURL": "http://prometheus/graph",
        "labels": {"alertname": "X", "n": str(i), "tricky": value},
    }


def test_the_typed_decoding_reads_what_the_careful_one_reads() -> None:
    """Chunked at item boundaries, whatever the values hold (the boundary itself, quotes, escapes)."""
    from oncall_tui.core.alerts.alertmanager import CHUNK, _json_items, _typed_alerts

    values = ['},{"annotations":', '"}]', "\\", "\x1b[31m", "ü ✓", ""]
    items = [_gettable(i, values[i % len(values)]) for i in range(CHUNK * 2 + 7)]
    body = json.dumps(items, separators=(",", ":")).encode()
    decoded = _typed_alerts(body, "prod")
    assert decoded is not None
    typed, known = decoded
    assert len(typed) == len(items) == len(known)
    assert typed == [Alert.from_api(item, "prod") for item in _json_items(body, "alerts")]
    assert {a.state for a in typed} == {"silenced", "active"}


def test_an_alert_whose_json_is_unchanged_is_not_decoded_again() -> None:
    """The next answer reuses the Alert of each item as it was (wherever it now stands), and
    decodes what changed: what comes out is what the careful parser reads, hostile values too."""
    from oncall_tui.core.alerts.alertmanager import _json_items, _parse_alerts

    values = ['},{"annotations":', '"}]', "\\", "\x1b[31m", "ü ✓", ""]
    items = [_gettable(i, values[i % len(values)]) for i in range(1200)]
    items[10]["status"] = {"inhibitedBy": ["aa01"], "silencedBy": [], "state": "suppressed"}
    items[11]["status"] = {"inhibitedBy": ["aa01"], "silencedBy": ["s1"], "state": "suppressed"}
    items[12]["status"] = {"inhibitedBy": ['not "hex'], "silencedBy": [], "state": "suppressed"}
    items[13]["status"] = {"inhibitedBy": [f"{1:016x}"], "silencedBy": [], "state": "suppressed"}
    items[14]["status"] = {"inhibitedBy": [f"{299:016x}"], "silencedBy": [], "state": "suppressed"}
    first, known = _parse_alerts(json.dumps(items, separators=(",", ":")).encode(), "prod")
    items[10]["status"]["inhibitedBy"] = ["bb02", "aa01"]  # Alertmanager names another (or two)
    items[11]["status"]["inhibitedBy"] = []  # silenced still, inhibited no more
    items[12]["status"]["inhibitedBy"] = ['not "hex', "cc"]
    items[13]["status"]["inhibitedBy"] = [f"{2:016x}"]  # another, while the one it named still fires
    items[14]["status"]["inhibitedBy"] = [f"{2:016x}"]  # another, the one it named gone (below)
    items[5]["endsAt"] = "2026-11-27T15:33:05.000Z"  # re-sent: a new endsAt
    items[700]["status"] = {"inhibitedBy": ["x"], "silencedBy": [], "state": "suppressed"}
    items.insert(0, items.pop(900))  # first now
    items.append(_gettable(5000, '},{"annotations":'))  # new, last
    del items[300]  # (299, the one 14 named)
    body = json.dumps(items, separators=(",", ":")).encode()
    second, known = _parse_alerts(body, "prod", known)
    careful = [Alert.from_api(item, "prod") for item in _json_items(body, "alerts")]
    still = f"{13:016x}"  # inhibited by the one it named still: as it was, not as named now
    assert [a for a in second if a.fingerprint != still] == [a for a in careful if a.fingerprint != still]
    before = {a.fingerprint: a for a in first}
    assert next(a for a in second if a.fingerprint == still) is before[still]
    assert before[still].inhibited_by == (f"{1:016x}",) and before[still].state == "inhibited"
    fresh = {a.fingerprint for a in second if a is not before.get(a.fingerprint)}
    changed = {f"{i:016x}" for i in (5, 700, 5000, 10, 11, 12, 14)}  # the first and the one once last: reused
    assert fresh == changed and next(a for a in second if a.fingerprint == f"{10:016x}").inhibited_by == (
        "bb02",
        "aa01",
    )
    assert second[0].fingerprint == f"{900:016x}" and second[-2].fingerprint == f"{1199:016x}"
    assert len(known) == len(second)


async def test_an_alertmanager_reloaded_has_its_inhibitors_read_afresh() -> None:
    """Alertmanager names the inhibitor of the first of its rules that inhibits an alert. Kept
    from the answer before while it still fires, that name could be another rule's after a
    reload: a new config (as its status says) has every alert read afresh."""
    import httpx

    inhibitors = ["a" * 16]
    configs = ["inhibit_rules: [kind=x, kind=z]"]
    z = "b" * 16

    def answered(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/status":
            version = {"version": "0.25.0"}
            return httpx.Response(
                200, json={"uptime": "2026-11-27T14:00:00Z", "versionInfo": version, "config": {"original": configs[0]}}
            )
        items = [_gettable(i, "v") for i in range(3)]
        items[0]["fingerprint"], items[1]["fingerprint"] = "a" * 16, z
        items[2]["status"] = {"inhibitedBy": inhibitors, "silencedBy": [], "state": "suppressed"}
        return httpx.Response(200, content=json.dumps(items, separators=(",", ":")).encode())

    source = AlertmanagerSource(name="prod", url="http://prod")
    async with AlertmanagerClient(source, transport=httpx.MockTransport(answered)) as client:
        first = (await client.answer()).alerts[2]
        inhibitors[:] = [z]  # another rule's, while the first one's source still fires
        assert (await client.answer()).alerts[2] is first  # the same rules: still true of it, kept
        configs[0] = "inhibit_rules: [kind=z]"
        assert (await client.answer()).alerts[2].inhibited_by == (z,)


def test_what_the_typed_decoding_refuses_the_careful_one_names() -> None:
    from oncall_tui.core.alerts.alertmanager import _parse_alerts, _typed_alerts

    items = [_gettable(i, "v") for i in range(3)]
    good = _typed_alerts(json.dumps(items, separators=(",", ":")).encode(), "prod")
    items[2]["labels"]["n"] = 7
    body = json.dumps(items, separators=(",", ":")).encode()
    assert _typed_alerts(body, "prod") is None
    assert good is not None and _typed_alerts(body, "prod", good[1]) is None  # the others known or not
    with pytest.raises(PayloadError, match=r"^alert 0000000000000002.labels.n: expected a string$"):
        _parse_alerts(body, "prod")
