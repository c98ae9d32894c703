"""On-call handoffs: who was on call at each level before and after, as events to record.

The console compares each new reading of the levels (the local schedules at a handoff, or
PagerDuty's) with the last; a level whose people changed is a handoff, recorded on every
open incident as the console's own event, on the word of its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oncall_tui.core.oncall.roster import LevelNow


@dataclass(frozen=True, slots=True)
class Handoff:
    """One level's people changed."""

    level: int
    source: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def summary(self) -> str:
        """`On-call handoff L1: alice → bob`"""
        return (
            f"On-call handoff L{self.level}: {', '.join(self.before) or 'nobody'} → {', '.join(self.after) or 'nobody'}"
        )

    @property
    def data(self) -> dict[str, Any]:
        return {"level": self.level, "source": self.source, "from": list(self.before), "to": list(self.after)}


def handoffs(before: list[LevelNow], after: list[LevelNow]) -> list[Handoff]:
    """The levels of `after` whose people differ from the same level (and source) in `before`;
    a level new to `after` is no handoff (the console just started, or the policy changed)."""
    was = {(lv.source, lv.level): lv.users for lv in before}
    return [
        Handoff(lv.level, lv.source, was[lv.source, lv.level], lv.users)
        for lv in after
        if (lv.source, lv.level) in was and was[lv.source, lv.level] != lv.users
    ]
