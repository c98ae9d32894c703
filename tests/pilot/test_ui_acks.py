"""Acknowledging alerts from the console (A, and a with no incident): an ACK! silence, on the
record of a linked incident, shown as acked."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.screens.prompt import TextPrompt
from tests.conftest import SteppedClock, alert, make_config, notes, until

ERRORS = [alert("HighErrorRate", "critical", service="ml-api", pod=f"p{i}") for i in range(3)]


async def test_a_with_no_incident_acknowledges_the_alert_the_list_says_who_and_a_lost_ack_is_said(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts([alert("DiskWillFill", "warning", instance="db-1")])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.press("a")  # nothing declared: the alert is what there is to accept
        assert (
            isinstance(app.screen, TextPrompt)
            and "Acknowledge DiskWillFill (1 alert) until it resolves?" in app.screen.title_text
        )
        assert "alerts with these labels that fire meanwhile are silenced too" in app.screen.label  # not only these
        assert "(1 alert matches now)" in app.screen.label
        await pilot.press("enter")  # no comment: fine
        await until(lambda: sim.store.get_silences(), what="the ack")
        [silence] = sim.store.get_silences()
        assert (silence["comment"], silence["createdBy"]) == ("ACK!", "alice")
        row = app.main.alert_list
        await until(lambda: "acked by alice" in row.render_line(0).text, what="shown as acked")
        assert row.render_line(0).text.startswith(" ◌ warn DiskWillFill")  # silenced, as an ack is
        await pilot.press("S")  # the silences screen marks it an ack
        table = app.screen.query_one(DataTable)
        await until(lambda: table.row_count == 1, what="the silences")
        assert table.get_row_at(0)[0] == "active ack"
        sim.store.restart(silences_saved=False)  # lost with a restart: said, not passed over
        await until(lambda: any("is gone: prod no longer has" in n for n in notes(app)), what="the ack said lost")
        [said] = [n for n in notes(app) if "is gone" in n]
        assert f"its silence {silence['id']}" in said and "Not acknowledged now; A acknowledges again." in said


async def test_shift_a_on_a_group_acks_what_its_alerts_share_and_a_linked_incident_records_it(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts(ERRORS)
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: len(app.main.alert_list.alerts) == 3, what="the alerts")
        await pilot.press("i", "enter")  # one incident from the group's three
        await until(lambda: app.services.desk.open_incidents(), what="the incident")
        await until(lambda: not app.main.incident_pane.pending, what="declared")
        await pilot.press("A")
        assert "(3 alerts match now)" in app.screen.label
        await pilot.press(*"rolling back", "enter")
        await until(lambda: sim.store.get_silences(), what="the ack")
        [silence] = sim.store.get_silences()
        matchers = {m["name"]: m["value"] for m in silence["matchers"]}
        assert matchers == {"alertname": "HighErrorRate", "service": "ml-api", "severity": "critical"}
        assert silence["comment"] == "ACK! rolling back"
        [incident] = app.services.desk.open_incidents()
        await until(lambda: incident.events[-1].kind == "alert.acknowledged", what="on the record")
        event = incident.events[-1]
        assert event.who == "alice" and event.data["silence_id"] == silence["id"]
        assert len(event.data["fingerprints"]) == 3 and event.summary.startswith("Acknowledged HighErrorRate")
        row = app.main.alert_list
        await until(lambda: row.render_line(0).text.rstrip().endswith("3 acked"), what="the group said acked")
        sim.store.restart(silences_saved=False)  # the ack lost: on the record it ends, on Alertmanager's word
        await until(lambda: incident.events[-1].kind == "silence.lost", what="the loss on the record")
        lost = incident.events[-1]
        assert (lost.who, lost.data["silence_id"]) == ("oncall-tui (alertmanager:prod)", silence["id"])
        assert (
            lost.summary
            == f"Silence {silence['id']} (the ack by alice) is gone: prod no longer has it; its alerts are not acknowledged now"
        )
        again = app.services.desk.record_silence(  # a second console on this record, seeing the same loss
            "silence.lost", silence["id"], (), lost.summary, [], agent="alertmanager:prod"
        )
        assert again == [] and [e.kind for e in incident.events].count("silence.lost") == 1  # said once
        written = render_markdown(incident)
        assert (
            f"silence `{silence['id']}` was gone, recorded by oncall-tui (alertmanager:prod): that ack held no longer"
            in written
        )
