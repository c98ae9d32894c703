"""Acks that last until the alert resolves: which the keeper extends, which it expires, and
which it leaves alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from oncall_tui.core.alerts.acks import AckKeeper, ack_request, acked_by, extended, is_ack, lost
from oncall_tui.core.alerts.models import Alert, Silence, SilenceMatcher

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def ack(sid: str, by: str = "alice", left: float = 600, source: str = "prod", comment: str = "ACK! on it") -> Silence:
    matchers = (SilenceMatcher("alertname", "HighErrorRate"),)
    return Silence(
        sid, matchers, NOW - timedelta(minutes=10), NOW + timedelta(seconds=left), by, comment, "active", source
    )


def firing(*silenced_by: str) -> Alert:
    return Alert("f", {"alertname": "HighErrorRate"}, {}, NOW, None, "", "silenced", silenced_by)


def test_an_ack_is_a_silence_of_the_labels_by_the_user_whose_comment_starts_ack() -> None:
    request = ack_request({"service": "ml-api", "alertname": "X"}, "alice", " rolling back ", 900, NOW)
    assert [str(m) for m in request.matchers] == ['alertname="X"', 'service="ml-api"']
    assert (request.created_by, request.comment, request.ends_at - request.starts_at) == (
        "alice",
        "ACK! rolling back",
        timedelta(minutes=15),
    )
    assert ack_request({"a": "b"}, "alice", "", 900, NOW).comment == "ACK!"
    assert is_ack(ack("1")) and not is_ack(ack("1", comment="maintenance"))
    again = extended(ack("1", left=60), 900, NOW)
    assert again.id == "1" and again.ends_at == NOW + timedelta(minutes=15) and again.comment == "ACK! on it"


def test_the_authors_ack_is_extended_while_its_alert_fires_and_only_when_little_is_left() -> None:
    keeper = AckKeeper("alice", extend_before=300, expire_after_resolved=60)
    soon, later = ack("soon", left=120), ack("later", left=1200)
    plan = keeper.plan([soon, later], [firing("soon", "later")], {"prod"}, NOW)
    assert [s.id for s in plan.extend] == ["soon"] and plan.expire == []


def test_an_ack_whose_alerts_resolved_expires_after_the_grace_not_before() -> None:
    keeper = AckKeeper("alice", extend_before=300, expire_after_resolved=60)
    one = ack("1")
    assert keeper.plan([one], [firing("1")], {"prod"}, NOW).expire == []  # fires: seen now
    assert keeper.plan([one], [], {"prod"}, NOW + timedelta(seconds=30)).expire == []  # resolved 30 s ago
    assert [s.id for s in keeper.plan([one], [], {"prod"}, NOW + timedelta(seconds=61)).expire] == ["1"]


def test_an_ack_first_seen_with_no_alert_is_watched_for_the_grace_before_it_expires() -> None:
    """At start, or after Alertmanager restarted and forgot its alerts: an ack made ten minutes
    ago is not expired at the first look, only once nothing has fired for the grace."""
    keeper = AckKeeper("alice", extend_before=300, expire_after_resolved=60)
    old = ack("old")
    assert keeper.plan([old], [], {"prod"}, NOW).expire == []
    assert keeper.plan([old], [firing("old")], {"prod"}, NOW + timedelta(seconds=50)).expire == []  # resent
    assert keeper.plan([old], [], {"prod"}, NOW + timedelta(seconds=100)).expire == []
    assert [s.id for s in keeper.plan([old], [], {"prod"}, NOW + timedelta(seconds=111)).expire] == ["old"]
    keeper.plan([], [], {"prod"}, NOW)
    assert keeper.last_fired == {}  # an ack gone (or replaced by a new ID) is forgotten


def test_another_users_ack_and_one_from_a_source_not_answering_are_left_alone() -> None:
    keeper = AckKeeper("alice", extend_before=300, expire_after_resolved=0)
    bobs, silent = ack("b", by="bob", left=10), ack("s", left=10, source="dr")
    plan = keeper.plan([bobs, silent], [], {"prod"}, NOW)
    assert plan.extend == [] and plan.expire == []  # bob's console keeps bob's; dr's alerts are unknown


def test_an_alert_silenced_by_an_ack_says_whose() -> None:
    acks = {"1": ack("1")}
    assert acked_by(firing("1"), acks) is acks["1"] and acked_by(firing("other"), acks) is None


def test_an_ack_gone_from_alertmanagers_silences_is_lost_one_expired_or_ended_is_not() -> None:
    """An Alertmanager restarted before it saved its silences lists them no more: their alerts
    are not acked now, and that is said, not passed over."""
    kept, vanished, ended = ack("1"), ack("2"), ack("3", left=-1)
    expired = replace(ack("4"), state="expired")
    before = {s.id: s for s in (kept, vanished, ended, expired)}
    assert lost(before, [kept, expired], NOW) == [vanished]
    assert lost(before, [kept, vanished, expired], NOW) == []
