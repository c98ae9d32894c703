"""When a console next asks a busy Alertmanager: backoff with full jitter, Retry-After, and back."""

from __future__ import annotations

import random

import pytest

from oncall_tui.core.alerts.schedule import EASING, GROWTH, Outcome, PollSchedule


def schedule(seed: int = 1) -> PollSchedule:
    return PollSchedule(interval=2.0, max_interval=30.0, rng=random.Random(seed))


def test_answers_in_time_keep_the_interval_from_start_to_start() -> None:
    polls = schedule()
    assert polls.after(Outcome.IN_TIME, 0.5) == 1.5 and not polls.busy
    assert polls.after(Outcome.IN_TIME, 3.0) == 0.0  # (slow answers are SLOW: the board says so)
    assert polls.after(Outcome.FAILED, 0.1) == pytest.approx(1.9)  # down is not busy: the interval stands


def test_busy_waits_grow_to_the_cap_each_a_random_share_of_its_ceiling() -> None:
    ceilings, waits = [], []
    polls = schedule()
    for _ in range(8):
        waits.append(polls.after(Outcome.BUSY, 0.01))
        ceilings.append(polls.ceiling)
    assert ceilings == [4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0, 30.0] and polls.busy
    assert all(2.0 <= w <= c for w, c in zip(waits, ceilings, strict=True))  # never sooner than the interval
    # jitter: a team's consoles, each on its own draw, do not come back together
    spread = [schedule(seed).after(Outcome.BUSY, 0.01) for seed in range(200)]
    assert min(spread) < 2.3 and max(spread) > 3.7 and len(set(spread)) == 200


def test_a_slow_answer_is_a_busy_sign() -> None:
    polls = schedule()
    polls.after(Outcome.SLOW, 2.5)
    assert polls.busy and polls.ceiling == 2.0 * GROWTH


def test_retry_after_is_waited_at_least_up_to_the_cap() -> None:
    for seed in range(50):
        assert schedule(seed).after(Outcome.BUSY, 0.0, retry_after=3.5) >= 3.5
    assert schedule().after(Outcome.BUSY, 0.0, retry_after=3600) == 30.0  # never blind longer than the cap


def test_answers_in_time_bring_the_waits_back_to_the_interval() -> None:
    polls = schedule()
    for _ in range(5):
        polls.after(Outcome.BUSY, 0.0)
    assert polls.ceiling == 30.0
    waits = []
    while polls.busy:
        waits.append(polls.after(Outcome.IN_TIME, 0.2))
        assert 2.0 - 0.2 <= waits[-1] <= polls.ceiling - 0.2 or not polls.busy
    assert polls.ceiling == 2.0 and 5 <= len(waits) <= 12  # by a quarter each time: gradually, not at once
    assert polls.ceiling * EASING < 2.0 and polls.after(Outcome.IN_TIME, 0.2) == pytest.approx(1.8)


def test_the_first_wait_is_a_random_share_of_the_interval() -> None:
    offsets = [schedule(seed).spread() for seed in range(200)]
    assert all(0 <= o <= 2.0 for o in offsets) and min(offsets) < 0.2 and max(offsets) > 1.8
