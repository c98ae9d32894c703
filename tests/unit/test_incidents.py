"""Incidents folded from their journals, the actions on them, and their metrics."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.core.alerts.models import Alert, SilenceMatcher, SilenceRequest
from oncall_tui.core.config import AlertmanagerSource
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.incident import linked
from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.core.paging.pagers import AlertmanagerPager
from oncall_tui.sim.server import SimServer
from tests.conftest import SteppedClock


def firing(name: str, severity: str, started_ago: float, clock: SteppedClock, fp: str = "") -> Alert:
    return Alert(
        fp or name.lower(),
        {"alertname": name, "severity": severity, "service": "ml-api"},
        {},
        clock.now - timedelta(seconds=started_ago),
        None,
        "",
        "active",
    )


def desk(tmp_path: Path, clock: SteppedClock, actor: str = "alice") -> IncidentDesk:
    return IncidentDesk(tmp_path, actor, clock=clock).load()


def test_declare_from_alerts_takes_the_worst_severity_and_an_id_per_day(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    first = d.declare(
        "ml-api errors", [firing("HighLatency", "warning", 60, clock), firing("SLO", "critical", 300, clock)]
    )
    assert (first.id, first.severity, first.stage, first.status) == (
        "INC-20261127-0001",
        "SEV-2",
        "Acknowledge",
        "triggered",
    )
    assert first.commander == "alice" and set(first.alerts) == {"highlatency", "slo"}
    assert first.impact_start == clock.now - timedelta(seconds=300)  # the first alert's startsAt
    assert d.declare("second").id == "INC-20261127-0002"
    clock.advance(86400)
    assert d.declare("next day").id == "INC-20261128-0001"


def test_the_whole_workflow_and_its_metrics(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    incident = d.declare("ml-api errors", [firing("HighErrorRate", "critical", 120, clock)])
    clock.advance(60)
    d.acknowledge(incident.id)
    assert (incident.status, incident.stage) == ("acknowledged", "Assess")
    d.advance_stage(incident.id)
    assert incident.stage == "Mitigate"
    clock.advance(600)
    d.advance_stage(incident.id)
    assert incident.stage == "Resolve" and incident.mitigated_at == clock.now
    with pytest.raises(IncidentError, match="resolve the incident"):
        d.advance_stage(incident.id)
    clock.advance(300)
    d.resolve(incident.id, "rolled back deploy 42")
    assert (incident.status, incident.stage, incident.resolution) == ("resolved", "Document", "rolled back deploy 42")
    metrics = {m.name: m.seconds for m in incident.metrics()}
    assert metrics == {
        "time to detect": 0.0,
        "time to acknowledge": 180.0,  # fired 120 s before the declaration, acked 60 s after it
        "time to mitigate": 780.0,
        "time to resolve": 1080.0,
    }
    with pytest.raises(IncidentError, match="is resolved"):
        d.acknowledge(incident.id)
    d.note(incident.id, "a note after resolving is still welcome")


def test_refusals_are_one_line(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    incident = d.declare("x")
    d.acknowledge(incident.id)
    for action, message in [
        (lambda: d.acknowledge(incident.id), "already acknowledged"),
        (lambda: d.set_severity(incident.id, "SEV-9"), "unknown severity"),
        (lambda: d.set_severity(incident.id, "SEV-3"), "already SEV-3"),
        (lambda: d.resolve(incident.id, "  "), "how it was resolved"),
        (lambda: d.note(incident.id, ""), "empty note"),
        (lambda: d.take_command(incident.id), "already the commander"),
        (lambda: d.acknowledge("INC-19700101-0001"), "no incident"),
        (lambda: d.declare(" "), "needs a title"),
    ]:
        with pytest.raises(IncidentError, match=message) as caught:
            action()
        assert "\n" not in str(caught.value)
    assert len(incident.events) == 2  # nothing refused was recorded


def test_notes_todo_action_items_escalation_and_command(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    incident = d.declare("x")
    d.note(incident.id, "TODO: add a runbook for [bold]this[/]")
    d.note(incident.id, "db looks fine")
    assert incident.action_items == ["add a runbook for [bold]this[/]"]
    assert [e.summary for e in incident.notes] == [
        "Action item: add a runbook for [bold]this[/]",
        "Note: db looks fine",
    ]
    event = d.escalate(incident.id, ["dana"])
    assert incident.escalation_level == 2 and event.summary == (
        "Escalated to level 2 (dana): nobody was paged: no paging is configured"
    )
    d.set_severity(incident.id, "SEV-1")
    assert incident.severity == "SEV-1"
    bob = desk(tmp_path, clock, actor="bob")
    bob.take_command(incident.id)
    assert bob.get(incident.id).commander == "bob"


def test_a_restart_resumes_every_open_incident(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    one, two = d.declare("one"), d.declare("two")
    d.acknowledge(one.id)
    d.resolve(two.id, "fixed")
    again = desk(tmp_path, clock)
    assert [i.id for i in again.open_incidents()] == [one.id]
    assert again.get(one.id).status == "acknowledged" and again.get(two.id).resolution == "fixed"
    assert again.get(one.id).events == d.get(one.id).events


def test_another_consoles_events_are_picked_up(tmp_path: Path, clock: SteppedClock) -> None:
    alice = desk(tmp_path, clock)
    incident = alice.declare("shared")
    bob = desk(tmp_path, clock, actor="bob")
    bob.acknowledge(incident.id)
    alice.note(incident.id, "seen")  # alice's desk learns of bob's ack before writing
    assert [e.seq for e in alice.get(incident.id).events] == [1, 2, 3]
    assert alice.get(incident.id).status == "acknowledged"


def test_an_unwritable_data_dir_refuses_and_records_nothing(tmp_path: Path, clock: SteppedClock) -> None:
    (tmp_path / "incidents").write_text("not a directory")
    with pytest.raises(IncidentError, match="cannot create the incident"):
        desk(tmp_path, clock).declare("x")


def test_an_action_checks_what_another_console_already_did(tmp_path: Path, clock: SteppedClock) -> None:
    alice = desk(tmp_path, clock)
    incident = alice.declare("shared")
    desk(tmp_path, clock, actor="bob").acknowledge(incident.id)
    with pytest.raises(IncidentError, match="already acknowledged"):
        alice.acknowledge(incident.id)  # bob's ack is read before alice's is sent


def test_auto_declare_once_per_group_not_once_per_poll(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    pod_a = firing("PodDown", "critical", 30, clock, fp="a")
    pod_b = firing("PodDown", "critical", 10, clock, fp="b")  # same alertname and service: same group
    warn = firing("HighLatency", "warning", 10, clock)
    group_by = ["alertname", "service"]
    declared = d.auto_declare([pod_a, warn], ["critical"], group_by)
    assert [e.kind for e in declared] == ["incident.declared"]
    assert d.auto_declare([pod_a, warn], ["critical"], group_by) == []  # the next poll: nothing new
    [joined] = d.auto_declare([pod_a, pod_b, warn], ["critical"], group_by)
    assert joined.kind == "alert.linked" and len(d.incidents) == 1
    [incident] = d.incidents.values()
    assert set(incident.alerts) == {"a", "b"} and incident.title == "PodDown"
    silenced = firing("Other", "critical", 5, clock)
    silenced.state = "silenced"
    assert d.auto_declare([silenced], ["critical"], group_by) == []  # silenced alerts declare nothing


def test_default_title_keeps_the_summary_whole(clock: SteppedClock) -> None:
    from oncall_tui.core.incidents.incident import default_title

    alert = firing("DiskWillFill", "warning", 0, clock)
    assert default_title(alert) == "DiskWillFill"
    alert.annotations["summary"] = "db-1 fills within: "
    assert default_title(alert) == "DiskWillFill: db-1 fills within:"


def test_a_refused_declaration_leaves_no_ghost_incident(tmp_path: Path, clock: SteppedClock) -> None:
    class Refusing:
        name = "refusing"

        def confirm(self, incident, action, data):
            raise IncidentError("provider said no")

    d = IncidentDesk(tmp_path, "alice", provider=Refusing(), clock=clock).load()
    with pytest.raises(IncidentError, match="provider said no"):
        d.declare("x")
    assert d.incidents == {} and list((tmp_path / "incidents").glob("*.jsonl")) == []
    assert IncidentDesk(tmp_path, "alice", clock=clock).load().incidents == {}


def test_a_time_from_elsewhere_that_is_no_time_falls_back_to_the_record(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("Remote")
    clock.advance(60)
    desk.merge(incident.id, "status:1", "incident.acknowledged", "Acknowledged elsewhere", {"at": "yesterday"}, "bob")
    desk.merge(incident.id, "status:2", "incident.resolved", "Resolved elsewhere", {"at": 42}, "bob")
    for loaded in (desk.get(incident.id), IncidentDesk(tmp_path, "alice", clock=clock).load().get(incident.id)):
        assert loaded.acknowledged_at == clock.now and loaded.resolved_at == clock.now


class SlowProvider:
    """A provider whose declarations wait until released: PagerDuty taking its time."""

    name = "slow"

    def __init__(self) -> None:
        self.asked, self.release = threading.Event(), threading.Event()

    def confirm(self, incident, action: str, data: dict) -> dict:
        if action == "incident.declared":
            self.asked.set()
            assert self.release.wait(30), "never released"
        return {}


def test_a_slow_provider_holds_up_no_other_write_and_declares_once(tmp_path: Path, clock: SteppedClock) -> None:
    provider = SlowProvider()
    d = IncidentDesk(tmp_path, "alice", provider, clock).load()
    provider.release.set()
    other = d.declare("already open")
    provider.release.clear()
    provider.asked.clear()
    pod = firing("PodDown", "critical", 30, clock, fp="a")
    results: list = []
    worker = threading.Thread(target=lambda: results.append(d.auto_declare([pod], ["critical"], ["alertname"])))
    worker.start()
    assert provider.asked.wait(30)
    d.note(other.id, "written while the declaration waits")  # would deadlock-wait if the lock were held
    assert d.auto_declare([pod], ["critical"], ["alertname"]) == []  # the group is being declared: not twice
    provider.release.set()
    worker.join(30)
    assert [[e.kind for e in r] for r in results] == [["incident.declared"]]
    assert sorted(i.title for i in d.incidents.values()) == ["PodDown", "already open"]


def test_the_ui_can_read_while_a_worker_declares_and_links(tmp_path: Path, clock: SteppedClock) -> None:
    """The UI thread reads incidents and their alerts without the desk's lock while workers
    write: a dict changed in place under it would raise "changed size during iteration"."""
    import sys

    d = desk(tmp_path, clock)
    incident = d.declare("Busy", [])
    errors: list[Exception] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as possible

    def worker() -> None:
        for n in range(30):
            d.declare(f"Also {n}", [])
            for m in range(10):
                alert = firing(f"A{n}-{m}", "warning", 60, clock, fp=f"{n}-{m}")
                d.record(incident.id, "alert.linked", f"Alert {alert.name} joined", linked(alert))

    writer = threading.Thread(target=worker)
    try:
        writer.start()
        while writer.is_alive():
            try:
                [i.first_fired for i in d.open_incidents()]
            except RuntimeError as error:
                errors.append(error)
    finally:
        writer.join()
        sys.setswitchinterval(switch)
    assert errors == [] and len(d.open_incidents()) == 31 and len(incident.alerts) == 300


def test_the_console_declares_as_itself_and_nobody_commands_until_someone_does(
    tmp_path: Path, clock: SteppedClock
) -> None:
    d = desk(tmp_path, clock)
    [declared] = d.auto_declare([firing("PodDown", "critical", 30, clock)], ["critical"], ["alertname"])
    incident = d.incidents[declared.incident]
    assert (declared.actor, declared.data["agent"], declared.who) == (
        "oncall-tui",
        "auto_declare",
        "oncall-tui (auto_declare)",
    )
    assert incident.commander == "" and incident.declared_by == "oncall-tui (auto_declare)"
    took = d.take_command(incident.id)
    assert (took.actor, took.summary, "agent" in took.data) == ("alice", "Took command from nobody", False)
    assert d.get(incident.id).commander == "alice"
    text = render_markdown(d.get(incident.id))
    assert "- Incident declared 2026-11-27 14:32:05 UTC by oncall-tui (auto_declare)." in text
    assert "| oncall-tui (auto_declare) | Declared SEV-2: PodDown |" in text


def test_a_person_declares_as_themself(tmp_path: Path, clock: SteppedClock) -> None:
    incident = desk(tmp_path, clock).declare("by hand", [firing("PodDown", "critical", 30, clock)])
    assert (incident.commander, incident.declared_by, incident.events[0].actor) == ("alice", "alice", "alice")


def test_older_journals_stay_readable(tmp_path: Path, clock: SteppedClock) -> None:
    """Before agents and batches: one alert per alert.linked/resolved event, the person as actor."""
    (tmp_path / "incidents").mkdir()
    a = {"fingerprint": "a", "name": "A", "severity": "critical", "starts_at": "2026-11-27T14:00:00.000Z", "labels": {}}
    b = {**a, "fingerprint": "b", "name": "B"}
    lines = [
        {
            "kind": "incident.declared",
            "actor": "alice",
            "data": {"title": "t", "severity": "SEV-2", "commander": "alice", "alerts": [a]},
        },
        {"kind": "alert.linked", "actor": "alice", "data": b},
        {"kind": "alert.resolved", "actor": "alice", "data": {"fingerprint": "a", "name": "A"}},
    ]
    text = "".join(
        json.dumps(
            {"seq": i + 1, "id": str(i), "ts": "2026-11-27T14:10:00.000Z", "incident": "INC-20261127-0001", **line}
        )
        + "\n"
        for i, line in enumerate(lines)
    )
    (tmp_path / "incidents" / "INC-20261127-0001.jsonl").write_text(text)
    [incident] = desk(tmp_path, clock).incidents.values()
    assert incident.commander == "alice" and incident.declared_by == "alice"
    assert {k: v.firing for k, v in incident.alerts.items()} == {"a": False, "b": True}
    assert incident.alerts["b"].sources == ()  # unknown: every source must vouch for it


def pod(service: str, clock: SteppedClock, fp: str = "") -> Alert:
    alert = firing("PodDown", "critical", 5, clock, fp=fp or f"pod-{service}")
    alert.labels = {**alert.labels, "service": service}
    return alert


def test_a_storm_declares_at_most_the_limit_then_one_storm_incident(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    group_by = ["alertname", "service"]
    events = d.auto_declare([pod(f"s{i}", clock) for i in range(10)], ["critical"], group_by, limit=3, window=600)
    assert [e.kind for e in events] == ["incident.declared"] * 4
    storm = d.incidents[events[-1].incident]
    assert storm.storm and len(storm.alerts) == 7 and storm.commander == ""
    assert storm.title == "Alert storm: 7 group(s), 7 alert(s) past the auto-declare limit (3 per 10m)"
    clock.advance(60)
    [joined] = d.auto_declare([pod("late", clock)], ["critical"], group_by, limit=3, window=600)
    assert (joined.incident, joined.data["new_groups"], joined.data["revived"]) == (storm.id, 1, False)
    assert d.raging_storm(600) is storm


def test_a_storm_stops_raging_when_no_new_group_joins_within_the_window(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    group_by = ["alertname", "service"]
    d.auto_declare([pod(f"s{i}", clock) for i in range(5)], ["critical"], group_by, limit=3, window=600)
    storm = d.storm_incident()
    for minute in range(1, 30):  # a crash-looping pod of a group the storm holds, a new name every minute
        clock.advance(60)
        [again] = d.auto_declare([pod("s4", clock, fp=f"s4-{minute}")], ["critical"], group_by, limit=3, window=600)
        assert again.incident == storm.id and "new_groups" not in again.data
    assert d.raging_storm(600) is None  # same-group joins do not keep it going
    [own] = d.auto_declare([pod("payments-db", clock)], ["critical"], group_by, limit=3, window=600)
    assert own.kind == "incident.declared" and not d.incidents[own.incident].storm  # its own incident, as it should


def test_a_quiet_storm_joined_again_past_the_limit_says_so(tmp_path: Path, clock: SteppedClock) -> None:
    from oncall_tui.core.incidents.following import Followed

    d = desk(tmp_path, clock)
    group_by = ["alertname", "service"]
    d.auto_declare([pod(f"s{i}", clock) for i in range(5)], ["critical"], group_by, limit=3, window=600)
    clock.advance(700)  # quiet: past the window
    events = d.auto_declare([pod(f"n{i}", clock) for i in range(5)], ["critical"], group_by, limit=3, window=600)
    kinds = [(e.kind, e.data.get("revived")) for e in events]
    assert kinds == [("incident.declared", None)] * 3 + [("alert.linked", True)]
    notice = Followed(events).notice()
    assert (
        notice.startswith("Auto-declared 3 incidents")
        and "(alert storm): 2 alerts (PodDown ×2) joined (2 groups)" in notice
    )


def test_an_alert_joins_the_incident_that_holds_its_group(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    group_by = ["alertname", "service"]
    first = d.declare("by hand", [pod("a", clock), pod("b", clock)])  # two groups linked by hand
    assert d.of_group(pod("b", clock, fp="b2").labels, group_by) is first  # any linked alert's group
    assert d.of_group(pod("c", clock).labels, group_by) is None
    later = d.declare("later", [pod("b", clock, fp="b3")])
    assert d.of_group(pod("b", clock, fp="b4").labels, group_by) is later  # the latest open one
    d.resolve(later.id, "done")
    assert d.of_group(pod("b", clock, fp="b4").labels, group_by) is first


def test_the_consoles_own_page_is_never_declared_from_nor_linked(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    page = Alert(
        "p1",
        {
            "alertname": "OncallPage",
            "incident": "INC-20261127-0001",
            "level": "2",
            "oncall": "dana",
            "severity": "critical",
        },
        {"summary": "Page for dana"},
        clock.now,
        None,
        "",
        "active",
    )
    assert page.is_page
    assert d.auto_declare([page], ["critical"], ["alertname", "service"]) == []  # no second incident from a page
    incident = d.declare("by hand", [page])
    assert incident.alerts == {}  # never linked, so never counted as an alert in reports


def test_an_escalation_confirmed_for_a_level_another_console_took_sends_nothing(
    tmp_path: Path, clock: SteppedClock
) -> None:
    alice, bob = desk(tmp_path, clock), desk(tmp_path, clock, "bob")
    incident = alice.declare("ml-api returns 5xx")
    bob.load()
    bob.escalate(incident.id, ["dana"], to_level=2)  # bob's console, first
    with pytest.raises(IncidentError, match=r"is at level 2 now \(escalated meanwhile\): nothing was sent"):
        alice.escalate(incident.id, ["dana"], to_level=2)  # alice confirmed "level 2: dana" a moment ago
    assert [e.kind for e in alice.get(incident.id).events] == ["incident.declared", "incident.escalated"]


def test_a_page_carries_no_runbook_link_but_http_or_a_file_name(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    hostile = Alert("h1", {"alertname": "X"}, {"runbook_url": "javascript:alert(1)"}, clock.now, None, "", "active")
    named = Alert("h2", {"alertname": "Y"}, {"runbook_url": "high-error-rate.md"}, clock.now, None, "", "active")
    assert IncidentDesk._runbook(d.declare("x", [hostile])) == ""
    assert IncidentDesk._runbook(d.declare("y", [hostile, named])) == "high-error-rate.md"


def test_the_incident_shown_is_the_chosen_then_the_alerts_then_the_most_urgent(
    tmp_path: Path, clock: SteppedClock
) -> None:
    d = desk(tmp_path, clock)
    assert d.to_show(None) == (None, "")
    api = pod("api", clock)
    old_sev3 = d.declare("disk", severity="SEV-3")
    clock.advance(60)
    acked_sev1 = d.declare("outage", severity="SEV-1")
    d.acknowledge(acked_sev1.id)
    clock.advance(60)
    new_sev3 = d.declare("api pods", [api], severity="SEV-3")
    clock.advance(60)
    new_sev2 = d.declare("latency", severity="SEV-2")
    # triggered before acknowledged, then the worst severity, then the longest open
    assert d.to_show(None) == (new_sev2, "the most urgent open")
    assert d.to_show(pod("web", clock)) == (new_sev2, "the most urgent open")  # an alert of none of them
    assert d.to_show(api) == (new_sev3, "the selected alert's")
    assert d.to_show(api, chosen=old_sev3.id) == (old_sev3, "chosen")
    d.resolve(new_sev2.id, "fixed")
    d.resolve(old_sev3.id, "fixed")
    assert d.to_show(None, chosen=old_sev3.id) == (old_sev3, "chosen")  # resolved, it holds until the user moves
    assert d.to_show(None) == (new_sev3, "the most urgent open")
    d.resolve(new_sev3.id, "fixed")
    assert d.to_show(None) == (acked_sev1, "the open one")


def test_an_alert_of_an_incident_s_group_shows_that_incident(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    api = d.declare("api pods", [pod("api", clock, fp="a1")], severity="SEV-3")
    d.declare("latency", severity="SEV-1")  # more urgent, but not this alert's
    sibling = pod("api", clock, fp="a2")  # not linked, same alertname and service
    assert d.to_show(sibling, group_by=["alertname", "service"]) == (api, "the selected alert's")
    assert d.of_alert(sibling, ["alertname", "service"]) is api  # and a step run for it joins it too


def test_read_only_is_enforced_in_the_desk_whatever_path_asks(
    tmp_path: Path, clock: SteppedClock, sim: SimServer
) -> None:
    writer = desk(tmp_path, clock)
    incident = writer.declare("already open", [pod("api", clock)])
    before = (tmp_path / "incidents" / f"{incident.id}.jsonl").read_bytes()
    pager = AlertmanagerPager([AlertmanagerSource(name="prod", url=sim.url)], "prod", 60)
    reader = IncidentDesk(tmp_path, "bob", clock=clock, pager=pager, read_only=True).load()
    for action in (
        lambda: reader.declare("another"),
        lambda: reader.acknowledge(incident.id),
        lambda: reader.escalate(incident.id, ["dana"], last_level=3),
        lambda: reader.note(incident.id, "x"),
        lambda: reader.resolve(incident.id, "x"),
        lambda: reader.record(incident.id, "silence.created", "Silence s1 created", {}),
    ):
        with pytest.raises(IncidentError, match=r"^read-only \(started with --read-only\)"):
            action()
    assert reader.keep_pages({}) == [] and reader.end_pages(reader.get(incident.id)) == []
    assert (tmp_path / "incidents" / f"{incident.id}.jsonl").read_bytes() == before  # nothing written
    assert sorted(p.name for p in (tmp_path / "incidents").iterdir()) == [f"{incident.id}.jsonl"]
    assert sim.store.get_alerts() == []  # no page was sent


def test_a_silence_is_recorded_on_the_incidents_whose_alerts_it_catches(tmp_path: Path, clock: SteppedClock) -> None:
    d = desk(tmp_path, clock)
    api, web = pod("api", clock), pod("web", clock)
    of_api, of_web = d.declare("api pods", [api]), d.declare("web pods", [web])
    matchers = (SilenceMatcher("service", "api"),)
    request = SilenceRequest(matchers, clock.now, clock.now + timedelta(hours=1), "alice", "rolling back")
    assert d.record_silence("silence.created", "s1", matchers, "Silence s1 created for 1h", [api, web], request) == []
    [created] = [e for e in d.get(of_api.id).events if e.kind == "silence.created"]
    assert created.data["created_by"] == "alice" and created.data["comment"] == "rolling back"
    assert not any(e.kind.startswith("silence.") for e in d.get(of_web.id).events)  # not its alerts
    unreadable = (SilenceMatcher("service", "\\pL+", is_regex=True),)  # RE2's, made elsewhere
    d.record_silence("silence.expired", "s1", unreadable, "Silence s1 expired", [api, web])
    assert [e.kind for e in d.get(of_api.id).events][-1] == "silence.expired"  # it mentions s1
    assert not any(e.kind.startswith("silence.") for e in d.get(of_web.id).events)
