"""A team on one Alertmanager: N consoles polling the real Alertmanager 0.25 with 10,000 alerts.

Run from the repo root:  .venv/bin/python -m bench.team_scale [--consoles 50] [--seconds 30]
                                   [--filter 'severity="critical"']

Each simulated console is the console's own poll loop (`keep_polling`, `PollSchedule`) around
its own `Board` and `AlertmanagerClient`, all in this process. Each reads every answer whole but
does not decode it: fifty consoles' decoding in one Python process would measure Python, not
Alertmanager (a team's consoles each decode on their own machine). Alertmanager runs on every core
(GOMAXPROCS unset) with its default `--web.get-concurrency` (the cores, or 8 at least). For each
N (1, 10, 50 by default) it prints one line:

  N=50  served 0.6/s  503s 90.1 %  fresh p50 34.9 s  p95 60.0 s  max 60.0 s

(full answers served a second; the share of polls turned away; each console's time between
fresh answers, from the start to its first, and from its last to the end, counted too), then
the same with backoff and spreading off (every console asks every interval, all started
together, a 503 retried at the next interval), prefixed `peer`. With `--filter` (the `/`
filter's text), each console asks for only the alerts its matchers match, and for every alert
when that answer is `full_poll_interval` (30s) old, as the console does; the line then ends with the longest
wait between whole answers (`whole max`: how late what the filter hides is followed). The issue's targets at N=50
(503s <= 5 %, fresh p95 <= 10 s, max <= 30 s) assume an Alertmanager serving 8 answers a
second; on this machine it serves under one (see the README). Figures only: nothing here
passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.alerts_scale import post_all
from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.matchers import parse_filter
from oncall_tui.core.alerts.models import SilenceMatcher
from oncall_tui.core.alerts.schedule import SLOW_FLOOR, Outcome, PollSchedule, keep_polling
from oncall_tui.core.config import Config
from oncall_tui.ui.collecting import steady_malloc
from tests.alertmanager_process import CONFIG, RealAlertmanager

NO_INHIBITION = CONFIG.split("inhibit_rules:")[0]

INTERVAL, MAX_INTERVAL, FULL_INTERVAL = 2.0, 30.0, 30.0


@dataclass
class Tally:
    fresh: list[float] = field(default_factory=list)
    """When each of its answers came (seconds from the start)."""
    whole: list[float] = field(default_factory=list)
    """When each of its whole answers came (every alert, not only the filter's)."""
    busy: int = 0
    failed: int = 0


class Undecoded(AlertmanagerClient):
    """The console's client, its answers read but not decoded."""

    async def _parsed(self, response: httpx.Response, parse: Any) -> Any:
        return parse(b"[]", self.name)


def fixed(interval: float) -> PollSchedule:
    """The peer's: the interval, from start to start, whatever the answer (no backoff, no spread)."""

    class Fixed(PollSchedule):
        def spread(self) -> float:
            return self.interval

        def after(self, outcome: Outcome, took: float, retry_after: float | None = None) -> float:
            return max(0.0, self.interval - took)

    return Fixed(interval, interval)


async def console(
    config: Config, tally: Tally, start: float, schedule: PollSchedule, matchers: tuple[SilenceMatcher, ...]
) -> None:
    client = Undecoded(config.alertmanagers[0])
    board = Board([client], whole_every=FULL_INTERVAL)

    async def poll() -> Outcome:
        outcome = await board.poll_source(client, max(INTERVAL, SLOW_FLOOR), matchers)
        if outcome in (Outcome.IN_TIME, Outcome.SLOW):
            tally.fresh.append(time.monotonic() - start)
            if not board.narrowed(client.name):
                tally.whole.append(time.monotonic() - start)
        elif outcome is Outcome.BUSY:
            tally.busy += 1
        else:
            tally.failed += 1
        return outcome

    try:
        await keep_polling(poll, schedule, lambda: board.status[client.name].retry_after)
    finally:
        await client.aclose()


def gaps(moments: list[float], seconds: float) -> list[float]:
    """The waits between `moments`, from the start to the first and from the last to the end too."""
    return [b - a for a, b in itertools.pairwise([0.0, *moments, seconds])]


async def run(config: Config, consoles: int, seconds: float, peer: bool, matchers: tuple[SilenceMatcher, ...]) -> str:
    tallies = [Tally() for _ in range(consoles)]
    start = time.monotonic()
    tasks = [
        asyncio.create_task(
            console(config, tally, start, fixed(INTERVAL) if peer else PollSchedule(INTERVAL, MAX_INTERVAL), matchers)
        )
        for tally in tallies
    ]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    answered = sum(len(t.fresh) for t in tallies)
    turned = sum(t.busy for t in tallies)
    waits = sorted(wait for tally in tallies for wait in gaps(tally.fresh, seconds))
    p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
    failed = sum(t.failed for t in tallies)
    line = (
        f"N={consoles}  served {answered / seconds:.1f}/s  503s {100 * turned / max(1, answered + turned):.1f} %"
        f"  fresh p50 {statistics.median(waits):.1f} s  p95 {p95:.1f} s  max {waits[-1]:.1f} s"
    )
    if matchers:
        line += f"  whole max {max(wait for tally in tallies for wait in gaps(tally.whole, seconds)):.1f} s"
    return ("peer " if peer else "") + line + (f"  (other failures {failed})" if failed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consoles", type=int, action="append", help="run one N (again for more); default 1, 10, 50")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each run polls")
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--filter", default="", help="the / filter each console shows, e.g. 'severity=\"critical\"'")
    parser.add_argument(
        "--no-inhibition",
        action="store_true",
        help="Alertmanager without the tests' inhibit rule (critical inhibits warning of the same service)",
    )
    args = parser.parse_args()
    matchers = parse_filter(args.filter).for_alertmanager
    steady_malloc()
    with tempfile.TemporaryDirectory() as tmp:
        am_config = NO_INHIBITION if args.no_inhibition else CONFIG
        am = RealAlertmanager(Path(tmp), config=am_config, cores=os.cpu_count() or 1).start()
        try:
            ends = (datetime.now(UTC) + timedelta(hours=3)).isoformat()  # firing through every run
            post_all(am, args.alerts, ends)
            config = Config.model_validate(
                {
                    "user": {"name": "bench"},
                    "alertmanagers": [{"name": "bench", "url": am.url, "timeout": "30s"}],
                    "poll_interval": f"{INTERVAL}s",
                    "alerts": {"max_poll_interval": f"{MAX_INTERVAL}s"},
                    "data_dir": str(Path(tmp) / "data"),
                }
            )
            rule = (
                "no inhibit rule"
                if args.no_inhibition
                else "an inhibit rule (critical inhibits warning, equal service)"
            )
            print(
                f"alerts: {args.alerts}, {rule}, poll_interval {INTERVAL:.0f}s, max_poll_interval {MAX_INTERVAL:.0f}s",
                end="",
            )
            print(f", filter {args.filter} (every alert each {FULL_INTERVAL:.0f}s)" if matchers else "")
            for consoles in args.consoles or [1, 10, 50]:
                for peer in (False, True):
                    assert len(am.alerts()) == args.alerts, "Alertmanager does not hold every alert"
                    print(asyncio.run(run(config, consoles, args.seconds, peer, matchers)), flush=True)
        finally:
            am.stop()


if __name__ == "__main__":
    main()
