"""Pilot tests for the incident keys, their confirmations, refusals and automatic events."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from oncall_tui.core.alerts.models import SilenceMatcher
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.timeline import Journal
from oncall_tui.services import READ_ONLY
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.main_screen import MainScreen
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import SeverityPicker, TextPrompt
from tests.conftest import SteppedClock, alert, make_config, notes, until

FIRING = [
    alert("HighErrorRate", "critical", {"summary": "ml-api errors"}, service="ml-api"),
    alert("DiskWillFill", "warning", instance="db-1"),
]


async def start(app: OncallApp, pilot: Pilot) -> None:
    await until(lambda: len(app.main.alert_list.alerts) == 2, what="the alerts")
    await pilot.pause()


async def declared(app: OncallApp, pilot: Pilot) -> Incident:
    await pilot.press("i")
    assert isinstance(app.screen, TextPrompt)
    await pilot.press("enter")
    await until(lambda: app.services.desk.open_incidents(), what="the incident")
    await until(lambda: not app.main.incident_pane.pending, what="the declaration to be recorded")
    return app.main.incident_pane.active()


@pytest.fixture
async def console(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> AsyncIterator[tuple[OncallApp, Pilot]]:
    sim.store.post_alerts(FIRING)
    config = make_config(
        sim.url, data_dir=str(tmp_path / "data"), oncall={"escalation": [{"level": 2, "users": ["dana", "erin"]}]}
    )
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        yield app, pilot


async def test_declare_from_the_selected_alert(console: tuple[OncallApp, Pilot], tmp_path: Path) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    assert incident.title == "HighErrorRate: ml-api errors" and incident.severity == "SEV-2"
    assert list(a.name for a in incident.alerts.values()) == ["HighErrorRate"]
    assert "INCIDENT INC-20261127-0001" in str(app.main.incident_pane.render())
    journal = Journal.open(tmp_path / "data" / "incidents" / "INC-20261127-0001.jsonl")
    assert [e.kind for e in journal.events] == ["incident.declared"]
    assert any("Declared SEV-2" in line.text for line in app.main.timeline.lines)


async def test_every_key_is_recorded(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    incident = await declared(app, pilot)

    async def recorded(count: int) -> None:
        await until(
            lambda: len(incident.events) == count and not app.main.incident_pane.pending, what=f"{count} events"
        )

    await pilot.press("a")
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("y")
    await recorded(2)
    await pilot.press("e")
    assert "Escalate to level 2 (dana, erin)" in str(app.screen.query_one("#confirm-question").render())
    assert "Nobody will be paged: no paging is configured" in str(app.screen.query_one("#confirm-detail").render())
    await pilot.press("y")
    await recorded(3)
    await pilot.press("v")
    assert isinstance(app.screen, SeverityPicker)
    await pilot.press("1")
    await recorded(4)
    await pilot.press("m")
    await recorded(5)
    await pilot.press("n", *"TODO: page the db team", "enter")
    await recorded(6)
    await pilot.press("R")
    assert isinstance(app.screen, TextPrompt)
    assert app.screen.label.endswith(". 1 of its 1 alert(s) still fire")  # said before it is resolved
    await pilot.press("enter")  # an empty resolution is refused in the prompt
    assert isinstance(app.screen, TextPrompt)
    await pilot.press(*"rolled back", "enter")
    await recorded(7)
    assert [e.kind for e in incident.events] == [
        "incident.declared",
        "incident.acknowledged",
        "incident.escalated",
        "incident.severity_changed",
        "incident.stage_changed",
        "note",
        "incident.resolved",
    ]
    assert (incident.status, incident.severity, incident.escalation_level) == ("resolved", "SEV-1", 2)
    assert incident.action_items == ["page the db team"]
    await pilot.press("x")
    await recorded(8)
    assert incident.events[-1].kind == "export"
    assert Path(incident.events[-1].data["path"]).read_text().startswith("# Postmortem: HighErrorRate")
    lines = [line.text for line in app.main.timeline.lines]
    assert len(lines) >= 8 and "UTC" in lines[0]


async def test_cancel_and_refusals(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("e")
    assert notes(app)[-1].startswith("No open incident")
    await pilot.press("a")  # with none open, a offers to acknowledge the alert: cancelled, nothing sent
    assert (
        isinstance(app.screen, TextPrompt)
        and app.screen.title_text.startswith("Acknowledge ")
        and "(1 alert)" in app.screen.title_text
    )
    await pilot.press("escape")
    assert not app.main.alerts.created_silences
    incident = await declared(app, pilot)
    await pilot.press("a", "escape")  # cancelled: nothing recorded
    await pilot.pause()
    assert len(incident.events) == 1
    await pilot.press("c")
    await pilot.press("y")
    await until(lambda: any("already the commander" in n for n in notes(app)), what="the refusal")
    assert len(incident.events) == 1


class SlowProvider:
    """Holds every action until released, as a slow PagerDuty would."""

    name = "slow"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[str] = []

    def confirm(self, incident: Incident, action: str, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(action)
        self.release.wait(60)  # longer than any condition wait: the test must release it
        return {}


async def test_a_second_press_while_pending_is_not_sent_twice(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    slow = SlowProvider()
    app.services.desk.provider = slow
    await pilot.press("a", "y")
    await until(lambda: slow.calls == ["incident.acknowledged"], what="the ack to be sent")
    await pilot.pause()
    assert "acknowledging…" in str(app.main.incident_pane.render())
    await pilot.press("a")
    assert not isinstance(app.screen, ConfirmScreen)
    assert notes(app)[-1] == f"Still acknowledging {incident.id}: not sent twice."
    polls = app.services.board.polls
    await until(lambda: app.services.board.polls >= polls + 3, what="polling to go on while the provider is slow")
    slow.release.set()
    await until(lambda: incident.status == "acknowledged" and not app.main.incident_pane.pending, what="the ack")
    assert slow.calls == ["incident.acknowledged"]
    assert "acknowledging…" not in str(app.main.incident_pane.render())


async def test_switching_between_open_incidents_and_notes_only(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    first = await declared(app, pilot)
    await pilot.press("j")
    await pilot.press("i", "enter")
    await until(
        lambda: len(app.services.desk.open_incidents()) == 2 and not app.main.incident_pane.pending,
        what="a second incident",
    )
    second = app.main.incident_pane.active()
    assert second is not first  # the selected alert's (just declared from it)
    assert "(just declared · 2 of 2 open · I switches)" in str(app.main.incident_pane.render())
    await pilot.press("I")
    assert app.main.incident_pane.active() is first
    await pilot.press("n", *"a note", "enter")
    await until(lambda: len(first.events) == 2, what="the note")
    await pilot.press("t")
    await pilot.pause()
    assert [line.text.split(" ", 3)[-1] for line in app.main.timeline.lines] == ["Note: a note"]
    await pilot.press("k")  # the first's alert: its incident follows it
    await pilot.pause()
    assert app.main.incident_pane.active() is first and "(the selected alert's · 1 of 2 open" in str(
        app.main.incident_pane.render()
    )
    await pilot.press("j")
    await pilot.pause()
    assert app.main.incident_pane.active() is second  # and the second's follows it


async def test_read_only_refuses_every_incident_key(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    data = tmp_path / "data"
    desk = IncidentDesk(data, "alice", clock=clock).load()
    incident = desk.declare("already open")
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url, data_dir=str(data)), read_only=True, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        await until(
            lambda: getattr(app.main.incident_pane.active(), "id", None) == incident.id, what="the incident to resume"
        )
        for key in ("i", "a", "e", "v", "m", "R", "n", "c"):
            await pilot.press(key)
            assert app.screen is app.screen_stack[0], key
        assert notes(app).count(READ_ONLY) == 8
    assert len(Journal.open(desk.journals[incident.id].path).events) == 1


async def test_a_full_data_dir_refuses_with_the_os_error_and_the_ui_stays_up(
    sim: SimServer, clock: SteppedClock, tiny_disk: Path
) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url, data_dir=str(tiny_disk)), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        incident = await declared(app, pilot)
        with (tiny_disk / "filler").open("wb", buffering=0) as filler:  # fill the disk to the last byte
            while True:
                try:
                    filler.write(b"\0" * 512)
                except OSError:
                    break
        await pilot.press("n")
        app.screen.query_one("#prompt-input").value = "a long note " * 500  # more than the page the file has
        await pilot.press("enter")
        await until(
            lambda: any(n.startswith("Not recorded: No space left on device") for n in notes(app)), what="the refusal"
        )
        assert len(incident.events) == 1
        await pilot.press("j")  # still answering
        assert app.main.alert_list.current.name == "DiskWillFill"
        (tiny_disk / "filler").unlink()
        await pilot.press("n", *"after", "enter")
        await until(lambda: len(incident.events) == 2, what="the note once there is room")


async def test_automatic_events_and_auto_declare(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    sim.store.post_alerts(FIRING)
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), incidents={"auto_declare": ["critical"]})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.services.desk.open_incidents(), what="the auto-declared incident")
        [incident] = app.services.desk.open_incidents()
        assert [a.name for a in incident.alerts.values()] == ["HighErrorRate"]
        polls = app.services.board.polls
        await until(lambda: app.services.board.polls >= polls + 3, what="more polls")
        assert len(app.services.desk.incidents) == 1 and len(incident.events) == 1  # once, not once a poll
        await pilot.press("s", *"fixing", "enter")  # silence the linked alert
        await until(lambda: any(e.kind == "silence.created" for e in incident.events), what="the silence event")
        [silenced] = [e for e in incident.events if e.kind == "silence.created"]  # as the form sent it
        assert (silenced.data["created_by"], silenced.data["comment"]) == ("alice", "fixing")
        assert silenced.data["starts_at"] < silenced.data["ends_at"] and silenced.data["ends_at"].endswith("Z")
        sim.store.resolve(FIRING[0]["labels"])
        await until(lambda: any(e.kind == "alert.resolved" for e in incident.events), what="the resolution")
        assert [e.kind for e in incident.events].count("alert.resolved") == 1


async def test_an_auto_declared_incident_is_shown_only_where_it_takes_no_ones_place(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    warnings = [alert("DiskWillFill", "warning", instance="db-1"), alert("HighLatency", "warning", service="search")]
    sim.store.post_alerts(warnings)
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), incidents={"auto_declare": ["critical"]})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        pane, desk = app.main.incident_pane, app.services.desk
        await start(app, pilot)
        mine = await declared(app, pilot)  # the user's, on the alert under the cursor
        sim.store.post_alerts([alert("HighErrorRate", "critical", service="ml-api")])
        await until(lambda: len(desk.open_incidents()) == 2, what="the auto-declared incident")
        await until(lambda: "declared for" in " ".join(notes(app)) or len(notes(app)) > 1, what="its notice")
        await pilot.pause()
        assert pane.drawn == mine.id and "(just declared" in str(pane.render())  # the user's choice holds
        await pilot.press("j")  # onto an alert of no incident: the choice is let go
        await until(lambda: pane.selected == app.main.alert_list.current and pane.chosen is None, what="the move")
        shown = pane.drawn
        sim.store.post_alerts([alert("QueueStalled", "critical", service="queue")])
        await until(lambda: len(desk.open_incidents()) == 3, what="the second auto-declared incident")
        [new] = [i for i in desk.open_incidents() if "QueueStalled" in {a.name for a in i.alerts.values()}]
        await until(lambda: pane.drawn == new.id, what="the new incident shown")
        assert shown != new.id and "(declared by oncall-tui (auto_declare) ·" in str(pane.render())
        await pilot.press("k")  # the user moves again: the pane follows the cursor, not the console's choice
        await until(lambda: pane.chosen is None, what="the move")


async def test_a_silence_with_a_regex_the_console_cannot_read_is_recorded_where_mentioned(
    console: tuple[OncallApp, Pilot],
) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    unreadable = (SilenceMatcher("service", r"\pL+-api", is_regex=True),)  # RE2 reads it; Python cannot
    await asyncio.to_thread(
        app.services.desk.record_silence,
        "silence.expired",
        "made-elsewhere",
        unreadable,
        "expired",
        app.services.board.alerts,
    )
    assert [e.kind for e in incident.events] == ["incident.declared"]  # no crash, and nothing claimed
    app.services.desk.record(incident.id, "silence.created", "created", {"silence_id": "made-elsewhere"})
    await asyncio.to_thread(
        app.services.desk.record_silence,
        "silence.expired",
        "made-elsewhere",
        unreadable,
        "expired",
        app.services.board.alerts,
    )
    assert [e.kind for e in incident.events][-1] == "silence.expired"


async def test_a_restart_resumes_the_open_incident(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    sim.store.post_alerts(FIRING)
    config = make_config(sim.url, data_dir=str(tmp_path / "data"))
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        incident = await declared(app, pilot)
        await pilot.press("a", "y")
        await until(lambda: incident.status == "acknowledged", what="the ack")
    again = oncall_app(config, clock=clock)
    async with again.run_test(size=(160, 45)) as pilot:
        await until(
            lambda: getattr(again.main.incident_pane.active(), "id", None) == incident.id, what="the incident to resume"
        )
        await pilot.pause()
        assert "acknowledged" in str(again.main.incident_pane.render())
        text = " ".join(line.text for line in again.main.timeline.lines)
        assert "Declared SEV-2" in text and "Acknowledged" in text


async def test_declare_from_several_marked_alerts(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await pilot.press("space", "space")  # mark both alerts (the cursor moves on after each)
    assert len(app.main.alert_list.marked) == 2
    assert app.main.alert_list.render_line(0).text.startswith("✚")
    await pilot.press("i")
    assert "linking 2 alert(s): DiskWillFill, HighErrorRate" in str(app.screen.query_one("#prompt-label").render())
    await pilot.press("enter")
    await until(lambda: app.services.desk.open_incidents() and not app.main.incident_pane.pending, what="the incident")
    [incident] = app.services.desk.open_incidents()
    assert sorted(a.name for a in incident.alerts.values()) == ["DiskWillFill", "HighErrorRate"]
    assert app.main.alert_list.marked == set()


async def test_marks_outlive_a_declaration_that_failed(sim: SimServer, clock: SteppedClock, tiny_disk: Path) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url, data_dir=str(tiny_disk)), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        await pilot.press("space", "space")
        with (tiny_disk / "filler").open("wb", buffering=0) as filler:  # no room for a new journal
            while True:
                try:
                    filler.write(b"\0" * 512)
                except OSError:
                    break
        await pilot.press("i", "enter")
        await until(lambda: any("No space left on device" in n for n in notes(app)), what="the refusal")
        await until(lambda: not app.main.incident_pane.pending, what="the declaration to be over")
        assert not app.services.desk.open_incidents() and len(app.main.alert_list.marked) == 2  # nothing lost
        (tiny_disk / "filler").unlink()
        await pilot.press("i", "enter")
        await until(lambda: app.services.desk.open_incidents() and not app.main.incident_pane.pending, what="it")
        [incident] = app.services.desk.open_incidents()
        assert len(incident.alerts) == 2 and app.main.alert_list.marked == set()


async def test_on_call_pane_and_handoffs_during_an_incident(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts(FIRING)
    oncall = {
        "schedules": [
            {
                "name": "Primary",
                "time_zone": "UTC",
                "layers": [
                    {
                        "start": "2026-11-01T00:00:00",
                        "rotation_virtual_start": "2026-11-27T14:33:00",
                        "rotation_turn_length_seconds": 3600,
                        "users": ["alice", "bob"],
                    }
                ],
            }
        ],
        "escalation": [{"level": 1, "schedule": "Primary"}, {"level": 2, "users": ["dana"]}],
    }
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data"), oncall=oncall), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await start(app, pilot)
        incident = await declared(app, pilot)
        app.main.oncall_pane.show()
        pane = str(app.main.oncall_pane.render())
        assert "L1 bob  Primary" in pane and "until Fri 14:33 UTC (in 0m 55s)" in pane and "next alice" in pane
        assert "L2 dana" in pane
        await pilot.press("e")
        assert "Escalate to level 2 (dana)" in str(app.screen.query_one("#confirm-question").render())
        # who was on call at each level as it was declared is on the record, for the postmortem
        assert incident.events[0].data["oncall"] == [
            {"level": 1, "users": ["bob"], "source": "Primary"},
            {"level": 2, "users": ["dana"], "source": "users"},
        ]
        await pilot.press("escape")
        clock.advance(60)  # past the handoff
        app.main.oncall_pane.show()
        await until(lambda: any(e.kind == "oncall.handoff" for e in incident.events), what="the handoff event")
        [handoff] = [e for e in incident.events if e.kind == "oncall.handoff"]
        assert handoff.summary == "On-call handoff L1: bob → alice"
        assert handoff.who == "oncall-tui (schedule)"  # the schedule did it, not the person at the keyboard
        assert "L1 alice" in str(app.main.oncall_pane.render())
        app.main.oncall_pane.show()  # no second record for the same handoff
        await pilot.pause()
        assert [e.kind for e in incident.events].count("oncall.handoff") == 1


async def test_starting_with_alertmanager_down_resolves_nothing(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    from oncall_tui.core.alerts.models import Alert

    data = tmp_path / "data"
    linked = Alert("fp", {"alertname": "HighErrorRate", "severity": "critical"}, {}, clock.now, None, "", "active")
    incident = IncidentDesk(data, "alice", clock=clock).load().declare("open", [linked])
    sim.stop()
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.services.board.polls >= 3, what="three failed polls")
        assert [e.kind for e in app.services.desk.get(incident.id).events] == ["incident.declared"]


async def test_an_event_recorded_while_the_timeline_draws_is_shown_next_time(clock: SteppedClock) -> None:
    """A worker thread appends to the incident's events at any moment; the pane must not
    count an event it did not draw (a step's end once went missing this way)."""
    from textual.app import App, ComposeResult

    from oncall_tui.core.incidents.timeline import TimelineEvent
    from oncall_tui.ui.widgets.timeline_pane import TimelinePane

    def event(seq: int, summary: str) -> TimelineEvent:
        return TimelineEvent(seq, f"id{seq}", clock.now, "INC-1", "note", "alice", summary, {})

    class AppendsWhileRead(list):
        """Appends the next event right after any read, as a worker thread could."""

        def __init__(self, events: list[TimelineEvent], then: TimelineEvent) -> None:
            super().__init__(events)
            self.then = then

        def _then(self) -> None:
            if self.then:
                then, self.then = self.then, None
                self.append(then)

        def __getitem__(self, index):
            read = super().__getitem__(index)
            self._then()
            return read

        def __iter__(self):
            read = iter(list(super().__iter__()))
            self._then()
            return read

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield TimelinePane()

    incident = Incident("INC-1")
    incident.events = AppendsWhileRead([event(1, "Note: first")], then=event(2, "Note: second"))
    async with One().run_test(size=(100, 10)) as pilot:
        pane = pilot.app.query_one(TimelinePane)
        pane.show(incident)
        pane.show(incident)
        await pilot.pause()
        assert [line.text.split(" ", 3)[-1] for line in pane.lines] == ["Note: first", "Note: second"]


async def test_an_unpaged_escalation_says_so_and_the_last_level_is_refused(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    await pilot.press("e", "y")
    await until(lambda: incident.escalation_level == 2 and not app.main.incident_pane.pending, what="the escalation")
    event = incident.events[-1]
    assert event.summary == "Escalated to level 2 (dana, erin): nobody was paged: no paging is configured"
    assert event.data["unpaged"] == "no paging is configured" and "paged" not in event.data
    await pilot.press("e")  # level 2 is the last: refused before anything is asked or recorded
    assert not isinstance(app.screen, ConfirmScreen)
    assert "Not escalated: level 2 is the last escalation level: there is nobody further to page" in notes(app)
    assert [e.kind for e in incident.events] == ["incident.declared", "incident.escalated"]


async def test_the_timeline_wraps_again_when_the_terminal_shrinks(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    await pilot.press("n")
    app.screen.query_one("#prompt-input").value = "the error rate rose right after deploy 42 of ml-api " * 3
    await pilot.press("enter")
    await until(lambda: len(incident.events) == 2, what="the note")
    await pilot.pause()
    wide = len(app.main.timeline.lines)
    await pilot.resize_terminal(80, 24)
    await until(lambda: len(app.main.timeline.lines) > wide, what="the lines wrapped again at the new width")
    width = app.main.timeline.scrollable_content_region.width
    assert all(line.cell_length <= width for line in app.main.timeline.lines)  # nothing cut at the edge


async def two_incidents(app: OncallApp, pilot: Pilot) -> tuple[Incident, Incident]:
    """One declared from the first alert, one from the second; the cursor on the second."""
    first = await declared(app, pilot)
    await pilot.press("j", "i", "enter")
    await until(
        lambda: len(app.services.desk.open_incidents()) == 2 and not app.main.incident_pane.pending,
        what="a second incident",
    )
    second = app.main.incident_pane.active()
    assert second is not first
    return first, second


async def test_a_prompt_acts_on_the_incident_it_named_whatever_the_pane_moved_to(
    console: tuple[OncallApp, Pilot],
) -> None:
    app, pilot = console
    first, second = await two_incidents(app, pilot)
    await pilot.press("k")  # the first's alert: its incident
    await until(lambda: app.main.incident_pane.drawn == first.id, what="the first incident shown")
    await pilot.press("R")
    assert str(app.screen.query_one("#prompt-label").render()).startswith("Resolution")
    app.main.alert_list.action_cursor(1)  # the alert under the prompt moves (a poll, a resolved alert)
    await until(lambda: app.main.incident_pane.drawn == second.id, what="the pane to move to the second")
    app.screen.query_one("#prompt-input").value = "rolled back"
    await pilot.press("enter")
    await until(lambda: not first.is_open and not app.main.incident_pane.pending, what="the resolution")
    assert second.is_open  # the prompt said "Resolve · <first>": the first it is


async def test_a_key_right_after_the_cursor_moved_acts_on_nothing_unseen(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    first, second = await two_incidents(app, pilot)
    await pilot.press("k", "j")  # the second shown as the selected alert's, not as just declared
    await until(lambda: "(the selected alert's" in str(app.main.incident_pane.render()), what="the second, followed")
    said = f"Not done: the pane changed to {first.id} as you pressed. Check it, then press again."
    for key in ("advance_stage", "note", "export"):  # k, then the key before the pane redrew
        await pilot.press("j")
        await until(lambda: app.main.incident_pane.drawn == second.id, what="the second drawn again")
        app.main.alert_list.action_cursor(-1)  # the pane still shows the second
        getattr(app.main, f"action_{key}")()
        await until(lambda: notes(app).count(said) == 1, what=f"the refusal of {key}")
        app.clear_notifications()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no note prompt for an incident never seen
    assert first.stage == "Acknowledge" and second.stage == "Acknowledge" and not app.main.incident_pane.pending
    assert not (app.services.config.data_dir / "exports").exists()


async def test_a_resolved_incident_stays_in_view_for_its_export(
    console: tuple[OncallApp, Pilot], tmp_path: Path
) -> None:
    app, pilot = console
    incident = await declared(app, pilot)
    await pilot.press("R")
    app.screen.query_one("#prompt-input").value = "fixed"
    await pilot.press("enter")
    await until(lambda: not incident.is_open and not app.main.incident_pane.pending, what="the resolution")
    await pilot.press("j")  # another alert: no incident open, the resolved one stays shown
    await pilot.pause()
    assert app.main.incident_pane.active() is incident and "resolved" in str(app.main.incident_pane.render())


async def test_a_resolved_incident_stays_in_view_while_another_is_open_until_the_cursor_moves(
    console: tuple[OncallApp, Pilot],
) -> None:
    app, pilot = console
    first, second = await two_incidents(app, pilot)
    await pilot.press("R")  # the second, the selected alert's
    app.screen.query_one("#prompt-input").value = "fixed"
    await pilot.press("enter")
    await until(lambda: not second.is_open and not app.main.incident_pane.pending, what="the resolution")
    assert any(n.startswith("Recorded: Resolved") and n.endswith(second.id) for n in notes(app))
    await pilot.pause()
    pane = str(app.main.incident_pane.render())
    assert second.id in pane and "just resolved" in pane  # not the first, though it is open
    await pilot.press("m")  # a key on the resolved one says so, and changes nothing
    assert any(n.startswith(f"{second.id} is resolved") for n in notes(app))
    await pilot.press("k")  # the user moves: the open one shows again
    await until(lambda: app.main.incident_pane.drawn == first.id, what="the open incident shown")


async def test_a_narrow_incident_pane_says_why_on_its_border(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts(FIRING)
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await start(app, pilot)
        pane = app.main.incident_pane
        await declared(app, pilot)
        await pilot.pause()
        assert pane.size.width < 40 and "just declared" not in str(pane.render())  # no room in the text
        assert pane.border_subtitle == "just declared"
        await pilot.press("j")  # DiskWillFill: no incident of its own, the one open shows, as at any width
        await until(lambda: pane.border_subtitle == "", what="no why for the only one open")
        await pilot.press("k")
        await until(lambda: pane.border_subtitle == "the selected alert's", what="the why on the border")


async def test_a_linked_alert_silenced_since_reads_firing_silenced_not_plain_firing(
    console: tuple[OncallApp, Pilot], sim: SimServer, clock: SteppedClock
) -> None:
    """Still firing, but nobody is notified of it: the pane says both."""
    app, pilot = console
    await declared(app, pilot)
    assert "alerts HighErrorRate (firing)" in str(app.main.incident_pane.render())
    ends = clock() + timedelta(hours=1)
    matcher = {"name": "alertname", "value": "HighErrorRate", "isRegex": False, "isEqual": True}
    sim.store.post_silence(
        {
            "matchers": [matcher],
            "startsAt": clock().isoformat(),
            "endsAt": ends.isoformat(),
            "createdBy": "bob",
            "comment": "x",
        }
    )
    await pilot.press("ctrl+r")
    await until(lambda: "HighErrorRate (firing, silenced)" in str(app.main.incident_pane.render()), what="silenced")
