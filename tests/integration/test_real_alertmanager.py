"""Against the real Alertmanager 0.25: the client, the contract, and the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.models import SilenceMatcher, SilenceRequest
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.widgets.alert_list import AlertList
from tests.alertmanager_process import RealAlertmanager
from tests.conftest import alert, make_config, steps_settled, until
from tests.contracts import ALERTMANAGER, validate

HOSTILE = "[bold red]x[/] \x1b]0;pwned\x07 $(touch /tmp/pwned) 日本"


def board_for(am: RealAlertmanager) -> Board:
    return Board([AlertmanagerClient(s) for s in make_config(am.url).alertmanagers])


async def test_client_reads_alerts_states_and_silences(alertmanager: RealAlertmanager) -> None:
    alertmanager.post_alerts(
        [
            alert("SLOViolation", "critical", {"runbook_url": "https://x/high-error-rate.md"}, service="ml-api"),
            alert("HighLatency", "warning", service="ml-api"),  # inhibited by the critical
            alert("DiskWillFill", "warning", {"summary": HOSTILE}, instance="db-1"),
        ]
    )
    board = board_for(alertmanager)
    by_name = {a.name: a for a in await board.poll_once()}
    assert by_name["HighLatency"].state == "inhibited"
    assert by_name["SLOViolation"].state == "active"
    assert by_name["SLOViolation"].annotations["runbook_url"] == "https://x/high-error-rate.md"
    assert by_name["DiskWillFill"].annotations["summary"] == HOSTILE
    now = datetime.now(UTC)
    request = SilenceRequest((SilenceMatcher("instance", "db-1"),), now, now + timedelta(hours=1), "alice", "disk")
    [(_source, silence_id)] = await board.create_silence(request, ["prod"])
    by_name = {a.name: a for a in await board.poll_once()}
    assert by_name["DiskWillFill"].state == "silenced" and by_name["DiskWillFill"].silenced_by == (silence_id,)
    [silence] = await board.silences()
    assert (silence.id, silence.state, silence.source) == (silence_id, "active", "prod")
    await board.expire_silence(silence)
    by_name = {a.name: a for a in await board.poll_once()}
    assert by_name["DiskWillFill"].state == "active"
    await board.aclose()


def test_real_alertmanager_fits_the_same_contract_as_the_simulator(alertmanager: RealAlertmanager) -> None:
    if not ALERTMANAGER.is_file():
        import pytest

        pytest.skip(f"contract file {ALERTMANAGER} is absent")
    alertmanager.post_alerts([alert("X", "critical", service="a"), alert("Y", "warning", service="a")])
    validate(httpx.get(f"{alertmanager.url}/api/v2/alerts").json(), "gettableAlerts")
    validate(httpx.get(f"{alertmanager.url}/api/v2/status").json(), "alertmanagerStatus")


async def test_edit_with_new_matchers_gets_a_new_id_and_the_console_keeps_it(alertmanager: RealAlertmanager) -> None:
    board = board_for(alertmanager)
    now = datetime.now(UTC)
    first = SilenceRequest((SilenceMatcher("alertname", "X"),), now, now + timedelta(hours=1), "alice", "one")
    [(_, first_id)] = await board.create_silence(first, ["prod"])
    same = SilenceRequest(first.matchers, now, now + timedelta(hours=2), "alice", "longer", id=first_id)
    assert await board.create_silence(same, ["prod"]) == [("prod", first_id)]
    changed = SilenceRequest(
        (SilenceMatcher("alertname", "Y"),), now, now + timedelta(hours=1), "alice", "two", id=first_id
    )
    [(_, second_id)] = await board.create_silence(changed, ["prod"])
    assert second_id != first_id
    states = {s.id: s.state for s in await board.silences()}
    assert states == {first_id: "expired", second_id: "active"}
    await board.aclose()


async def test_console_shows_alerts_and_silences_one(alertmanager: RealAlertmanager) -> None:
    alertmanager.post_alerts(
        [alert("HighErrorRate", "critical", service="ml-api"), alert("DiskWillFill", "warning", instance="db-1")]
    )
    app = oncall_app(make_config(alertmanager.url))
    async with app.run_test(size=(160, 45)) as pilot:
        alerts = app.query_one(AlertList)
        await until(lambda: len(alerts.alerts) == 2, what="both alerts shown")
        assert [a.name for a in alerts.alerts] == ["HighErrorRate", "DiskWillFill"]
        await pilot.press("j", "s")
        await until(lambda: isinstance(app.screen, SilenceForm), what="the silence form")
        await pilot.press(*"disk cleanup", "enter")
        await until(lambda: app.main.alerts.created_silences, what="the silence ID")
        [(_source, silence_id)] = app.main.alerts.created_silences
        await until(lambda: alerts.alerts[1].state == "silenced", what="the alert to show as silenced")
        assert alerts.alerts[1].silenced_by == (silence_id,)
        silences = httpx.get(f"{alertmanager.url}/api/v2/silences").json()
        assert [(s["id"], s["comment"], s["createdBy"]) for s in silences] == [(silence_id, "disk cleanup", "alice")]
        assert {(m["name"], m["value"]) for m in silences[0]["matchers"]} == {
            ("alertname", "DiskWillFill"),
            ("severity", "warning"),
            ("instance", "db-1"),
        }
        # and expire it from the silences screen
        await pilot.press("S")
        await until(lambda: isinstance(app.screen, SilencesScreen) and app.screen.silences, what="the silences list")
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await until(
            lambda: httpx.get(f"{alertmanager.url}/api/v2/silence/{silence_id}").json()["status"]["state"] == "expired",
            what="the silence to expire",
        )
        await pilot.press("escape")
        await until(lambda: alerts.alerts[1].state == "active", what="the alert to be active again")


async def test_console_goes_stale_and_recovers_when_alertmanager_restarts(alertmanager: RealAlertmanager) -> None:
    alertmanager.post_alerts([alert("HighErrorRate", "critical", service="ml-api")])
    app = oncall_app(make_config(alertmanager.url))
    async with app.run_test(size=(160, 45)):
        alerts = app.query_one(AlertList)
        await until(lambda: len(alerts.alerts) == 1, what="the alert")
        alertmanager.stop()
        # the board goes stale inside the poll; the list shows it once the poll has drawn it
        await until(lambda: alerts.alerts and alerts.alerts[0].stale, what="the alert to show as stale")
        assert (
            app.services.board.status["prod"].stale and alerts.alerts[0].name == "HighErrorRate"
        )  # the last known alert is kept
        assert "stale since" in str(app.query_one("#status").render())
        alertmanager.start()  # same port; Alertmanager keeps silences, not alerts: Prometheus re-sends them
        alertmanager.post_alerts([alert("HighErrorRate", "critical", service="ml-api")])
        await until(lambda: not app.services.board.status["prod"].stale, what="recovery")
        await until(lambda: alerts.alerts and not alerts.alerts[0].stale, what="fresh alerts")
        assert "✓" in str(app.query_one("#status").render())


async def test_a_shipped_runbook_step_with_hostile_labels_from_the_real_alertmanager(
    alertmanager: RealAlertmanager, tmp_path
) -> None:
    """The real Alertmanager carries the labels; the shipped runbook's step, with the demo's
    kubectl stand-in, gets them as single words and nothing else runs."""
    from oncall_tui.sim.scenario import DEMO_BIN
    from tests.conftest import ROOT

    marker = tmp_path / "pwned"
    hostile = f"x; touch {marker} $(touch {marker}) `touch {marker}` [bold]y[/]\nz"
    url = "https://runbooks.example.com/runbooks/pod-crash-looping.md"
    alertmanager.post_alerts(
        [alert("PodCrashLooping", "warning", {"runbook_url": url}, pod=hostile, namespace="ml", container="worker")]
    )
    config = make_config(
        alertmanager.url,
        data_dir=str(tmp_path / "data"),
        runbooks={"dir": str(ROOT / "runbooks"), "path": [str(DEMO_BIN)]},
    )
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.runbook_pane.runbook is not None, what="the shipped runbook")
        assert app.main.runbook_pane.runbook.path.name == "pod-crash-looping.md"
        await pilot.press("right_square_bracket", "r")  # step 2: kubectl logs {{ labels.pod }} -c …
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await steps_settled(app)
        assert app.main.runbook_pane.last_run.outcome.ok and not marker.exists()
        started = app.main.incident_pane.active().events[-2]
        assert started.data["params"]["labels.pod"] == hostile
        assert (
            f"[demo stand-in: kubectl -n ml logs {hostile} -c worker --previous"
            in app.main.runbook_pane.last_run.output.since(0)[0]
        )


async def test_an_ack_is_made_extended_while_it_fires_expired_once_resolved_and_left_to_its_author(
    alertmanager: RealAlertmanager,
) -> None:
    firing = alert("HighErrorRate", "critical", service="ml-api")
    alertmanager.post_alerts([firing])
    # an ack lasts 20 s and is extended when less than 18 s are left: at once, and again
    acks = {"duration": "20s", "extend_before": "18s", "expire_after_resolved": "1s"}
    app = oncall_app(make_config(alertmanager.url, acks=acks))
    async with app.run_test(size=(160, 45)) as pilot:
        alerts = app.query_one(AlertList)
        await until(lambda: len(alerts.alerts) == 1, what="the alert")
        await pilot.press("A")
        await until(lambda: isinstance(app.screen, TextPrompt), what="the comment prompt")
        await pilot.press(*"on it", "enter")

        def acks_now() -> list[dict]:
            return [
                s for s in httpx.get(f"{alertmanager.url}/api/v2/silences").json() if s["status"]["state"] == "active"
            ]

        await until(lambda: acks_now(), what="the ack")
        [made] = acks_now()
        assert (made["comment"], made["createdBy"]) == ("ACK! on it", "alice")
        await until(lambda: alerts.alerts[0].state == "silenced", what="the alert acked")
        await until(lambda: "acked by alice" in "".join(s.text for s in alerts.render_line(0)), what="acked by")
        first_end = made["endsAt"]
        await until(lambda: acks_now() and acks_now()[0]["endsAt"] > first_end, timeout=15, what="an extension")
        bobs = oncall_app(make_config(alertmanager.url, user={"name": "bob"}, acks=acks))
        async with bobs.run_test(size=(160, 45)):  # bob's console shows alice's ack, and leaves it to hers
            bob_list = bobs.query_one(AlertList)
            await until(
                lambda: bob_list.alerts and "acked by alice" in bob_list.render_line(0).text, what="bob sees it"
            )
            assert bobs.main.alerts.keeper.last_fired == {}  # never kept by him: not his to extend or expire
        resolved = {**firing, "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
        alertmanager.post_alerts([resolved])
        await until(lambda: not acks_now(), timeout=15, what="the ack expired once the alert resolved")
        expired = httpx.get(f"{alertmanager.url}/api/v2/silences").json()
        assert {s["createdBy"] for s in expired} == {"alice"}  # every ID it had, all alice's
