"""The final schedule of a busy rotation: 5 layers of 10 users with restrictions, over 90 days.

Run from the repo root:  .venv/bin/python -m bench.rotation

Prints the median over 20 rounds against the target (<= 100 ms), beside the same
schedule's answer for a single instant repeated once per shift (the floor of any
interval-by-interval method).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from oncall_tui.core.oncall.rotation import Layer, Override, Restriction, Schedule


def busy_schedule() -> Schedule:
    start = datetime(2024, 1, 1)
    layers = (
        Layer("Weekly", tuple(f"w{i}" for i in range(10)), start, start, 7 * 86400),
        Layer(
            "Daily",
            tuple(f"d{i}" for i in range(10)),
            start,
            datetime(2024, 1, 1, 9),
            86400,
            restrictions=(Restriction(clock_time(9), 9 * 3600),),
        ),
        Layer(
            "Nights",
            tuple(f"n{i}" for i in range(10)),
            start,
            start,
            12 * 3600,
            restrictions=(Restriction(clock_time(21), 12 * 3600),),
        ),
        Layer(
            "Weekend",
            tuple(f"e{i}" for i in range(10)),
            start,
            start,
            2 * 86400,
            restrictions=(Restriction(clock_time(18), 62 * 3600, day=5),),
        ),
        Layer(
            "Holiday cover",
            tuple(f"h{i}" for i in range(10)),
            start,
            start,
            8 * 3600,
            restrictions=(Restriction(clock_time(0), 8 * 3600, day=3),),
        ),
    )
    zone = ZoneInfo("America/Los_Angeles")
    overrides = tuple(
        Override("o", datetime(2026, 3, d, 17, tzinfo=UTC), datetime(2026, 3, d, 23, tzinfo=UTC))
        for d in range(1, 20, 3)
    )
    return Schedule("busy", zone, layers, overrides)


def main() -> None:
    schedule = busy_schedule()
    since = datetime(2026, 2, 1, tzinfo=UTC)  # across the US DST change in March
    until = since + timedelta(days=90)
    times, shifts = [], []
    for _ in range(20):
        start = time.perf_counter()
        shifts = schedule.final(since, until)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for shift in shifts:
        schedule.on_call(shift.start)
    floor = time.perf_counter() - start
    median = statistics.median(times)
    print(f"90-day final schedule, 5 layers x 10 users, restrictions, 7 overrides: {len(shifts)} shifts")
    print(f"  median {median * 1000:.1f} ms over 20 rounds (target <= 100 ms)")
    print(f"  floor: one on_call() per shift {floor * 1000:.1f} ms ({median / floor:.1f} x)")


if __name__ == "__main__":
    main()
