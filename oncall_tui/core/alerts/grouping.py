"""Alerts in groups, as amtool and karma show them: the alerts that share the `group_by`
labels' values are one row, with their worst severity, their count, how many of them are
silenced or inhibited, and the labels they all share (what a silence of the group matches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from operator import is_

from oncall_tui.core.alerts.models import Alert

GroupKey = tuple[tuple[str, str], ...]
"""The `group_by` labels and their values, `(("alertname", "HighErrorRate"),)`; a label an
alert lacks is `""`, as Alertmanager groups it."""


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """A group and what the list says of it, counted once when it is formed (a group of
    thousands is drawn every second)."""

    key: GroupKey
    alerts: tuple[Alert, ...]
    """In the list's order: the first is the most urgent."""
    common: dict[str, str] = field(default_factory=dict)
    """The labels every alert of the group has, with the same value."""
    states: dict[str, int] = field(default_factory=dict)
    """How many of its alerts are in each state (`active`, `silenced`, `inhibited`, …)."""
    stale: int = 0
    """How many its sources cannot vouch for now (stale, or unseen since a restart)."""
    unseen: int = 0
    """Of those, how many are unseen (in no answer now, not known to have resolved)."""
    active: int = 0
    """How many fire unmuted and not in doubt."""
    top: tuple[tuple[str, int], ...] = ()
    """The most common values of the first shown label its alerts have, most common first."""
    newest: Alert | None = None
    sources: tuple[str, ...] = ()

    @property
    def first(self) -> Alert:
        return self.alerts[0]

    @property
    def name(self) -> str:
        return self.first.name

    def count(self, state: str) -> int:
        """How many of its alerts are in `state` (`silenced`, `inhibited`, `active`)."""
        return self.states.get(state, 0)


def _formed(key: GroupKey, alerts: list[Alert], shown: Sequence[str]) -> AlertGroup:
    """The group and its counts, in one pass over its alerts (10,000 take a few milliseconds)."""
    states: Counter[str] = Counter()
    doubted = active = unseen = 0
    newest, sources = alerts[0], set()
    for alert in alerts:
        states[alert.state] += 1
        if alert.stale or alert.held:
            doubted += 1
            unseen += bool(alert.held)
        elif alert.state in ("active", "unprocessed"):
            active += 1
        if alert.starts_at > newest.starts_at:
            newest = alert
        sources.update(alert.sources)
    top: list[tuple[str, int]] = []
    for name in shown:
        counted = Counter(a.labels[name] for a in alerts if a.labels.get(name))
        if counted:
            top = counted.most_common(2)
            break
    return AlertGroup(
        key,
        tuple(alerts),
        common_labels(alerts),
        dict(states),
        doubted,
        unseen,
        active,
        tuple(top),
        newest,
        tuple(sorted(sources)),
    )


def group_key(alert: Alert, group_by: Sequence[str]) -> GroupKey:
    return tuple((name, alert.labels.get(name, "")) for name in group_by)


def common_labels(alerts: Iterable[Alert]) -> dict[str, str]:
    """The labels all of `alerts` have with the same value (empty for no alerts)."""
    alerts = iter(alerts)
    first = next(alerts, None)
    if first is None:
        return {}
    return dict(set(first.labels.items()).intersection(*(a.labels.items() for a in alerts)))


def group(
    alerts: Sequence[Alert], group_by: Sequence[str], shown: Sequence[str] = (), before: Iterable[AlertGroup] = ()
) -> list[AlertGroup]:
    """`alerts` (already in the list's order) in groups, each where its most urgent alert
    stands, its alerts in their order; `shown`: the labels whose most common values a group
    names. Alerts the console sent (pages) stay alone: each is a page to someone, not one of a
    kind. `before`: groups formed earlier with the same `group_by` and `shown`; where the same
    alerts, alike (`Alert.alike`), form one again, its counts are taken as they are (10,000
    alerts are grouped on every poll)."""
    members: dict[GroupKey | str, list[Alert]] = {}
    for alert in alerts:
        key: GroupKey | str = alert.fingerprint if alert.is_page else group_key(alert, group_by)
        members.setdefault(key, []).append(alert)
    earlier = {g.first.fingerprint: g for g in before}
    groups = []
    for key, found in members.items():
        key = key if isinstance(key, tuple) else group_key(found[0], group_by)
        same = earlier.get(found[0].fingerprint)
        if (
            same is None
            or same.key != key
            or len(same.alerts) != len(found)
            or not all(map(Alert.alike, same.alerts, found))
        ):
            groups.append(_formed(key, found, shown))
        elif all(map(is_, same.alerts, found)):
            groups.append(same)
        else:  # counted as before, with the alerts as they are now
            newest = next((found[i] for i, a in enumerate(same.alerts) if a is same.newest), None)
            groups.append(replace(same, alerts=tuple(found), newest=newest))
    return groups
