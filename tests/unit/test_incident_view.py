"""What the incident pane draws, at the widths it gets: 30 columns at 80×24, more when wide."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.alerts.tracking import Presence
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.ui.widgets.incident_view import describe
from tests.conftest import SteppedClock

NARROW = 28  # inside the incident pane's border at 80×24
PAGED = {"key": "k", "who": ["dana"], "level": 2, "via": "alertmanager:prod", "how": "Alertmanager prod", "at": None}


def paged(tmp_path: Path, clock: SteppedClock) -> tuple[IncidentDesk, Incident]:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("HighErrorRate: ml-api error rate is 7.3%", severity="SEV-2")
    data = {"level": 2, "targets": ["dana"], "paged": [PAGED]}
    desk.record(incident.id, "incident.escalated", "Escalated to level 2: paged dana", data)
    return desk, incident


def test_a_narrow_header_keeps_to_one_line_with_where_it_stands_among_the_open(
    tmp_path: Path, clock: SteppedClock
) -> None:
    _, incident = paged(tmp_path, clock)
    first, *_ = describe(incident, (2, 2), clock(), NARROW, why="chosen with I").plain.split("\n")
    assert first == f"{incident.id} 2/2 · I" and len(first) < NARROW
    first, *_ = describe(incident, (0, 2), clock(), NARROW).plain.split("\n")  # a resolved one, two open
    assert first == f"{incident.id} · 2 open · I"
    first, *_ = describe(incident, (1, 1), clock(), NARROW).plain.split("\n")  # room for the word
    assert first == f"INCIDENT {incident.id}"
    first, *_ = describe(incident, (2, 2), clock(), 100, why="chosen with I").plain.split("\n")
    assert first == f"INCIDENT {incident.id}  (chosen with I · 2 of 2 open · I switches)"


def test_a_narrow_pane_says_the_status_before_who_was_paged(tmp_path: Path, clock: SteppedClock) -> None:
    """At 80×24 the pane shows six lines: how bad and where it stands come first, then the page,
    and no number is cut from its words at the pane's edge."""
    _, incident = paged(tmp_path, clock)
    lines = describe(incident, (1, 1), clock(), NARROW).plain.split("\n")
    assert lines[1:6] == [
        "SEV-2 triggered",
        "HighErrorRate: ml-api err…",
        "paged dana L2 through Alertmanager prod",
        "[Acknowledge] 1 of 5",
        "escalation L2 · open 0s",
    ]
    assert lines[6] == "commander alice"
    wide = describe(incident, (1, 1), clock(), 100).plain.split("\n")
    assert wide[3] == "paged dana L2 through Alertmanager prod" and wide[4].startswith("triggered · [Acknowledge] › ")
    assert wide[5] == "commander alice · open 00:00:00 · escalation level 2"


def test_doubts_never_push_how_bad_it_is_out_of_a_narrow_pane(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    at = datetime(2026, 11, 27, tzinfo=UTC)
    fired = [Alert(f"f{i}", {"alertname": f"Alert{i}"}, {}, at, None, "", "active") for i in range(3)]
    incident = desk.declare("storm", severity="SEV-1", alerts=fired)
    doubts = {f"f{i}": Presence("unknown", f"no data from source{i}") for i in range(3)}
    lines = describe(incident, (1, 1), clock(), NARROW, doubts=doubts).plain.split("\n")
    assert lines[1] == "SEV-1 triggered" and lines[2].startswith("? Alert0: no data from source0")


def test_a_resolved_incident_says_how_long_it_was_open_not_that_it_is(tmp_path: Path, clock: SteppedClock) -> None:
    desk, incident = paged(tmp_path, clock)
    clock.advance(149)
    desk.resolve(incident.id, "fixed")
    clock.advance(600)
    for width, took in ((NARROW, "2m29s"), (100, "00:02:29")):
        shown = describe(desk.get(incident.id), (0, 0), clock(), width).plain
        assert f"resolved after {took}" in shown and "open" not in shown


def test_a_lapse_is_said_as_surely_as_the_record_knows_it(tmp_path: Path, clock: SteppedClock) -> None:
    desk, incident = paged(tmp_path, clock)
    desk.record(incident.id, "page.lapsed", "may have lapsed", {"key": "k", "since": "2026-11-27T14:32:05Z"})
    shown = describe(desk.get(incident.id), (1, 1), clock()).plain
    assert "✗ dana L2 may not be paged: the page may have LAPSED at Alertmanager prod" in shown
    desk.record(incident.id, "page.reposted", "posted again", {"key": "k"})
    assert "LAPSED" not in describe(desk.get(incident.id), (1, 1), clock()).plain
    desk.record(incident.id, "page.lapsed", "was gone", {"key": "k", "found_at": "2026-11-27T14:40:05Z"})
    shown = describe(desk.get(incident.id), (1, 1), clock()).plain
    assert "✗ dana L2 may not be paged: the page LAPSED at Alertmanager prod" in shown  # Alertmanager said so


def test_an_escalation_that_paged_nobody_says_so_in_the_pane(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()  # no paging configured
    incident = desk.declare("x")
    data = {"level": 2, "targets": ["dana"], "unpaged": "no paging is configured"}
    desk.record(incident.id, "incident.escalated", "Escalated to level 2 (dana): nobody was paged", data)
    for width in (NARROW, 100):
        shown = describe(desk.get(incident.id), (1, 1), clock(), width).plain.split("\n")
        assert (
            shown[2 if width == NARROW else 1]
            == "✗ L2: nobody was paged (no paging is configured): reach them another way"
        )
