"""The rotation maths: the guide's example, DST, restrictions, layers, overrides, and properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.core.oncall.rotation import Layer, Override, Restriction, Schedule

LA = ZoneInfo("America/Los_Angeles")
WEEK, DAY = 604800, 86400
JAN1 = datetime(2024, 1, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(users: tuple[str, ...] = ("alice", "bob", "carol"), **kw: object) -> Layer:
    return Layer("Weekly", users, JAN1, JAN1, WEEK, **kw)


GUIDE = Schedule("ML Platform On-Call", LA, (weekly(),))


def test_the_guides_weekly_rotation_over_three_users() -> None:
    table = [
        (utc(2024, 1, 1, 8), "alice"),  # Monday 00:00 PST: the first turn
        (utc(2024, 1, 8, 7, 59, 59), "alice"),  # Sunday 23:59:59 PST
        (utc(2024, 1, 8, 8), "bob"),
        (utc(2024, 1, 15, 8), "carol"),
        (utc(2024, 1, 22, 8), "alice"),  # round again
        (utc(2024, 3, 11, 6, 59), "alice"),  # Sunday 23:59 PDT, after the DST change (turn 9)...
        (utc(2024, 3, 11, 7), "bob"),  # ...the handoff stays at Monday 00:00 local (07:00Z, not 08:00Z)
        (utc(2024, 1, 1, 7, 59), None),  # before the layer starts
    ]
    for moment, user in table:
        assert GUIDE.on_call(moment) == user, moment


def test_a_24h_turn_across_both_dst_changes_hands_off_at_the_same_local_time() -> None:
    daily = Schedule("d", LA, (Layer("Daily", ("ann", "ben"), JAN1, datetime(2024, 1, 1, 9), DAY),))
    shifts = daily.final(utc(2024, 3, 9, 12), utc(2024, 3, 12, 12))
    starts = [s.start for s in shifts[1:]]
    assert starts == [utc(2024, 3, 9, 17), utc(2024, 3, 10, 16), utc(2024, 3, 11, 16)]  # 09:00 PST, then PDT
    assert shifts[1].end - shifts[1].start == timedelta(hours=23)  # the short day
    autumn = daily.final(utc(2024, 11, 2, 12), utc(2024, 11, 4, 12))
    assert autumn[1].end - autumn[1].start == timedelta(hours=25)  # the long day
    assert [s.start.astimezone(LA).hour for s in autumn[1:]] == [9, 9]


def test_a_handoff_in_the_skipped_hour_and_in_the_repeated_hour() -> None:
    odd = Schedule("o", LA, (Layer("L", ("ann", "ben"), JAN1, datetime(2024, 1, 1, 2, 30), DAY),))
    spring = odd.final(utc(2024, 3, 10, 6), utc(2024, 3, 10, 12))
    assert [s.start for s in spring[1:]] == [utc(2024, 3, 10, 10)]  # 02:30 does not exist: at 03:00 PDT
    late = Schedule("l", LA, (Layer("L", ("ann", "ben"), JAN1, datetime(2024, 1, 1, 1, 30), DAY),))
    autumn = late.final(utc(2024, 11, 3, 7), utc(2024, 11, 3, 11))
    assert [s.start for s in autumn[1:]] == [utc(2024, 11, 3, 8, 30)]  # the first 01:30, and it stays
    assert len(autumn) == 2


def test_restrictions_mask_without_stopping_the_rotation() -> None:
    office = Restriction(time(9), 8 * 3600)
    layer = weekly(restrictions=(office,))
    masked = Schedule("m", LA, (layer,))
    assert masked.on_call(utc(2024, 1, 2, 17)) == "alice"  # Tuesday 09:00 PST
    assert masked.on_call(utc(2024, 1, 2, 16, 59)) is None
    assert masked.on_call(utc(2024, 1, 3, 1)) is None  # 17:00 PST
    assert masked.on_call(utc(2024, 1, 9, 17)) == "bob"  # the rotation went on underneath
    overnight = Restriction(time(22), 10 * 3600)  # crosses midnight
    assert overnight.contains(datetime(2024, 1, 2, 3)) and not overnight.contains(datetime(2024, 1, 2, 9))
    weekdays = Restriction(time(9), 5 * DAY, day=1)  # Monday 09:00 for five days
    assert weekdays.contains(datetime(2024, 1, 5, 20)) and not weekdays.contains(datetime(2024, 1, 6, 10))
    assert not weekdays.contains(datetime(2024, 1, 1, 8, 59)) and weekdays.contains(datetime(2024, 1, 1, 9))


def test_a_higher_layer_wins_where_it_has_someone_and_overrides_beat_all() -> None:
    nights = Layer("Nights", ("nina",), JAN1, JAN1, WEEK, restrictions=(Restriction(time(18), 15 * 3600),))
    schedule = Schedule("s", LA, (weekly(), nights), (Override("olga", utc(2024, 1, 3, 0), utc(2024, 1, 3, 2)),))
    assert schedule.on_call(utc(2024, 1, 2, 20)) == "alice"  # 12:00 PST: nights has nobody
    assert schedule.on_call(utc(2024, 1, 3, 4)) == "nina"  # 20:00 PST
    assert schedule.on_call(utc(2024, 1, 3, 0)) == "olga"
    assert schedule.on_call(utc(2024, 1, 3, 2)) == "nina"  # the override's end is exclusive
    ended = Schedule("e", LA, (weekly(end=datetime(2024, 1, 10)),))
    assert ended.on_call(utc(2024, 1, 10, 7, 59)) == "bob" and ended.on_call(utc(2024, 1, 10, 8)) is None


def test_handoff_and_final_schedule_shapes() -> None:
    now, following = GUIDE.handoff(utc(2024, 1, 3))
    assert (now.user, now.end, following.user) == ("alice", utc(2024, 1, 8, 8), "bob")
    shifts = GUIDE.final(utc(2024, 1, 1), utc(2024, 2, 1))
    assert [s.user for s in shifts] == [None, "alice", "bob", "carol", "alice", "bob"]
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts))


# -- properties ----------------------------------------------------------------------------
names = st.lists(st.sampled_from(["ann", "ben", "cat", "dan", "eve"]), min_size=1, max_size=5).map(tuple)
turns = st.integers(min_value=3600, max_value=4 * WEEK)
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31))
virtual_starts = st.datetimes(min_value=datetime(2023, 6, 1), max_value=datetime(2026, 1, 1))
zones = st.sampled_from(["America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"])


@settings(max_examples=300, deadline=None)
@given(users=names, turn=turns, vstart=virtual_starts, local=moments)
def test_every_instant_has_exactly_one_user_per_layer(users, turn, vstart, local) -> None:
    layer = Layer("L", users, datetime(2023, 1, 1), vstart, turn)
    assert layer.user_at(local) in users


@settings(max_examples=300, deadline=None)
@given(users=names, turn=turns, vstart=virtual_starts, local=moments)
def test_turns_advance_by_exactly_one_user_per_turn_length(users, turn, vstart, local) -> None:
    layer = Layer("L", users, datetime(2023, 1, 1), vstart, turn)
    index = layer.turn(local)
    assert layer.turn(local + timedelta(seconds=turn)) == index + 1
    assert layer.user_at(local + timedelta(seconds=turn)) == users[(index + 1) % len(users)]


@settings(max_examples=300, deadline=None)
@given(
    users=names,
    turn=turns,
    vstart=virtual_starts,
    local=moments,
    start=st.times(),
    hours=st.integers(min_value=1, max_value=23),
    day=st.none() | st.integers(min_value=1, max_value=7),
)
def test_a_restriction_never_changes_which_turn_it_is(users, turn, vstart, local, start, hours, day) -> None:
    plain = Layer("L", users, datetime(2023, 1, 1), vstart, turn)
    restricted = Layer(
        "L", users, datetime(2023, 1, 1), vstart, turn, restrictions=(Restriction(start, hours * 3600, day),)
    )
    assert restricted.user_at(local) in (None, plain.user_at(local))


@settings(max_examples=200, deadline=None)
@given(
    zone=zones,
    moment=st.datetimes(min_value=datetime(2024, 1, 2), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
)
def test_override_windows_win_exactly_inside_their_bounds(zone, moment, minutes) -> None:
    base = Schedule("s", ZoneInfo(zone), (weekly(users=("ann", "ben")),))
    override = Override("olga", moment, moment + timedelta(minutes=minutes))
    with_override = Schedule("s", ZoneInfo(zone), base.layers, (override,))
    tick = timedelta(microseconds=1)
    assert with_override.on_call(override.start) == "olga"
    assert with_override.on_call(override.end - tick) == "olga"
    assert with_override.on_call(override.start - tick) == base.on_call(override.start - tick)
    assert with_override.on_call(override.end) == base.on_call(override.end)


@settings(max_examples=100, deadline=None)
@given(
    zone=zones,
    start=st.datetimes(min_value=datetime(2024, 1, 2), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
    probes=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=1, max_size=10),
)
def test_the_final_schedule_agrees_with_every_instant(zone, start, probes) -> None:
    layers = (
        weekly(users=("ann", "ben", "cat")),
        Layer(
            "Days", ("dan", "eve"), JAN1, datetime(2024, 1, 1, 9), DAY, restrictions=(Restriction(time(9), 8 * 3600),)
        ),
    )
    schedule = Schedule("s", ZoneInfo(zone), layers)
    until = start + timedelta(days=10)
    shifts = schedule.final(start, until)
    assert shifts[0].start == start and shifts[-1].end == until
    for fraction in probes:
        moment = min(start + (until - start) * fraction, until - timedelta(microseconds=1))
        [shift] = [s for s in shifts if s.start <= moment < s.end]
        assert shift.user == schedule.on_call(moment), moment


def test_the_example_config_schedule_is_the_guides(capsys) -> None:
    from oncall_tui.cli import main
    from oncall_tui.core.config import load_config
    from oncall_tui.core.oncall.roster import Roster
    from tests.conftest import ROOT

    _, config = load_config(str(ROOT / "config.yaml"), env={})
    roster = Roster(config.oncall)
    [level1, level2] = roster.levels(utc(2024, 1, 9))
    assert (level1.users, level1.until, level1.next_users) == (("bob",), utc(2024, 1, 15, 8), ("carol",))
    assert level2.users == ("dana",) and roster.paged_at(2, utc(2024, 1, 9)) == ["dana"]
    assert (
        main(["oncall", "--config", str(ROOT / "config.yaml"), "--at", "2024-01-09T00:00", "--until", "2024-01-20"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("L1 bob ") and "then carol" in out[0]
    assert [line.split()[-1] for line in out[4:]] == ["bob", "carol"]
    assert main(["oncall", "--config", str(ROOT / "config.yaml"), "--at", "tomorrow"]) == 2


def test_schedule_config_errors_name_the_key() -> None:
    import pytest

    from oncall_tui.core.config import ConfigError, parse_config

    base = "user: {name: a}\nalertmanagers: [{name: p, url: 'http://x:1'}]\noncall:\n"
    layer = "{start: 2024-01-01T00:00:00, rotation_virtual_start: 2024-01-01T00:00:00, rotation_turn_length_seconds: 60, users: [a]}"
    for body, expected in [
        (f"  schedules: [{{name: s, time_zone: Mars/Olympus, layers: [{layer}]}}]", "is not a time zone"),
        ("  escalation: [{level: 1, schedule: nope}]", "names schedule 'nope', which is not defined"),
        ("  escalation: [{level: 1}]", "either a schedule or users"),
        (
            f"  schedules: [{{name: s, time_zone: UTC, layers: [{layer[:-1]}, restrictions: [{{type: weekly_restriction, start_time_of_day: '09:00:00', duration_seconds: 60}}]}}]}}]",
            "needs start_day_of_week",
        ),
    ]:
        with pytest.raises(ConfigError) as caught:
            parse_config(base + body + "\n", "cfg.yaml", {})
        assert expected in caught.value.problems[0] and caught.value.problems[0].startswith("cfg.yaml: oncall")


def test_the_escalation_plan_names_who_is_paged_or_why_nobody_can_be() -> None:
    from oncall_tui.core.config import OnCall, load_config
    from oncall_tui.core.oncall.roster import LevelNow, Roster, escalation_plan
    from tests.conftest import ROOT

    _, config = load_config(str(ROOT / "config.yaml"), env={})
    roster, moment = Roster(config.oncall), utc(2024, 1, 9)
    assert escalation_plan(1, moment, roster) == (["bob"], 2)  # the schedule's person at level 1
    assert escalation_plan(2, moment, roster) == (["dana"], 2)
    assert escalation_plan(3, moment, roster) == "level 2 is the last escalation level: there is nobody further to page"
    assert escalation_plan(2, moment, Roster(OnCall())).startswith("no escalation levels are configured")
    pagerduty = [LevelNow(1, "P", ("alice",), None, (), None), LevelNow(2, "P", (), None, (), None)]
    assert escalation_plan(2, moment, roster, pagerduty) == ([], 2)  # nobody on call there: said by the desk
    assert escalation_plan(2, moment, roster, []).startswith("PagerDuty's on-call levels are not loaded yet")
