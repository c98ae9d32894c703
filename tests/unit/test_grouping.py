"""Alerts in groups, as amtool and karma group them: by the `group_by` labels' values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from operator import is_

from oncall_tui.core.alerts.grouping import common_labels, group
from oncall_tui.core.alerts.models import Alert

AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def make(fp: str, state: str = "active", **labels: str) -> Alert:
    return Alert(fp, labels, {}, AT, None, "", state)


def test_alerts_sharing_the_group_by_values_are_one_group_where_the_most_urgent_stands() -> None:
    alerts = [
        make("1", alertname="HighErrorRate", severity="critical", service="ml-api"),
        make("2", alertname="DiskWillFill", severity="warning", instance="db-1"),
        make("3", alertname="HighErrorRate", severity="warning", service="search"),
        make("4", alertname="HighErrorRate", severity="warning", service="ml-api", state="silenced"),
        make("5", severity="info"),  # no alertname: grouped as ""
    ]
    groups = group(alerts, ["alertname"])
    assert [(g.key, [a.fingerprint for a in g.alerts]) for g in groups] == [
        ((("alertname", "HighErrorRate"),), ["1", "3", "4"]),
        ((("alertname", "DiskWillFill"),), ["2"]),
        ((("alertname", ""),), ["5"]),
    ]
    errors = groups[0]
    assert errors.first.severity == "critical" and errors.count("silenced") == 1 and errors.count("active") == 2
    assert errors.common == {"alertname": "HighErrorRate"}
    shown = group(alerts, ["alertname"], ["pod", "service"])[0]  # the first shown label they have
    assert shown.top == (("ml-api", 2), ("search", 1)) and shown.active == 2 and shown.newest is not None
    assert [len(g.alerts) for g in group(alerts, ["alertname", "service"])] == [2, 1, 1, 1]


def test_a_page_the_console_sent_is_never_grouped() -> None:
    page = {"incident": "INC-20261127-0001", "level": "2", "page": "INC-20261127-0001-3fa2b1c0-L2-dana"}
    alerts = [make("p1", alertname="OncallPage", **page), make("p2", alertname="OncallPage", **page)]
    assert [len(g.alerts) for g in group(alerts, ["alertname"])] == [1, 1]


def test_the_common_labels_are_those_every_alert_has_with_the_same_value() -> None:
    alerts = [make("1", a="1", b="2", c="3"), make("2", a="1", b="x", c="3"), make("3", a="1", c="3")]
    assert common_labels(alerts) == {"a": "1", "c": "3"}
    assert common_labels([]) == {} and common_labels(alerts[:1]) == {"a": "1", "b": "2", "c": "3"}


def test_stale_and_unseen_alerts_are_counted_as_in_doubt() -> None:
    alerts = [make("1", alertname="X"), make("2", alertname="X"), make("3", alertname="X")]
    alerts[0].stale, alerts[1].held = True, "not seen since prod restarted"
    [found] = group(alerts, ["alertname"])
    assert (found.stale, found.unseen) == (2, 1)  # one stale, one unseen: each said as what it is


def test_a_group_whose_every_alert_is_in_doubt_says_which_doubt() -> None:
    from oncall_tui.ui.widgets.alert_list import group_state

    assert group_state(0, 8, [(0, "stale"), (8, "unseen")], 8) == "8 unseen"
    assert group_state(0, 8, [(3, "stale"), (5, "unseen")], 8) == "8/8 unknown"  # not "muted"
    assert group_state(0, 8, [(8, "stale"), (0, "unseen")], 8) == "8 stale"
    assert group_state(0, 3, [(2, "stale"), (0, "unseen"), (1, "silenced")], 2) == "2/3 unknown"
    assert group_state(0, 3, [(2, "silenced"), (1, "inhibited")]) == "3 muted"  # none in doubt: muted


def test_a_group_of_the_same_alerts_is_taken_as_it_was_formed() -> None:
    """What each poll regroups: the same alerts, the group as it was; alike ones (another
    inhibitor named), its counts with the alerts as they are now; one changed, counted again."""
    alerts = [make(str(i), "inhibited", alertname="X", service=f"s{i % 3}") for i in range(6)]
    before = group(alerts, ["alertname"], ["service"])
    assert group(alerts, ["alertname"], ["service"], before)[0] is before[0]
    renamed = [replace(a, inhibited_by=("other",)) for a in alerts]
    [again] = group(renamed, ["alertname"], ["service"], before)
    assert again.alerts == tuple(renamed) and all(map(is_, again.alerts, renamed))
    assert again.newest is not None and any(again.newest is a for a in renamed)
    assert (again.states, again.top, again.common) == (before[0].states, before[0].top, before[0].common)
    silenced = [*renamed[:5], replace(renamed[5], state="silenced")]
    [counted] = group(silenced, ["alertname"], ["service"], [again])
    assert counted.count("silenced") == 1 and counted.count("inhibited") == 5
    assert group(alerts[:5], ["alertname"], ["service"], before)[0].count("inhibited") == 5  # one fewer
