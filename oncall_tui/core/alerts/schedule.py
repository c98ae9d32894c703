"""When a console next asks an Alertmanager: at its poll interval while answers come in time,
less often while it is busy, never in step with the other consoles of a team.

One Alertmanager serves only so many full answers a second (0.6–0.9 of 10,000 alerts on this
project's 2-core machine: bench/team_scale.py); past its `--web.get-concurrency` it answers
503. Busy is not down: a console that gets a 503 or 429, or an answer slower than its
interval, waits longer before the next question: a random time between the interval and a
ceiling that doubles each time (exponential backoff with jitter, up to `max_interval`; never
sooner than the interval), and at least what a `Retry-After` asks (up to the same cap). Each
answer in time brings the ceiling down by a quarter, back to the interval. The
consoles of a team that open the console after the same page ask once at once, then at a
random offset within the interval, so they do not keep asking together.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import Enum


class Outcome(Enum):
    IN_TIME = "in time"
    SLOW = "slow"
    """Answered, but slower than the poll interval: it is struggling to keep up."""
    BUSY = "busy"
    """503 or 429: it turned the question away."""
    FAILED = "failed"
    """Unreachable, or another error: not busy (the poll interval stands)."""


SLOW_FLOOR = 1.0
"""An answer is slow when it takes longer than the poll interval and than this: under a
second is no sign of trouble, however short the interval."""
GROWTH, EASING = 2.0, 0.75
"""The ceiling doubles on each busy sign and comes down by a quarter on each answer in time."""


@dataclass
class PollSchedule:
    """One console's questions to one Alertmanager (`rng` seeded in tests)."""

    interval: float
    max_interval: float
    rng: random.Random = field(default_factory=random.Random)
    ceiling: float = 0.0
    """The longest wait now: the interval, or more while it is busy."""
    busy: bool = False
    """Whether the waits are longer now for a busy sign."""

    def __post_init__(self) -> None:
        self.max_interval = max(self.max_interval, self.interval)
        self.ceiling = self.ceiling or self.interval

    def spread(self) -> float:
        """The wait after the first poll: a random share of the interval, so that consoles
        started together do not ask together."""
        return self.rng.uniform(0, self.interval)

    def after(self, outcome: Outcome, took: float, retry_after: float | None = None) -> float:
        """Seconds from the end of a poll that took `took` (and came out as `outcome`) to the
        start of the next."""
        if outcome in (Outcome.BUSY, Outcome.SLOW):
            self.busy = True
            self.ceiling = min(self.max_interval, self.ceiling * GROWTH)
            wait = self.rng.uniform(self.interval, self.ceiling)  # jitter: a team's next questions spread out
            if retry_after is not None:
                wait = max(wait, min(retry_after, self.max_interval))
            return wait
        if outcome is Outcome.IN_TIME and self.ceiling > self.interval:
            self.ceiling = max(self.interval, self.ceiling * EASING)
            self.busy = self.ceiling > self.interval
            wait = self.rng.uniform(self.interval, self.ceiling) if self.busy else self.interval
            return max(0.0, wait - took)
        self.busy = False
        return max(0.0, self.interval - took)  # the interval from start to start


async def keep_polling(
    poll: Callable[[], Awaitable[Outcome]],
    schedule: PollSchedule,
    retry_after: Callable[[], float | None] = lambda: None,
    wake: asyncio.Event | None = None,
) -> None:
    """Poll for ever on `schedule`'s times: one poll at a time (the next starts only once the
    last has ended), at once, then after a random share of the interval, then as `after` says;
    `wake` set: at once (the user asked). `retry_after`: what the source last asked for."""
    first = True
    while True:
        started = time.monotonic()
        outcome = await poll()
        took = time.monotonic() - started
        wait = schedule.spread() if first else schedule.after(outcome, took, retry_after())
        first = False
        if wake is None:
            await asyncio.sleep(wait)
            continue
        with suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), wait)
        wake.clear()
