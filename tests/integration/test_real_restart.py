"""The real Alertmanager 0.25, killed and restarted on the same storage dir: it keeps its
silences and forgets its alerts until they are sent again. The console must record nothing
that did not happen: no "resolved" for a restart, a resolution only past the grace, and only
once the alert's sender has sent something since (a sender that is down resends nothing)."""

from __future__ import annotations

from oncall_tui.ui.app import oncall_app
from tests.alertmanager_process import RealAlertmanager
from tests.conftest import alert, make_config, until

PROM = "http://prometheus:9090"
CRIT = {
    **alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api"),
    "generatorURL": f"{PROM}/graph?g0.expr=up",  # its sender
}


async def test_a_restart_records_nothing_and_an_alert_never_resent_resolves_past_the_grace_once_its_sender_is_heard(
    alertmanager: RealAlertmanager, tmp_path
) -> None:
    alertmanager.post_alerts([CRIT])
    config = make_config(
        alertmanager.url,
        data_dir=str(tmp_path / "data"),
        incidents={"auto_declare": ["critical"]},
        alerts={"resend_grace": "4s"},
    )
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.services.desk.open_incidents(), what="the auto-declared incident")
        [incident] = app.services.desk.open_incidents()
        assert incident.events[0].who == "oncall-tui (auto_declare)" and incident.commander == ""
        said = app.services.board.status["prod"].start_said  # its own clock: ours is off by up to a second

        alertmanager.stop()
        alertmanager.start()  # same storage dir and port: its alerts are gone until resent
        await until(lambda: app.services.board.status["prod"].restarts == 1, what="the restart to be seen")
        assert app.services.board.status["prod"].start_said > said
        await until(
            lambda: app.services.board.alerts and app.services.board.alerts[0].held, what="the alert held as unseen"
        )
        await until(
            lambda: "not seen since prod restarted" in str(app.main.incident_pane.render()), what="the doubt shown"
        )
        alertmanager.post_alerts([CRIT])  # as Prometheus resends it
        await until(
            lambda: app.services.board.alerts and not app.services.board.alerts[0].held, what="the alert firing again"
        )
        assert [e.kind for e in incident.events] == ["incident.declared"]  # nothing happened: nothing recorded

        alertmanager.stop()
        alertmanager.start()  # and this time it is never resent
        await until(lambda: app.services.board.status["prod"].restarts == 2, what="the second restart")
        await until(  # past the grace, with nothing else from its sender either: no word, not a resolution
            lambda: f"its sender {PROM} may be down" in str(app.main.incident_pane.render()), what="the sender's doubt"
        )
        assert [e.kind for e in incident.events] == ["incident.declared"]
        alertmanager.post_alerts(
            [{**alert("DiskWillFill", "warning"), "generatorURL": f"{PROM}/graph?g0.expr=d"}]
        )  # its sender resends, without CRIT
        await until(lambda: incident.events[-1].kind == "alert.resolved", timeout=30, what="the resolution")
        event = incident.events[-1]
        assert event.who == "oncall-tui (alertmanager:prod)"
        assert event.data["reason"].startswith("not seen in the 4s since prod restarted at ")
        assert [e.kind for e in incident.events] == ["incident.declared", "alert.resolved"]
