"""Whether a linked alert resolved, by its own sources' word: restarts, dead sources, flapping.

Plain unit tests with a stepped clock and hand-made source statuses; the board and the
real Alertmanager restart are tested in test_board.py and tests/integration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.alerts.tracking import Sightings, SourceStatus, sender
from oncall_tui.core.config import IncidentsConfig
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.following import PollFollower
from tests.conftest import FROZEN, SteppedClock

DAY_AGO = FROZEN - timedelta(days=1)
PROM = "http://prometheus:9090"


def up(name: str, since: datetime = DAY_AGO, at: datetime = FROZEN, cluster: str = "") -> SourceStatus:
    """A source that answered at `at`, up since `since` (as the console first saw it)."""
    status = SourceStatus(name, cluster or name, last_ok=at)
    status.saw_start(since, since, at, at)
    return status


def down(name: str, answered: datetime | None = DAY_AGO) -> SourceStatus:
    reason = f"{name}: unreachable (connection refused)"
    return SourceStatus(name, name, last_ok=answered, error=reason, failing_since=FROZEN, started=DAY_AGO)


def board(now: datetime, *sources: SourceStatus, firing=None, ended=None, shown=None, owners=None) -> Sightings:
    """`shown`: by fingerprint, the sources whose current process has shown it."""
    starts = {
        fp: {n: frozenset({next(x for x in sources if x.name == n).start_said}) for n in by}
        for fp, by in (shown or {}).items()
    }
    statuses = {s.name: s for s in sources}
    return Sightings(now, 120.0, statuses, firing or {}, ended or {}, owners or {}, shown_by=starts)


def test_firing_in_any_answer_is_firing() -> None:
    presence = board(FROZEN, up("prod"), up("dr"), firing={"fp": ("dr",)}).presence("fp", ["prod"])
    assert (presence.state, presence.sources, presence.agent) == ("firing", ("dr",), "alertmanager:dr")


def test_absent_from_the_process_that_showed_it_is_resolved_by_its_word() -> None:
    presence = board(FROZEN, up("prod"), shown={"fp": ["prod"]}).presence("fp", ["prod"])
    assert presence.state == "resolved"
    assert presence.reason == "absent from prod's answer (prod up since 2026-11-26 14:32:05 UTC)"


def test_returned_with_ends_at_in_the_past_is_resolved() -> None:
    presence = board(FROZEN, up("prod"), ended={"fp": ("prod",)}).presence("fp", ["prod"])
    assert (presence.state, presence.reason) == ("resolved", "prod returned it with endsAt in the past")


def test_a_process_that_never_showed_it_waits_out_the_grace() -> None:
    restarted = up("prod", since=FROZEN - timedelta(seconds=30))  # a new process, 30 s ago
    presence = board(FROZEN, restarted).presence("fp", ["prod"])  # the old one showed it; this one not yet
    assert (presence.state, presence.reason) == ("waiting", "not seen since prod restarted at 14:31:35 UTC")


def test_past_the_grace_a_process_that_never_showed_it_is_its_word() -> None:
    restarted = up("prod", since=FROZEN - timedelta(seconds=121))
    presence = board(FROZEN, restarted).presence("fp", ["prod"])
    assert presence.state == "resolved"
    assert presence.reason.startswith("not seen in the 2m since prod restarted at 2026-11-27 14:30:04 UTC")


def test_past_the_grace_a_sender_not_heard_from_since_the_restart_leaves_it_unknown() -> None:
    """Prometheus down while its Alertmanager restarted: it resent nothing, so the absence says nothing."""
    earlier = DAY_AGO - timedelta(days=1)  # the process that showed the alert
    restarted = up("prod", since=FROZEN - timedelta(seconds=121))
    prom = "http://prometheus:9090"

    def judged(heard: frozenset[str], shown: bool = True) -> Sightings:
        starts = {"fp": {"prod": frozenset({earlier})}} if shown else {}
        heard_by = {"prod": {restarted.start_said: heard}}
        return Sightings(FROZEN, 120.0, {"prod": restarted}, shown_by=starts, heard=heard_by, senders={"fp": prom})

    silent = judged(frozenset()).presence("fp", ["prod"])
    assert (silent.state, silent.reason) == (
        "unknown",
        "its sender http://prometheus:9090 may be down: nothing from it since prod restarted at 2026-11-27 14:30:04 UTC",
    )
    assert judged(frozenset({"http://other:9090"})).presence("fp", ["prod"]).state == "unknown"
    assert judged(frozenset({prom})).presence("fp", ["prod"]).state == "resolved"  # it resent others, not this
    # never shown by an earlier process of prod (a journal's alert, the console started since): as before
    assert judged(frozenset(), shown=False).presence("fp", ["prod"]).state == "resolved"


def test_an_alert_unknown_past_the_grace_goes_once_its_last_ends_at_has_passed() -> None:
    """Alertmanager lets an alert go at its endsAt if its sender stops sending it: had it not
    restarted, it would have by now, so unknown lasts no longer than that. An alert without a
    generatorURL (amtool, a script, a page) has no sender to hear from: only its endsAt ends it."""
    earlier = DAY_AGO - timedelta(days=1)
    restarted = up("prod", since=FROZEN - timedelta(seconds=121))

    def judged(ends: dict) -> tuple:
        presence = Sightings(
            FROZEN,
            120.0,
            {"prod": restarted},
            shown_by={"fp": {"prod": frozenset({earlier})}},
            heard={"prod": {restarted.start_said: frozenset({"", PROM})}},  # a page, and another's Prometheus
            senders={"fp": ""},
            ends=ends,
        ).presence("fp", ["prod"])
        return presence.state, presence.reason

    assert judged({"fp": FROZEN + timedelta(seconds=1)}) == (
        "unknown",
        "not sent again since prod restarted at 2026-11-27 14:30:04 UTC; it has no generatorURL to tell its sender by",
    )
    assert judged({"fp": FROZEN}) == (
        "resolved",
        "not sent again since prod restarted at 2026-11-27 14:30:04 UTC, and its endsAt 2026-11-27 14:32:05 UTC"
        " has passed: expired, as Alertmanager lets an alert go that its sender no longer sends",
    )


def test_a_sender_is_its_generator_urls_scheme_and_host() -> None:
    assert sender("http://prometheus:9090/graph?g0.expr=up%3D%3D0") == "http://prometheus:9090"
    assert sender("") == sender("not a url") == sender("http://[::1") == ""


def test_shown_again_after_the_restart_then_gone_is_resolved_at_once() -> None:
    restarted = up("prod", since=FROZEN - timedelta(seconds=30))  # resent by Prometheus to the new process
    assert board(FROZEN, restarted, shown={"fp": ["prod"]}).presence("fp", ["prod"]).state == "resolved"


def test_replicas_behind_one_url_are_judged_each_by_its_own_process() -> None:
    """One Service in front of A and B: A restarted and has not been resent the alert; B has it."""
    a_new = up("prod", since=FROZEN - timedelta(seconds=20))
    b_old = up("prod", since=DAY_AGO)
    shown_by_b = {"fp": {"prod": frozenset({b_old.start_said})}}
    from_a = Sightings(FROZEN, 120.0, {"prod": a_new}, shown_by=shown_by_b)
    assert from_a.presence("fp", ["prod"]).state == "waiting"  # A's answer: not its word yet
    from_b = Sightings(FROZEN, 120.0, {"prod": b_old}, shown_by=shown_by_b)
    assert from_b.presence("fp", ["prod"]).state == "resolved"  # B's answer without it: B's word


def test_a_dead_source_holds_back_only_the_alerts_it_owns() -> None:
    now = board(FROZEN, up("prod"), down("dr"), shown={"a": ["prod"]}, owners={"b": ("dr",)})
    assert now.presence("a", ["prod"]).state == "resolved"
    unknown = now.presence("b")  # its owners come from the board's last sighting
    assert unknown.state == "unknown"
    assert unknown.reason == "dr not answering since 14:32:05 UTC: unreachable (connection refused)"


def test_a_source_that_never_answered_is_no_data_never_resolved() -> None:
    never = SourceStatus("dr", "dr", error="dr: timed out after 5s", failing_since=FROZEN)
    presence = board(FROZEN, up("prod"), never).presence("fp", ["dr"])
    assert (presence.state, presence.reason) == ("unknown", "no data from dr: timed out after 5s")
    assert board(FROZEN, SourceStatus("dr", "dr")).presence("fp", ["dr"]).reason == (
        "no data from dr: it has not answered yet"
    )


def test_an_alert_of_unknown_owners_needs_every_source() -> None:
    """Older journals did not record which source an alert came from: every one must say so."""
    assert board(FROZEN, up("prod"), down("dr")).presence("fp", []).state == "unknown"
    assert board(FROZEN, up("prod"), up("dr")).presence("fp", []).state == "resolved"


def test_one_member_of_an_ha_cluster_speaks_for_it() -> None:
    members = (up("eu-1", cluster="eu"), down("eu-2"))
    members[1].cluster = "eu"
    presence = board(FROZEN, *members, shown={"fp": ["eu-1"]}).presence("fp", ["eu-1", "eu-2"])
    assert (presence.state, presence.sources) == ("resolved", ("eu-1",))
    blind = up("eu-2", cluster="eu")
    blind.uptime_error = "eu-2: HTTP 403 from /api/v2/status: forbidden"  # one member cannot tell: the other can
    assert board(FROZEN, members[0], blind, shown={"fp": ["eu-1"]}).presence("fp", ["eu-1", "eu-2"]).state == "resolved"


def test_separate_clusters_each_must_say_so() -> None:
    assert board(FROZEN, up("eu"), down("us")).presence("fp", ["eu", "us"]).state == "unknown"


def test_a_restart_is_seen_from_uptime_moving() -> None:
    status = SourceStatus("prod")
    assert not status.saw_start(DAY_AGO, DAY_AGO, FROZEN, FROZEN)  # the first answer: its life began then
    assert status.epoch == DAY_AGO
    two = FROZEN + timedelta(seconds=2)
    assert not status.saw_start(DAY_AGO, DAY_AGO + timedelta(seconds=1), two, two)  # the same start
    later = FROZEN + timedelta(seconds=10)
    assert status.saw_start(FROZEN + timedelta(seconds=5), FROZEN + timedelta(seconds=5), later, later)
    assert (status.epoch, status.restarts) == (later, 1)
    again = later + timedelta(seconds=1)  # a crash loop: another process within a second
    assert status.saw_start(later + timedelta(milliseconds=300), later + timedelta(milliseconds=300), again, again)
    assert status.restarts == 2


def test_replicas_behind_one_url_are_no_restart() -> None:
    """A Kubernetes Service in front of two Alertmanagers: each answer may come from either."""
    status = SourceStatus("prod")
    one, two = DAY_AGO, DAY_AGO + timedelta(hours=3)  # each replica's own start, long ago
    for i in range(20):
        start = (one, two)[i % 2]
        at = FROZEN + timedelta(seconds=2 * i)
        assert not status.saw_start(start, start, at, at)
    assert (status.restarts, status.epoch) == (0, one)
    restarted = FROZEN + timedelta(seconds=45)  # now one of them really restarts
    assert status.saw_start(restarted, restarted, restarted + timedelta(seconds=1), restarted + timedelta(seconds=1))
    assert not status.saw_start(
        one, one, restarted + timedelta(seconds=3), restarted + timedelta(seconds=3)
    )  # the other, again
    assert not status.saw_start(
        restarted, restarted, restarted + timedelta(seconds=5), restarted + timedelta(seconds=5)
    )  # the new one
    assert status.restarts == 1


def test_an_unreadable_uptime_makes_absent_alerts_unknown() -> None:
    blind = up("prod")
    blind.uptime_error = "prod: HTTP 403 from /api/v2/status: forbidden"
    presence = board(FROZEN, blind).presence("fp", ["prod"])
    assert presence.state == "unknown"
    assert (
        presence.reason
        == "absent from prod, which may have restarted: its start is unknown (HTTP 403 from /api/v2/status: forbidden)"
    )


def test_an_alert_whose_source_left_the_config_is_unknown() -> None:
    presence = board(FROZEN, up("prod")).presence("fp", ["old-dc"])
    assert (presence.state, presence.reason) == ("unknown", "its source old-dc is no longer in the config")


# -- what it means for incidents ---------------------------------------------------------------


def alert(fp: str, name: str = "HighErrorRate", source: str = "prod") -> Alert:
    labels = {"alertname": name, "severity": "critical", "service": fp}
    return Alert(
        fp, labels, {}, FROZEN - timedelta(minutes=5), None, f"{PROM}/graph?g0.expr=up", "active", sources=(source,)
    )


class World:
    """A desk and the sources' word, moved poll by poll."""

    def __init__(self, tmp_path: Path, clock: SteppedClock, *names: str) -> None:
        self.clock = clock
        self.desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
        self.sources = {n: up(n) for n in names}
        self.shown: dict[str, dict[str, frozenset[datetime]]] = {}
        self.heard: dict[str, dict[datetime, frozenset[str]]] = {}
        """By source and process, the senders heard from (these alerts' Prometheus)."""

    def poll(self, firing: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
        """The sources answer with `firing`; what the desk records, as (kind, summary)."""
        now = self.clock()
        for status in self.sources.values():
            if status.error is None:
                status.last_ok = now
        for fp, names in firing.items():
            by = self.shown.setdefault(fp, {})
            for name in names:
                by[name] = by.get(name, frozenset()) | {self.sources[name].start_said}
                self.heard.setdefault(name, {})[self.sources[name].start_said] = frozenset({PROM})
        sightings = Sightings(
            now, 120.0, self.sources, firing, shown_by={k: dict(v) for k, v in self.shown.items()}, heard=self.heard
        )
        return [(e.kind, e.summary) for e in self.desk.track_alerts(sightings)]

    def restart(self, name: str) -> None:
        now = self.clock()
        self.sources[name].saw_start(now, now, now, now)


def test_a_restart_then_the_resend_records_nothing(tmp_path: Path, clock: SteppedClock) -> None:
    world = World(tmp_path, clock, "prod")
    incident = world.desk.declare("errors", [alert("a"), alert("b")])
    assert world.poll({"a": ("prod",), "b": ("prod",)}) == []
    clock.advance(2)
    world.restart("prod")
    assert world.poll({}) == []  # forgotten by the restart: not resolved
    clock.advance(60)
    assert world.poll({"a": ("prod",), "b": ("prod",)}) == []  # Prometheus resent them
    assert [e.kind for e in incident.events] == ["incident.declared"]


def test_a_restart_past_the_grace_resolves_with_the_reason(tmp_path: Path, clock: SteppedClock) -> None:
    world = World(tmp_path, clock, "prod")
    incident = world.desk.declare("errors", [alert("a"), alert("b")])
    world.poll({"a": ("prod",), "b": ("prod",)})
    clock.advance(2)
    world.restart("prod")
    assert world.poll({"b": ("prod",)}) == []
    clock.advance(119)
    assert world.poll({"b": ("prod",)}) == []  # still within the grace
    clock.advance(2)
    [(kind, summary)] = world.poll({"b": ("prod",)})
    assert kind == "alert.resolved"
    assert summary.startswith(
        "Alert HighErrorRate resolved: not seen in the 2m since prod restarted at 2026-11-27 14:32:07 UTC"
    )
    event = incident.events[-1]
    assert (event.actor, event.data["agent"]) == ("oncall-tui", "alertmanager:prod")
    assert event.data["alerts"] == [{"fingerprint": "a", "name": "HighErrorRate"}]
    assert event.data["reason"].startswith("not seen in the 2m")
    assert [link.firing for link in incident.alerts.values()] == [False, True]


def test_an_alert_resolved_on_the_record_is_no_doubt_after_the_next_restart(
    tmp_path: Path, clock: SteppedClock
) -> None:
    """a resolved (absent past a restart's grace); prod restarts again: b, firing on the record,
    is in doubt; a is resolved on the record, and nothing says it fired again: no doubt."""
    world = World(tmp_path, clock, "prod")
    incident = world.desk.declare("errors", [alert("a"), alert("b")])
    world.poll({"a": ("prod",), "b": ("prod",)})
    clock.advance(2)
    world.restart("prod")
    clock.advance(121)
    assert [kind for kind, _ in world.poll({"b": ("prod",)})] == ["alert.resolved"]
    clock.advance(2)
    world.restart("prod")
    doubts: dict = {}
    sightings = Sightings(
        clock(), 120.0, world.sources, {}, shown_by={k: dict(v) for k, v in world.shown.items()}, heard=world.heard
    )
    assert world.desk.track_alerts(sightings, doubts) == []
    assert list(doubts[incident.id]) == ["b"]


def test_a_dead_source_among_live_ones(tmp_path: Path, clock: SteppedClock) -> None:
    world = World(tmp_path, clock, "prod", "dr")
    incident = world.desk.declare("both", [alert("p", source="prod"), alert("d", "DiskWillFill", source="dr")])
    world.poll({"p": ("prod",), "d": ("dr",)})
    clock.advance(2)
    world.sources["dr"] = down("dr", answered=clock.now)
    assert world.poll({"p": ("prod",)}) == []  # dr's alert: unknown, not resolved
    clock.advance(2)
    assert world.poll({}) == [
        (
            "alert.resolved",
            "Alert HighErrorRate resolved: absent from prod's answer (prod up since 2026-11-26 14:32:05 UTC)",
        )
    ]
    assert incident.alerts["d"].firing  # still firing on the record: nobody said otherwise


def test_flapping_is_recorded_once_per_change(tmp_path: Path, clock: SteppedClock) -> None:
    world = World(tmp_path, clock, "prod")
    world.desk.declare("flappy", [alert("a")])
    changes = []
    for firing in (True, False, False, True, True, False, True):
        clock.advance(2)
        changes += [kind for kind, _ in world.poll({"a": ("prod",)} if firing else {})]
    assert changes == ["alert.resolved", "alert.fired", "alert.resolved", "alert.fired"]


def test_many_alerts_resolving_together_are_one_event(tmp_path: Path, clock: SteppedClock) -> None:
    world = World(tmp_path, clock, "prod")
    world.desk.declare("storm", [alert(f"a{i}") for i in range(40)] + [alert("d", "DiskWillFill")])
    firing = {f"a{i}": ("prod",) for i in range(40)} | {"d": ("prod",)}
    world.poll(firing)
    clock.advance(2)
    [(kind, summary)] = world.poll({})
    assert kind == "alert.resolved" and summary.startswith("41 alerts (HighErrorRate ×40, DiskWillFill) resolved")


def test_the_follower_tracks_and_declares_as_the_console(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    follower = PollFollower(desk, IncidentsConfig(auto_declare=["critical"]))
    firing = [alert("a")]
    sightings = Sightings(clock.now, 120.0, {"prod": up("prod")}, {"a": ("prod",)}, alerts=firing)
    followed = follower.follow(sightings)
    [declared] = followed.declared
    assert (declared.actor, declared.data["agent"], declared.data["commander"]) == ("oncall-tui", "auto_declare", "")
    assert followed.notice() == f"{declared.incident}: Declared SEV-2: HighErrorRate"
    assert desk.incidents[declared.incident].commander == ""
    assert desk.incidents[declared.incident].declared_by == "oncall-tui (auto_declare)"


def test_a_console_started_since_judges_an_alert_it_never_saw_by_when_its_source_restarted(
    tmp_path: Path, clock: SteppedClock
) -> None:
    """The console was closed; Alertmanager restarted while Prometheus was down; the console is
    opened again: no process has shown it this alert, so the record's word decides."""
    IncidentDesk(tmp_path, "alice", clock=clock).load().declare("errors", [alert("a")])
    seen = clock.now
    clock.advance(600)
    [incident] = IncidentDesk(tmp_path, "alice", clock=clock).load().open_incidents()  # read back from the journal
    assert incident.alerts["a"].seen_firing == seen
    prom = "http://prometheus:9090"

    def judged(status: SourceStatus, heard: frozenset[str] = frozenset(), sent_by: str | None = prom) -> tuple:
        sightings = Sightings(clock.now, 120.0, {"prod": status}, heard={"prod": {status.start_said: heard}})
        presence = sightings.presence("a", ["prod"], seen, sent_by)
        return presence.state, presence.reason

    assert judged(up("prod")) == ("resolved", "absent from prod's answer (prod up since 2026-11-26 14:32:05 UTC)")
    restarted = up("prod", since=seen + timedelta(seconds=300))  # after the record last had it firing
    assert judged(restarted) == (
        "unknown",
        f"its sender {prom} may be down: nothing from it since prod restarted at 2026-11-27 14:37:05 UTC",
    )
    assert judged(restarted, frozenset({prom}))[0] == "resolved"  # its sender resent others, not it
    assert judged(restarted, sent_by=None) == (  # the local history keeps no sender
        "unknown",
        "not sent again since prod restarted at 2026-11-27 14:37:05 UTC; its sender is not known here",
    )
    assert judged(up("prod", since=clock.now - timedelta(seconds=30)))[0] == "waiting"  # within the grace
    older = Sightings(clock.now, 120.0, {"prod": up("prod")}, as_of={"prod": seen - timedelta(seconds=5)})
    waiting = older.presence("a", ["prod"], seen, prom)  # its answer was asked before the record
    assert (waiting.state, waiting.reason) == (
        "waiting",
        "waiting for prod's next answer: its last is older than the record of it firing",
    )


def test_an_alert_linked_while_unseen_was_never_seen_firing_on_the_record(tmp_path: Path, clock: SteppedClock) -> None:
    """Declared from an alert held after a restart: the record must not take the declaration for
    a sighting, or a console started later reads its absence as the long-up process's word."""
    held = replace(alert("a"), held="not seen since prod restarted at 14:31:05 UTC")
    IncidentDesk(tmp_path, "alice", clock=clock).load().declare("Prometheus down?", [held])
    clock.advance(600)
    [incident] = IncidentDesk(tmp_path, "alice", clock=clock).load().open_incidents()
    assert incident.alerts["a"].seen_firing is None
    restarted = up("prod", since=clock.now - timedelta(seconds=660))  # restarted a minute before the declaration
    doubts: dict = {}
    sightings = Sightings(clock.now, 120.0, {"prod": restarted}, heard={"prod": {restarted.start_said: frozenset()}})
    fresh = IncidentDesk(tmp_path, "alice", clock=clock).load()  # a console started since
    assert fresh.track_alerts(sightings, doubts) == []  # nothing recorded
    assert doubts[incident.id]["a"].reason.startswith(f"its sender {PROM} may be down")
