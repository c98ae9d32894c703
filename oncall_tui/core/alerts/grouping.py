"""Alerts in groups, as amtool and karma show them: the alerts that share the `group_by`
labels' values are one row, with their worst severity, their count, how many of them are
silenced or inhibited, and the labels they all share (what a silence of the group matches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from oncall_tui.core.alerts.models import Alert

GroupKey = tuple[tuple[str, str], ...]
"""The `group_by` labels and their values, `(("alertname", "HighErrorRate"),)`; a label an
alert lacks is `""`, as Alertmanager groups it."""


@dataclass(frozen=True, slots=True)
class AlertGroup:
    key: GroupKey
    alerts: tuple[Alert, ...]
    """In the list's order: the first is the most urgent."""
    common: dict[str, str] = field(default_factory=dict)
    """The labels every alert of the group has, with the same value."""

    @property
    def first(self) -> Alert:
        return self.alerts[0]

    @property
    def name(self) -> str:
        return self.first.name

    def count(self, state: str) -> int:
        """How many of its alerts are in `state` (`silenced`, `inhibited`, `active`)."""
        return sum(1 for a in self.alerts if a.state == state)

    @property
    def stale(self) -> int:
        """How many its sources cannot vouch for now (stale, or unseen since a restart)."""
        return sum(1 for a in self.alerts if a.stale or a.held)

    def top_values(self, names: Sequence[str], most: int = 2) -> list[tuple[str, int]]:
        """The most common values of the first of `names` its alerts have (the label the list
        shows), most common first: `[("ml-api", 600), ("search", 234)]`."""
        for name in names:
            counted = Counter(a.labels[name] for a in self.alerts if a.labels.get(name))
            if counted:
                return counted.most_common(most)
        return []


def group_key(alert: Alert, group_by: Sequence[str]) -> GroupKey:
    return tuple((name, alert.labels.get(name, "")) for name in group_by)


def common_labels(alerts: Iterable[Alert]) -> dict[str, str]:
    """The labels all of `alerts` have with the same value (empty for no alerts)."""
    shared: dict[str, str] | None = None
    for alert in alerts:
        if shared is None:
            shared = dict(alert.labels)
        else:
            shared = {k: v for k, v in shared.items() if alert.labels.get(k) == v}
        if not shared:
            break
    return shared or {}


def group(alerts: Sequence[Alert], group_by: Sequence[str]) -> list[AlertGroup]:
    """`alerts` (already in the list's order) in groups, each where its most urgent alert
    stands, its alerts in their order. Alerts the console sent (pages) stay alone: each is a
    page to someone, not one of a kind."""
    members: dict[GroupKey | str, list[Alert]] = {}
    for alert in alerts:
        key: GroupKey | str = alert.fingerprint if alert.is_page else group_key(alert, group_by)
        members.setdefault(key, []).append(alert)
    return [
        AlertGroup(key if isinstance(key, tuple) else group_key(found[0], group_by), tuple(found), common_labels(found))
        for key, found in members.items()
    ]
