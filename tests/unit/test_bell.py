"""The bell rings for a new urgent alert, once, and never for what fired before the console knew."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.bell import AlertBell, desktop_notification

AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def make(fp: str, severity: str = "critical", state: str = "active", source: str = "prod") -> Alert:
    return Alert(fp, {"alertname": f"A{fp}", "severity": severity}, {}, AT, None, "", state, sources=(source,))


def test_a_new_critical_rings_once_and_what_fired_at_start_never() -> None:
    bell = AlertBell("critical")
    assert bell.new([make("old")], ["prod"]) == []  # the first answer: firing before we looked
    [new] = bell.new([make("old"), make("new")], ["prod"])
    assert new.fingerprint == "new"
    assert bell.new([make("old"), make("new")], ["prod"]) == []  # once
    assert bell.new([make("old")], ["prod"]) == [] and [
        a.fingerprint for a in bell.new([make("old"), make("new")], ["prod"])
    ] == ["new"]  # it fired again


def test_a_source_first_heard_late_does_not_ring_for_what_it_had() -> None:
    bell = AlertBell("critical")
    bell.new([make("a")], ["prod"])  # dr is down at start
    assert bell.new([make("a"), make("b", source="dr")], ["prod", "dr"]) == []
    assert [
        a.fingerprint for a in bell.new([make("a"), make("b", source="dr"), make("c", source="dr")], ["prod", "dr"])
    ] == ["c"]


def test_only_what_is_urgent_enough_firing_and_vouched_for_rings() -> None:
    bell = AlertBell("error")
    bell.new([], ["prod"])
    stale = make("s")
    stale.stale = True
    alerts = [make("w", "warning"), make("e", "error"), make("m", state="silenced"), stale, make("c")]
    assert [a.fingerprint for a in bell.new(alerts, ["prod"])] == ["e", "c"]


def test_the_desktop_notification_cannot_be_ended_or_split_by_a_label() -> None:
    sequence = desktop_notification("critical alert", "Evil\x07\x1b]0;pwned\x07;x")
    assert sequence.count("\x07") == 2 and sequence.count("\x1b") == 2  # its own two only
    assert sequence.startswith("\x1b]9;critical alert: Evil⟨U+0007⟩⟨ESC⟩]0,pwned⟨U+0007⟩,x\x07")
    assert sequence.endswith("\x1b]777;notify;critical alert;Evil⟨U+0007⟩⟨ESC⟩]0,pwned⟨U+0007⟩,x\x07")


def test_your_shift_rings_once_within_fifteen_minutes_of_it() -> None:
    from datetime import timedelta

    from oncall_tui.core.bell import ShiftBell
    from oncall_tui.core.oncall.roster import LevelNow

    start = AT + timedelta(minutes=20)
    level = LevelNow(1, "primary", ("bob",), start, ("alice",), None)
    bell = ShiftBell({"alice"})
    assert bell.due([level], AT) == []  # twenty minutes: not yet
    assert bell.due([level], AT + timedelta(minutes=6)) == [level]
    assert bell.due([level], AT + timedelta(minutes=7)) == []  # once
    bobs = LevelNow(2, "secondary", ("alice",), start, ("bob",), None)
    assert bell.due([bobs], AT + timedelta(minutes=6)) == []  # bob's, not hers


def test_an_escalation_to_you_by_someone_else_rings_once_and_what_was_recorded_before_never(tmp_path) -> None:
    from oncall_tui.core.bell import PageBell
    from oncall_tui.core.incidents.desk import IncidentDesk

    bob = IncidentDesk(tmp_path, "bob").load()
    incident = bob.declare("x")
    bob.record(
        incident.id, "incident.escalated", "Escalated to level 2: paged alice", {"level": 2, "targets": ["alice"]}
    )
    bell = PageBell({"alice", "alice@example.com"})
    assert bell.new([bob.get(incident.id)]) == []  # on the record at start
    bob.record(
        incident.id, "incident.escalated", "Escalated to level 3: paged alice", {"level": 3, "targets": ["alice"]}
    )
    [event] = bell.new([bob.get(incident.id)])
    assert event.summary == "Escalated to level 3: paged alice" and bell.new([bob.get(incident.id)]) == []
    alice = IncidentDesk(tmp_path, "alice").load()
    alice.record(
        incident.id, "incident.escalated", "Escalated to level 4: paged alice", {"level": 4, "targets": ["alice"]}
    )
    assert bell.new([alice.get(incident.id)]) == []  # her own doing
