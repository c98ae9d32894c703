"""An alert storm: 2,000 critical alerts arrive at once in a real Alertmanager, with
`auto_declare: [critical]`. The console must stay on schedule and declare a bounded number
of incidents.

Run from the repo root:  .venv/bin/python -m bench.storm [--alerts 2000] [--groups 700] [--seconds 20]

Prints:
  (a) `amtool alert query` wall time on the same Alertmanager (the peer: one full read)
  (b) the poll age the header shows, sampled every 100 ms from the storm's start until
      `--seconds` after it: median and max, beside the poll interval (target: max <= 2 x interval + (a))
  (c) how long until the storm incident was declared, and how many incidents and notifications
      there were (target: auto_declare_limit + 1 incidents, 1 notification)
  (d) the journal: events written and bytes (one event per incident per poll, not per alert)
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from oncall_tui.core.config import Config
from oncall_tui.ui.app import oncall_app
from tests.alertmanager_process import RealAlertmanager

POLL = 2.0


def storm_alerts(count: int, groups: int) -> list[dict]:
    return [
        {
            "labels": {
                "alertname": "HighErrorRate",
                "severity": "critical",
                "service": f"svc-{i % groups:04d}",
                "pod": f"pod-{i:05d}",
            },
            "annotations": {"summary": f"errors on svc-{i % groups:04d}"},
        }
        for i in range(count)
    ]


def amtool_ms(url: str, expected: int) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        out = subprocess.run(
            ["amtool", f"--alertmanager.url={url}", "alert", "query", "-o", "json"], capture_output=True, check=True
        ).stdout
        times.append(time.perf_counter() - start)
    assert out.count(b'"fingerprint"') == expected, "amtool did not see every alert"
    return statistics.median(times) * 1000


async def run_console(config: Config, am: RealAlertmanager, alerts: list[dict], seconds: float) -> dict:
    app = oncall_app(config)
    ages: list[float] = []
    shown: list[str] = []
    notify = app.notify

    def counted(message: str, **kwargs: object) -> None:  # they time out: count them as they come
        shown.append(message)
        notify(message, **kwargs)

    app.notify = counted
    async with app.run_test(size=(160, 45)):
        status = app.services.board.status["bench"]
        while status.last_ok is None:
            await asyncio.sleep(0.01)
        start = time.perf_counter()
        for i in range(0, len(alerts), 500):  # as Prometheus would: in batches
            am.post_alerts(alerts[i : i + 500])
        declared_after = None
        while time.perf_counter() - start < seconds:
            ages.append((app.clock() - status.last_ok).total_seconds())  # what the header shows
            if declared_after is None and any(i.storm for i in app.services.desk.open_incidents()):
                declared_after = time.perf_counter() - start
            await asyncio.sleep(0.1)
        incidents = list(app.services.desk.incidents.values())
        events = sum(len(i.events) for i in incidents)
        journal_bytes = sum(p.stat().st_size for p in (config.data_dir / "incidents").glob("*.jsonl"))
        linked = sum(len(i.alerts) for i in incidents)
        return {
            "ages": ages,
            "declared_after": declared_after,
            "incidents": len(incidents),
            "notifications": len(shown),
            "events": events,
            "bytes": journal_bytes,
            "linked": linked,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=700)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    alerts = storm_alerts(args.alerts, args.groups)
    with tempfile.TemporaryDirectory() as tmp:
        am = RealAlertmanager(Path(tmp)).start()
        try:
            config = Config.model_validate(
                {
                    "user": {"name": "bench"},
                    "alertmanagers": [{"name": "bench", "url": am.url, "timeout": "30s"}],
                    "poll_interval": f"{POLL}s",
                    "data_dir": str(Path(tmp) / "data"),
                    "incidents": {"auto_declare": ["critical"]},
                }
            )
            figures = asyncio.run(run_console(config, am, alerts, args.seconds))
            peer = amtool_ms(am.url, args.alerts)
        finally:
            am.stop()
    ages = figures["ages"]
    limit = config.incidents.auto_declare_limit
    print(f"alerts: {args.alerts} in {args.groups} groups, poll interval {POLL:g} s, watched {args.seconds:g} s")
    print(f"(a) amtool alert query (same Alertmanager)  {peer:8.1f} ms")
    print(
        f"(b) header poll age during the storm        median {statistics.median(ages):.1f} s, max {max(ages):.1f} s"
        f"   max = {max(ages) / POLL:.2f} x interval (target <= 2 x interval + (a) = {2 * POLL + peer / 1000:.1f} s)"
        f", over {len(ages)} samples"
    )
    after = figures["declared_after"]
    print(
        f"(c) storm incident declared after           {after:.1f} s" if after is not None else "(c) no storm incident"
    )
    print(
        f"    incidents {figures['incidents']} (target {limit + 1}), notifications {figures['notifications']}"
        f" (target 1), alerts linked {figures['linked']}"
    )
    print(f"(d) journal: {figures['events']} events, {figures['bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
