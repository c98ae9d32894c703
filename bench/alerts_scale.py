"""10,000 alerts in a real Alertmanager: the console against amtool, in one run.

Run from the repo root:  .venv/bin/python -m bench.alerts_scale [--alerts 10000] [--rounds 5]

Prints, as medians over the rounds:
  (a) `amtool alert query -o json` wall time (all states, as the console fetches them)
  (b) the console's client: fetch + parse of GET /api/v2/alerts
  (c) a full console refresh in a headless app until the alerts pane shows every alert (the
      screen drawn with them); and, apart, until the process is idle (the alert history written
      too, in its thread, after the drawing: what (c) measured before 2026-12-07). Before each refresh, and before each of (a)'s
      rounds and of Alertmanager's alone, a thirtieth of the alerts is sent again (Prometheus
      re-sends each firing alert every minute; the console polls every 2 s), so each refresh
      has new JSON to read, and each peer finds Alertmanager as busy with it ((b) too). (a),
      Alertmanager's alone and (c) are taken in turn in each round: Alertmanager's own speed
      drifts over minutes, and each is compared with the others as they met it ((b), with
      Alertmanager's alone in turn, runs before)
  (d) how long a keypress takes to be handled while a refresh is under way (j and k, about
      200 a second, as a key held down); and, after a burst of keys, how long the runbook pane
      takes to show the runbook of the alert the cursor rests on (it follows a key held down
      once the cursor has rested `SETTLE`, as it does for users)
  (e) the peak RSS of this process (the console, the client and the bench together), before (f)
  (f) `A` on a group of 500 alerts (ConsumerLag, among the 10,000): from the enter that confirms
      it to the pane showing all 500 acked, against amtool doing the same (silence add with
      an ACK! comment, then alert query until all 500 are silenced)
with the targets: (b) <= 0.5 x (a), (c) <= 0.8 x (a), (d) p99 <= 50 ms, (e) <= 200 MB.
The console records its alert history as it runs (as it does for users), in a temporary dir.
This process stands for the console's: it tames malloc at start (few arenas, big blocks mapped
on their own), as the console does (`steady_malloc`, called by `oncall_app`), before anything
runs.
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from textual import events
from textual.message import Message
from textual.pilot import Pilot

from oncall_tui.core.alerts.acks import acked_by
from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.config import Config
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.collecting import steady_malloc
from oncall_tui.ui.messages import AlertsPolled
from oncall_tui.ui.widgets.runbook_pane import SETTLE
from tests.alertmanager_process import RealAlertmanager

NAMES = [
    "HighErrorRate",
    "HighLatency",
    "PodCrashLooping",
    "DiskWillFill",
    "KubeJobFailed",
    "TargetDown",
    "CPUThrottlingHigh",
    "MemoryPressure",
    "CertificateExpiresSoon",
    "NodeNotReady",
    "QueueBacklog",
    "SLOViolation",
]
SEVERITIES = ["critical", "warning", "warning", "info"]


def realistic_alerts(count: int, seed: int = 7) -> list[dict]:
    """Alerts of about 500 bytes each, with the label spread of a mid-sized fleet."""
    rng = random.Random(seed)
    alerts = []
    for i in range(count):
        name, service = rng.choice(NAMES), f"svc-{rng.randrange(60):02d}"
        labels = {
            "alertname": name,
            "severity": rng.choice(SEVERITIES),
            "service": service,
            "namespace": f"team-{rng.randrange(12)}",
            "instance": f"node-{i:05d}.eu-west-1.compute.internal:9100",
            "pod": f"{service}-{rng.getrandbits(32):08x}-{rng.getrandbits(20):05x}",
            "job": "kubernetes-pods",
            "cluster": "prod-eu-1",
        }
        annotations = {
            "summary": f"{name} on {service} ({labels['instance']})",
            "description": f"{name} has been firing for {service} in {labels['namespace']}: "
            "the value crossed its threshold for longer than the for: duration. Check the dashboards.",
            "runbook_url": f"https://runbooks.example.com/runbooks/{name.lower()}.md",
        }
        alerts.append({"labels": labels, "annotations": annotations, "generatorURL": "http://prometheus:9090/graph"})
    return alerts


BULK = "ConsumerLag"


def bulk_alerts(count: int) -> list[dict]:
    """One alertname on `count` consumers: the group (f) acknowledges."""
    return [
        {
            "labels": {"alertname": BULK, "severity": "warning", "service": "billing", "consumer": f"c-{i:04d}"},
            "annotations": {"summary": f"consumer c-{i:04d} lags"},
        }
        for i in range(count)
    ]


def post_all(am: RealAlertmanager, count: int, ends: str | None = None) -> None:
    """`ends`: their `endsAt` (without, Alertmanager resolves them 5 minutes after they were sent)."""
    batch = realistic_alerts(count - 500) + bulk_alerts(500)
    for alert in batch if ends else ():
        alert["endsAt"] = ends
    for i in range(0, len(batch), 1000):
        am.post_alerts(batch[i : i + 1000])


class Resender:
    """Sends a thirtieth of the alerts again on each call, the next thirtieth each time, as
    Prometheus does (a new `updatedAt` and `endsAt` for each)."""

    def __init__(self, am: RealAlertmanager, count: int) -> None:
        self.am, self.count, self.round = am, count, 0

    def __call__(self) -> None:
        batch = realistic_alerts(self.count - 500)
        share = len(batch) // 30
        self.am.post_alerts(batch[self.round * share % len(batch) :][:share])
        self.round += 1


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def amtool_once(url: str, expected: int) -> float:
    """Seconds `amtool alert query -o json` takes for every alert, in every state."""
    start = time.perf_counter()
    out = subprocess.run(
        ["amtool", f"--alertmanager.url={url}", "alert", "query", "-o", "json", "-a", "-s", "-i", "-u"],
        capture_output=True,
        check=True,
    ).stdout
    took = time.perf_counter() - start
    assert out.count(b'"fingerprint"') == expected, "amtool did not see every alert"
    return took


def raw_once(http: httpx.Client) -> float:
    """The Alertmanager's own share: the same GET, the body read, nothing parsed (`http`: a
    client made beforehand, its connection open, as the console's is)."""
    start = time.perf_counter()
    http.get("/api/v2/alerts").raise_for_status()
    return time.perf_counter() - start


async def run_client(
    config: Config, rounds: int, expected: int, resend: Callable[[], None]
) -> tuple[list[float], list[float]]:
    """(b), and Alertmanager's response alone, in turn in each round, `resend` before each.
    Apart from the console (before it starts): the client keeps the last answer's alerts, as
    the console's does, and two sets of 10,000 at once are not what (e) measures."""
    alone, times = [], []
    with httpx.Client(base_url=config.alertmanagers[0].url, timeout=30) as http:
        raw_once(http)  # its connection open before the rounds
        async with AlertmanagerClient(config.alertmanagers[0]) as client:
            for _ in range(rounds):
                resend()
                alone.append(await asyncio.to_thread(raw_once, http))
                resend()
                start = time.perf_counter()
                alerts = await client.alerts()
                times.append(time.perf_counter() - start)
                assert len(alerts) == expected
    return times, alone


async def key_latency(app: OncallApp, key: str) -> float:
    """Seconds from a key event reaching the app to its action having moved the cursor.

    `Pilot.press` also waits for idle and animations (~100 ms even on an idle app), so
    the key is posted directly, as the terminal driver posts it.
    """
    before = app.main.alert_list.cursor
    start = time.perf_counter()
    app.post_message(events.Key(key, key))
    while app.main.alert_list.cursor == before:
        await asyncio.sleep(0)
    return time.perf_counter() - start


async def runbook_after_burst(app: OncallApp, pilot: Pilot, key: str) -> float:
    """Seconds from the last of five quick `key`s to the runbook pane showing the rested-on alert's."""
    for _ in range(5):
        await key_latency(app, key)
    start, pane = time.perf_counter(), app.main.runbook_pane
    resting = app.main.alert_list.current
    while pane.alert is None or pane.alert.fingerprint != resting.fingerprint:
        await asyncio.sleep(0.005)
    await pilot.pause()  # until the screen has been updated
    return time.perf_counter() - start


@dataclass
class Times:
    """Each a list of seconds, one per round or key."""

    peer: list[float] = field(default_factory=list)
    """(a) amtool."""
    alone: list[float] = field(default_factory=list)
    """Alertmanager's response alone."""
    refresh: list[float] = field(default_factory=list)
    """(c) until shown."""
    settled: list[float] = field(default_factory=list)
    """(c) until the process is idle."""
    idle: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    """(d) keys during a refresh."""
    rested: list[float] = field(default_factory=list)


async def run_console(config: Config, rounds: int, expected: int, resend: Callable[[], None] = lambda: None) -> Times:
    """(a), Alertmanager alone and (c), in turn in each round (so that each meets Alertmanager
    as the others do: its speed drifts over minutes), `resend` before each (outside the times);
    (d) keypress latencies while idle and during refreshes, and the runbook's after a burst.
    The console polls only when asked (its interval is an hour): (a) and Alertmanager's alone
    run in a thread while it idles."""
    url = config.alertmanagers[0].url
    http = httpx.Client(base_url=url, timeout=30)
    raw_once(http)  # its connection open before the rounds
    times = Times()
    refresh, settled, idle, busy, rested = times.refresh, times.settled, times.idle, times.busy, times.rested
    app, shown = oncall_app(config), asyncio.Event()

    def heard(message: Message) -> None:
        if isinstance(message, AlertsPolled):  # posted once the poll's alerts are in the pane
            shown.set()

    async with app.run_test(size=(160, 45), message_hook=heard) as pilot:
        while len(app.main.alert_list.alerts) < expected:
            await asyncio.sleep(0.01)
        await pilot.pause()
        for _ in range(rounds):
            resend()
            times.peer.append(await asyncio.to_thread(amtool_once, url, expected))
            resend()
            times.alone.append(await asyncio.to_thread(raw_once, http))
            resend()
            shown.clear()
            start = time.perf_counter()
            app.main.action_refresh_now()
            await shown.wait()  # waited for, not polled: a busy loop here would slow the console down
            await pilot.pause(0)  # its messages handled, then the screen drawn
            assert len(app.main.alert_list.alerts) == expected
            refresh.append(time.perf_counter() - start)
            await pilot.pause()  # until the process is idle: the history written too
            settled.append(time.perf_counter() - start)
        for i in range(50):
            idle.append(await key_latency(app, "jk"[i % 2]))
        for _ in range(rounds):
            resend()
            shown.clear()
            app.main.action_refresh_now()
            while not shown.is_set():
                busy.append(await key_latency(app, "jk"[len(busy) % 2]))
                await asyncio.sleep(0.005)  # a fast typist, not a flood: about 200 keys a second
        for i in range(rounds):
            await asyncio.sleep(2 * SETTLE)
            rested.append(await runbook_after_burst(app, pilot, "jk"[i % 2]))
    http.close()
    return times


def all_acked(app: OncallApp) -> bool:
    bulk = [a for a in app.services.board.alerts if a.name == BULK]
    acks = app.main.alert_list.acks
    return bool(bulk) and all(a.state == "silenced" and acked_by(a, acks) for a in bulk)


async def run_ack(config: Config, rounds: int, expected: int, url: str) -> list[float]:
    """(f): `A` on the ConsumerLag group, enter, until all of it shows acked; then expired again."""
    times = []
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        while len(app.main.alert_list.alerts) < expected:
            await asyncio.sleep(0.01)
        rows = app.main.alert_list.rows
        await pilot.press("g", *["j"] * next(i for i, r in enumerate(rows) if r.group and r.alert.name == BULK))
        for _ in range(rounds):
            await pilot.press("A")
            start = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))
            while not all_acked(app):
                await asyncio.sleep(0.005)
            times.append(time.perf_counter() - start)
            with httpx.Client(base_url=url, timeout=30) as http:
                for silence in http.get("/api/v2/silences").json():
                    if silence["status"]["state"] == "active":
                        http.delete(f"/api/v2/silence/{silence['id']}").raise_for_status()
            app.main.action_refresh_now()
            while all_acked(app):
                await asyncio.sleep(0.01)
    return times


def run_amtool_ack(url: str, rounds: int) -> list[float]:
    """amtool doing (f): an ACK! silence on the group's label, then asking until all 500 are silenced."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        made = subprocess.run(
            [
                "amtool",
                f"--alertmanager.url={url}",
                "silence",
                "add",
                f"alertname={BULK}",
                "-c",
                "ACK! bench",
                "-d",
                "15m",
                "-a",
                "bench",
            ],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.strip()
        while True:
            out = subprocess.run(
                ["amtool", f"--alertmanager.url={url}", "alert", "query", f"alertname={BULK}", "-s", "-o", "json"],
                capture_output=True,
                check=True,
            ).stdout
            if out.count(b'"silencedBy":["') >= 500:
                break
        times.append(time.perf_counter() - start)
        subprocess.run(
            ["amtool", f"--alertmanager.url={url}", "silence", "expire", made], check=True, capture_output=True
        )
    return times


def percentile_ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    steady_malloc()
    with tempfile.TemporaryDirectory() as tmp:
        am = RealAlertmanager(Path(tmp)).start()
        try:
            post_all(am, args.alerts)  # (the bench's own copy is gone before anything is measured)
            resend = Resender(am, args.alerts)
            config = Config.model_validate(
                {
                    "user": {"name": "bench"},
                    "alertmanagers": [{"name": "bench", "url": am.url, "timeout": "30s"}],
                    "poll_interval": "1h",
                    "data_dir": str(Path(tmp) / "data"),
                }
            )
            amtool_once(am.url, args.alerts)  # warm up both sides the same way
            b, b_alone = asyncio.run(run_client(config, args.rounds, args.alerts, resend))
            times = asyncio.run(run_console(config, args.rounds, args.alerts, resend))
            a, raw, c, settled = times.peer, times.alone, times.refresh, times.settled
            idle, d, rested = times.idle, times.busy, times.rested
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before (f) starts a second console
            f_peer = run_amtool_ack(am.url, 3)
            f = asyncio.run(run_ack(config, 3, args.alerts, am.url))
        finally:
            am.stop()
    am_ms = median_ms(a)
    print(f"alerts: {args.alerts}, rounds: {args.rounds}")
    print(f"(a) amtool alert query -o json      {am_ms:8.1f} ms")
    raw_ms = median_ms(raw)
    print(
        f"    Alertmanager's response alone   {raw_ms:8.1f} ms   {raw_ms / am_ms:5.2f} x amtool (GET, body read, no parsing)"
    )
    print(
        f"(b) console client fetch + parse    {median_ms(b):8.1f} ms   {median_ms(b) / am_ms:5.2f} x amtool (target <= 0.5)"
    )
    print(
        f"    client's own share (b) - server {median_ms(b) - median_ms(b_alone):8.1f} ms (its rounds) vs amtool's"
        f" (a) - server {am_ms - raw_ms:.1f} ms: {(median_ms(b) - median_ms(b_alone)) / max(am_ms - raw_ms, 1e-9):.2f} x"
    )
    print(
        f"(c) console refresh until shown     {median_ms(c):8.1f} ms   {median_ms(c) / am_ms:5.2f} x amtool (target <= 0.8)"
    )
    print(
        f"    until idle (history written)    {median_ms(settled):8.1f} ms   {median_ms(settled) / am_ms:5.2f} x amtool"
    )
    rounds = " ".join(f"{ci / ai:.2f}" for ci, ai in zip(c, a, strict=True))
    print(f"    (c) / (a) round by round        {rounds}")
    print(
        f"(d) keypress during a refresh       {median_ms(d):8.1f} ms median, p95 {percentile_ms(d, 0.95):.1f} ms,"
        f" p99 {percentile_ms(d, 0.99):.1f} ms, max {max(d) * 1000:.1f} ms over {len(d)} keys (target p99 <= 50 ms)"
    )
    print(f"    keypress on an idle console     {median_ms(idle):8.1f} ms median, max {max(idle) * 1000:.1f} ms")
    print(
        f"    runbook shown once keys stop    {median_ms(rested):8.1f} ms median, max {max(rested) * 1000:.1f} ms"
        f" (of which {SETTLE * 1000:.0f} ms is the rest it waits for)"
    )
    print(f"(e) peak RSS of this process        {rss_mb:8.1f} MB (target <= 200 MB)")
    print(
        f"(f) A on a 500-alert group: acked   {median_ms(f):8.1f} ms   amtool silence add + query until silenced"
        f" {median_ms(f_peer):.1f} ms: {median_ms(f) / median_ms(f_peer):.2f} x"
    )


if __name__ == "__main__":
    main()
