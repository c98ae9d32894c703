"""The console under ordinary faults: a restart that forgets alerts, a hung source, many
sources, an alert storm. What it shows, and that it records only what happened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.core.alerts.tracking import SourceStatus
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.widgets.status_line import StatusLine
from tests.conftest import FROZEN, SteppedClock, alert, make_config, notes, until
from tests.misbehaving import Misbehaving

PROM = "http://prometheus:9090"
CRIT = {
    **alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api"),
    "generatorURL": f"{PROM}/graph?g0.expr=up",  # its sender
}


async def test_a_restart_that_forgets_alerts_records_nothing_until_the_grace_is_over(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts([CRIT])
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), incidents={"auto_declare": ["critical"]})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.services.desk.open_incidents(), what="the auto-declared incident")
        [incident] = app.services.desk.open_incidents()
        polls = app.services.board.polls
        clock.advance(5)
        sim.store.restart()
        await until(lambda: app.services.board.polls >= polls + 3, what="polls after the restart")
        await until(
            lambda: "not seen since prod restarted" in str(app.main.incident_pane.render()),
            what="the doubt",
            seen=lambda: (
                str(app.main.incident_pane.render()),
                app.main.incident_pane.doubts,
                app.services.board.status["prod"],
                [(a.name, a.held) for a in app.services.board.alerts],
            ),
        )
        assert "? HighErrorRate: not seen since prod restarted at 14:32:10 UTC" in str(app.main.incident_pane.render())
        await until(  # the list is drawn from the same poll, on the UI thread: a loaded machine may be a frame late
            lambda: app.main.alert_list.alerts[0].held and "unseen 1" in str(app.main.alerts.title.render()),
            what="the list",
        )
        line = app.main.alert_list.render_line(0).text
        assert "unseen" in line and line.startswith(" ? crit")  # a question, not a firing dot
        assert "(restarted 14:32:10 UTC)" in str(app.main.status_line.render())
        sim.store.post_alerts([CRIT])  # Prometheus resends it
        await until(lambda: not app.services.board.alerts[0].held, what="the alert back")
        assert [e.kind for e in incident.events] == ["incident.declared"]  # nothing happened: nothing recorded
        clock.advance(5)
        sim.store.restart()  # and this time it is never sent again
        await until(lambda: app.services.board.alerts and app.services.board.alerts[0].held, what="held again")
        clock.advance(121)
        await until(  # nor anything else from its sender: it may be down, so no word
            lambda: f"its sender {PROM} may be down" in str(app.main.incident_pane.render()), what="the sender's doubt"
        )
        polls = app.services.board.polls
        await until(lambda: app.services.board.polls >= polls + 2, what="two more polls")
        assert [e.kind for e in incident.events] == ["incident.declared"]
        sim.store.post_alerts(
            [{**alert("DiskWillFill", "warning"), "generatorURL": f"{PROM}/graph?g0.expr=disk"}]
        )  # its sender is back, and resends only this
        await until(lambda: incident.events[-1].kind == "alert.resolved", what="the resolution past the grace")
        event = incident.events[-1]
        assert event.who == "oncall-tui (alertmanager:prod)"
        assert event.data["reason"].startswith("not seen in the 2m since prod restarted at 2026-11-27 14:32:15 UTC")
        await pilot.pause()
        assert any("oncall-tui (alertmanager:prod)" in line.text for line in app.main.timeline.lines)


async def test_a_console_started_after_a_restart_its_sender_missed_records_nothing(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    """Closed; Alertmanager restarts while Prometheus is down; opened again past the grace: the
    new console never saw the alert, and must not take the restart's forgetting for a resolution."""
    sim.store.post_alerts([CRIT])
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), incidents={"auto_declare": ["critical"]})
    first = oncall_app(config, clock=clock)
    async with first.run_test(size=(160, 45)):
        await until(lambda: first.services.desk.open_incidents(), what="the auto-declared incident")
    clock.advance(5)
    sim.store.restart()  # its alerts gone, and nothing resends them
    clock.advance(121)
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.services.desk.open_incidents(), what="the incident, read back")
        [incident] = app.services.desk.open_incidents()
        await until(lambda: f"its sender {PROM} may be down" in str(app.main.incident_pane.render()), what="the doubt")
        polls = app.services.board.polls
        await until(lambda: app.services.board.polls >= polls + 2, what="two more polls")
        assert [e.kind for e in incident.events] == ["incident.declared"]  # no resolution, no all clear
        assert "all clear" not in str(app.main.alerts.title.render())
        sim.store.post_alerts(
            [{**alert("DiskWillFill", "warning"), "generatorURL": f"{PROM}/graph?g0.expr=disk"}]
        )  # its sender is back, without it
        await until(lambda: incident.events[-1].kind == "alert.resolved", what="the resolution")


async def test_a_hung_source_does_not_hold_up_the_others(sim: SimServer, clock: SteppedClock) -> None:
    sim.store.post_alerts([CRIT])
    hung = Misbehaving()
    hung.mode = "hang"
    try:
        config = make_config(sim.url, hung.url)
        config = config.model_copy(
            update={
                "alertmanagers": [config.alertmanagers[0], config.alertmanagers[1].model_copy(update={"timeout": 60})]
            }
        )
        app = oncall_app(config, clock=clock)
        async with app.run_test(size=(160, 45)):
            await until(
                lambda: app.services.board.polls >= 5, what="five merged polls"
            )  # hung: one request would take 60 s
            hung_status = app.services.board.status["am1"]
            assert (hung_status.last_ok, hung_status.error) == (None, None)  # still waiting on its first answer
            assert [a.name for a in app.main.alert_list.alerts] == ["HighErrorRate"]
            title = str(app.main.alerts.title.render())
            assert "firing 1" in title and "no data from am1" in title
            assert "AM am1 … connecting" in str(app.main.status_line.render())
    finally:
        hung.close()


def test_five_sources_all_show_in_the_header_at_80_and_160_columns() -> None:
    names = ["prod-eu-west", "prod-us-east", "dr-frankfurt", "staging", "lab"]
    statuses = [SourceStatus(n, last_ok=FROZEN - timedelta(seconds=1)) for n in names]
    statuses[2].error, statuses[2].failing_since = "dr-frankfurt: timed out after 5s", FROZEN
    statuses[3].last_ok, statuses[3].error = None, "staging: unreachable (connection refused)"
    line = StatusLine("alice", False, lambda: FROZEN, lambda: (statuses, None))
    line.show()
    for width in (80, 160):
        text = line.line(width).plain
        assert text.count("✗") == 2 and len(text) <= width, text
        for name in ("prod-e", "prod-u", "dr-f", "stag", "lab"):  # cut, but still told apart
            assert name in text, (name, text)
    wide = line.line(400).plain
    assert "AM dr-frankfurt ✗ stale since 14:32:05 UTC: timed out after 5s" in wide
    assert "AM staging ✗ no data: unreachable (connection refused)" in wide


def test_why_a_source_is_busy_is_said_in_the_header_at_80_and_160_columns() -> None:
    """Alertmanager's own 503 text is long: the header cuts it, but says it, as for a stale one."""
    prod = SourceStatus("prod", last_ok=FROZEN - timedelta(seconds=24))
    prod.busy = "prod: HTTP 503, turned away: Limit of concurrent GET requests reached (1), try again later."
    line = StatusLine("alice", False, lambda: FROZEN, lambda: ([prod], None))
    line.show()
    for width in (80, 160):
        text = line.line(width).plain
        assert "alice · prod ~ busy, answered 24s ago: HTTP 503" in text and len(text) <= width, text


def test_a_recent_restart_is_said_in_the_header_at_80_columns_too() -> None:
    """At 80×24 the alerts a restart forgot may be coming back: the header says why, shorter."""
    prod = SourceStatus("prod", last_ok=FROZEN - timedelta(seconds=1))
    prod.restarts, prod.started, prod.epoch = 1, FROZEN - timedelta(seconds=40), FROZEN - timedelta(seconds=30)
    line = StatusLine("alice", False, lambda: FROZEN, lambda: ([prod], None))
    line.show()
    assert "AM prod ✓ 1s (restarted 14:31:25 UTC)" in line.line(160).plain
    narrow = line.line(78).plain
    assert "prod ✓ 1s (restarted 40s ago)" in narrow and len(narrow) <= 78, narrow
    prod.epoch = FROZEN - timedelta(minutes=11)  # long enough ago: nothing is coming back now
    assert "restarted" not in line.line(160).plain


async def test_an_alert_storm_declares_a_bounded_number_of_incidents(clock: SteppedClock, tmp_path: Path) -> None:
    store = SimAlertmanager(clock=clock)
    store.post_alerts(
        [alert("PodDown", "critical", service=f"svc-{i:03d}", pod=f"p{j}") for i in range(40) for j in range(3)]
    )
    with SimServer(store) as server:
        config = make_config(server.url, data_dir=str(tmp_path / "data"), incidents={"auto_declare": ["critical"]})
        app = oncall_app(config, clock=clock)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(lambda: any(i.storm for i in app.services.desk.open_incidents()), what="the storm incident")
            incidents = list(app.services.desk.incidents.values())
            storm = next(i for i in incidents if i.storm)
            assert len(incidents) == 4 and len(storm.alerts) == 37 * 3
            assert storm.title == "Alert storm: 37 group(s), 111 alert(s) past the auto-declare limit (3 per 10m)"
            assert storm.commander == "" and storm.events[0].who == "oncall-tui (auto_declare)"
            await until(lambda: notes(app), what="the notice")
            await pilot.pause()
            [notice] = [n for n in notes(app) if "storm" in n.lower()]  # one, not a hundred
            assert notice.startswith(
                "Auto-declared 3 incidents: INC-20261127-0001, INC-20261127-0002, INC-20261127-0003"
            )
            assert len(notes(app)) == 1
            app.main.status_line.show()
            assert f"⚡ storm {storm.id}: 37 groups · 111 alerts" in str(app.main.status_line.render())
            # more alerts of new groups while the storm goes on join it, in one event a poll
            store.post_alerts([alert("PodDown", "critical", service=f"late-{i}") for i in range(5)])
            await until(lambda: len(storm.alerts) == 116, what="the late groups to join the storm")
            assert storm.events[-1].summary == "5 alerts (PodDown ×5) joined (5 groups)"
            assert len(app.services.desk.incidents) == 4 and len(notes(app)) == 1


async def test_all_clear_only_when_every_source_answered(clock: SteppedClock) -> None:
    from tests.alertmanager_process import free_port

    with SimServer(SimAlertmanager(clock=clock)) as quiet, SimServer(SimAlertmanager(clock=clock)) as other:
        app = oncall_app(make_config(quiet.url, other.url), clock=clock)
        async with app.run_test(size=(160, 45)):
            await until(lambda: "all clear" in str(app.main.alerts.title.render()), what="the all-clear")
            assert str(app.main.alerts.title.render()) == "ALERTS  firing 0 · silenced 0 · inhibited 0 · all clear"
            other.stop()  # it answered before: its (empty) last answer is no all-clear now
            await until(lambda: app.services.board.status["am1"].stale, what="am1 stale")
            await until(lambda: "no all-clear" in str(app.main.alerts.title.render()), what="the title to say so")
            assert "am1 not answering: no all-clear" in str(app.main.alerts.title.render())
    dead = f"http://127.0.0.1:{free_port()}"
    with SimServer(SimAlertmanager(clock=clock)) as quiet:
        app = oncall_app(make_config(quiet.url, dead), clock=clock)
        async with app.run_test(size=(160, 45)):
            await until(lambda: app.services.board.status["am1"].error, what="the dead source's error")
            await until(lambda: "no data from am1" in str(app.main.alerts.title.render()), what="no data")
            assert "all clear" not in str(app.main.alerts.title.render())


def test_the_header_keeps_why_sources_fail_before_their_decoration() -> None:
    statuses = [SourceStatus(n, last_ok=FROZEN - timedelta(seconds=1)) for n in ("am1", "am2", "dead", "hang")]
    statuses[1].error, statuses[1].failing_since = "am2: timed out after 3s", FROZEN
    statuses[2].last_ok, statuses[2].error = None, "dead: unreachable (connection refused)"
    statuses[3].last_ok, statuses[3].error = None, "hang: timed out after 3s"
    line = StatusLine("tester", False, lambda: FROZEN, lambda: (statuses, None))
    line.show()
    text = line.line(160).plain
    assert len(text) <= 160 and "am1 ✓ 1s" in text
    assert "am2 ✗ stale: timed out after 3s" in text and "hang ✗ no data: timed out after 3s" in text
    assert "dead ✗ no data: unreachable (conn" in text


async def test_no_all_clear_beside_a_linked_alert_no_source_vouches_for(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    """The console starts just after its Alertmanager restarted: the list is empty, but the
    incident's alert may only be waiting to be resent."""
    from oncall_tui.core.incidents.desk import IncidentDesk
    from tests.runbook_world import model_alert

    desk = IncidentDesk(tmp_path / "data", "alice", clock=clock)
    desk.declare("errors", [model_alert("HighErrorRate", service="ml-api")])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.main.incident_pane.doubts, what="the doubt")
        await until(lambda: "unknown" in str(app.main.alerts.title.render()), what="the title")
        title = str(app.main.alerts.title.render())
        assert "1 linked alert(s) unknown (see the incident)" in title and "all clear" not in title
        assert "? HighErrorRate: not seen since prod restarted at 14:32:05 UTC" in str(app.main.incident_pane.render())


async def test_a_busy_source_is_said_to_keep_up_once_its_waits_are_back_not_at_its_first_answer(
    clock: SteppedClock,
) -> None:
    """Turned away, then answering in time: the waits come down a quarter an answer, and only
    when they are back at the interval is it 'keeping up again', once (not busy, well, busy)."""
    server = Misbehaving()
    server.mode = "status:503"
    try:
        app = oncall_app(make_config(server.url), clock=clock)
        async with app.run_test(size=(160, 45)):
            pane = app.main.alerts
            await until(lambda: "prod" in pane.schedules and pane.schedules["prod"].ceiling >= 1.0, what="backoff")
            await until(lambda: any("asking it less often" in n for n in notes(app)), what="the busy notice")
            server.mode = "one-alert"
            early = []  # said while the waits were still longer than the interval

            headers = []  # the header while the waits are still longer than the interval

            def back() -> bool:
                easing = pane.schedules["prod"].busy
                early.extend(n for n in notes(app) if "keeping up" in n and easing)
                if easing and app.services.board.status["prod"].busy is None:  # in time again
                    app.main.status_line.show()  # (it reads the sources once a second)
                    headers.append(app.main.status_line.line(160).plain)
                return any("keeping up" in n for n in notes(app))

            await until(back, what="the all-clear")
            assert early == [] and not pane.schedules["prod"].busy
            assert headers and all("prod ~ busy" in h and "in time again" in h for h in headers), headers
            assert [n for n in notes(app) if "keeping up" in n] == ["prod: keeping up again."]  # said once
    finally:
        server.close()
