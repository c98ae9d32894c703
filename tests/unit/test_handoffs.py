"""On-call handoffs, decided in core: a level whose people changed, as the event it records."""

from __future__ import annotations

from oncall_tui.core.oncall.handoffs import Handoff, handoffs
from oncall_tui.core.oncall.roster import LevelNow


def level(n: int, *users: str, source: str = "ML Platform On-Call") -> LevelNow:
    return LevelNow(n, source, users, None, (), None)


def test_a_level_whose_people_changed_is_a_handoff() -> None:
    before = [level(1, "alice"), level(2, "dana", source="users")]
    after = [level(1, "bob"), level(2, "dana", source="users"), level(3, "erin", source="users")]
    [handoff] = handoffs(before, after)  # L2 unchanged; L3 is new, not handed off
    assert handoff == Handoff(1, "ML Platform On-Call", ("alice",), ("bob",))
    assert handoff.summary == "On-call handoff L1: alice → bob"
    assert handoff.data == {"level": 1, "source": "ML Platform On-Call", "from": ["alice"], "to": ["bob"]}


def test_a_level_left_empty_says_nobody() -> None:
    [handoff] = handoffs([level(1, "alice")], [level(1)])
    assert handoff.summary == "On-call handoff L1: alice → nobody"
    assert handoffs([], [level(1, "alice")]) == []  # the first reading hands nothing off
