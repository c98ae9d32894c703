"""Runbooks under load, measured beside their peers in the same run.

Run from the repo root:  .venv/bin/python -m bench.runbook_steps [--megabytes 100] [--rounds 3]

Prints:
  (a) keypress latency while a step prints 100 MB as fast as it can: from posting `j`/`k`
      to the alert cursor having moved (target <= 50 ms median), beside the same keys with
      no step running (the floor)
      and how long the step itself takes meanwhile, beside bash running it into a file
  (b) the console's memory growth during that step: peak RSS minus RSS before it (target
      <= 50 MB; the output pane keeps a bounded tail, the full output goes to a file)
  (c) opening a 1 MB runbook: from the key that selects its alert to the first lines of it
      rendered in the pane (target <= 300 ms), and to the whole shown part rendered; beside
      Textual's own Markdown widget loading just 8 KB of the same runbook (the peer)
  (d) reading a 5 MB runbook: parsing it and listing its steps
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Markdown

from oncall_tui.core.config import Config
from oncall_tui.core.runbooks.library import read_runbook
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager
from oncall_tui.ui.app import OncallApp, oncall_app

SECTION = """## Part {n}: check the {n}th thing

Some prose about part {n}, with a [link](https://example.com/{n}), **bold** words and a list:

- look at the dashboard
- compare with yesterday

```bash {{name=part-{n} timeout=30}}
kubectl -n {{{{ labels.namespace }}}} get pods -l app={{{{ labels.service }}}}
```

| signal | bad sign |
|---|---|
| errors | above 5% |

"""


def runbook_text(size: int) -> str:
    text, n = "---\nalerts: [BigRunbook]\n---\n# A very long runbook\n\n", 0
    while len(text) < size:
        text += SECTION.format(n=n)
        n += 1
    return text


def bench_config(url: str, data_dir: Path, runbooks: Path) -> Config:
    return Config.model_validate(
        {
            "user": {"name": "bench"},
            "alertmanagers": [{"name": "sim", "url": url}],
            "data_dir": str(data_dir),
            "poll_interval": "1h",
            "runbooks": {"dir": str(runbooks)},
        }
    )


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {percentile(values, 0.95) * 1000:.1f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def key_latency(app: OncallApp, keys: int, while_running: bool = False) -> list[float]:
    """Seconds from posting j/k to the cursor having moved; stops early when the step ends."""
    times = []
    for _ in range(keys):
        if while_running and not (app.main.runbook_pane.last_run and app.main.runbook_pane.last_run.running):
            break
        before = app.main.alert_list.cursor
        key = "j" if before == 0 else "k"
        start = time.perf_counter()
        app.post_message(events.Key(key, key))
        while app.main.alert_list.cursor == before:
            await asyncio.sleep(0)
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.001)
    return times


def loud(megabytes: int) -> str:
    return f"yes 'a line of step output, as fast as it can' | head -c {megabytes * 1_000_000}"


def plain_bash(megabytes: int, workdir: Path) -> float:
    """The peer for the step's own speed: the same command run by bash straight into a file."""
    start = time.perf_counter()
    with open(workdir / "plain.out", "wb") as out:
        subprocess.run(["bash", "-c", loud(megabytes)], stdout=out, check=True)
    return time.perf_counter() - start


async def under_load(
    workdir: Path, url: str, megabytes: int, rounds: int
) -> tuple[list[float], list[float], list[int], list[float]]:
    runbooks = workdir / "runbooks"
    runbooks.mkdir(exist_ok=True)
    (runbooks / "loud.md").write_text(f"---\nalerts: [Loud, Quiet]\n---\n# Loud\n\n```bash\n{loud(megabytes)}\n```\n")
    config = bench_config(url, workdir / "data", runbooks)
    app = oncall_app(config)
    idle, loaded, growth, durations = [], [], [], []
    async with app.run_test(size=(160, 45)) as pilot:
        while len(app.main.alert_list.alerts) < 2 or app.main.runbook_pane.runbook is None:
            await asyncio.sleep(0.01)
        idle = await key_latency(app, 200)
        for _ in range(rounds):
            app.main.runbook_pane.select(1)
            base, peak, done = rss(), [0], threading.Event()

            def sample(base: int = base, peak: list[int] = peak, done: threading.Event = done) -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], rss() - base)
                    done.wait(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            while (
                app.main.runbook_pane.alert is None
                or app.main.runbook_pane.alert.fingerprint != app.main.alert_list.current.fingerprint
            ):
                await asyncio.sleep(0.01)  # r runs nothing until the alert the keys left selected has its runbook
            await pilot.press("r")
            app.post_message(events.Key("enter", "\r"))
            while app.main.runbook_pane.last_run is None or app.main.runbook_pane.last_run in seen_runs:
                await asyncio.sleep(0)
            seen_runs.append(app.main.runbook_pane.last_run)
            loaded += await key_latency(app, 100_000, while_running=True)
            while app.main.runbook_pane.last_run.running:
                await asyncio.sleep(0.01)
            done.set()
            sampler.join()
            growth.append(peak[0])
            outcome = app.main.runbook_pane.last_run.outcome
            durations.append(outcome.duration)
            print(f"    a run: {outcome.size / 1e6:.0f} MB in {outcome.duration:.2f} s", flush=True)
    return idle, loaded, growth, durations


seen_runs: list = []


async def open_big(workdir: Path, url: str, size: int) -> tuple[float, float]:
    runbooks = workdir / "big"
    runbooks.mkdir(exist_ok=True)
    (runbooks / "big.md").write_text(runbook_text(size))
    config = bench_config(url, workdir / "data2", runbooks)
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)):
        while len(app.main.alert_list.alerts) < 2 or app.main.runbook_pane.alert is None:
            await asyncio.sleep(0.01)
        document = app.main.runbook_pane.document
        target = next(i for i, a in enumerate(app.main.alert_list.alerts) if a.name == "BigRunbook")
        app.main.alert_list.cursor = target - 1  # one key away from it
        await asyncio.sleep(0.2)
        key = "j"
        start = time.perf_counter()
        app.post_message(events.Key(key, key))
        while document.runbook is None or not document.rendered.lines:
            await asyncio.sleep(0)
        first = time.perf_counter() - start
        while not document.complete:
            await asyncio.sleep(0.001)
        return first, time.perf_counter() - start


async def textual_markdown(text: str) -> float:
    class Peer(App[None]):
        def compose(self) -> ComposeResult:
            yield Markdown()

    app = Peer()
    async with app.run_test(size=(160, 45)) as pilot:
        start = time.perf_counter()
        await app.query_one(Markdown).update(text)
        await pilot.pause()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store = SimAlertmanager()
    store.post_alerts(
        [
            {"labels": {"alertname": "Loud", "severity": "critical"}, "annotations": {}},
            {"labels": {"alertname": "Quiet", "severity": "warning"}, "annotations": {}},
            {"labels": {"alertname": "BigRunbook", "severity": "info"}, "annotations": {}},
        ]
    )
    with SimServer(store) as sim, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        idle, loaded, growth, durations = asyncio.run(under_load(workdir, sim.url, args.megabytes, args.rounds))
        print(
            f"(a) keypress latency while a step prints {args.megabytes} MB ({args.rounds} runs, {len(loaded)} keys): {ms(loaded)}"
        )
        print(f"    peer: the same keys with no step running ({len(idle)} keys): {ms(idle)}")
        print(
            f"    ratio (median, loaded / idle): {statistics.median(loaded) / statistics.median(idle):.2f}x   target <= 50 ms"
        )
        plain = statistics.median(plain_bash(args.megabytes, workdir) for _ in range(3))
        print(
            f"    the step itself, while the keys flood in: median {statistics.median(durations):.2f} s for {args.megabytes} MB; "
            f"peer: bash running it into a file {plain:.2f} s; ratio {statistics.median(durations) / plain:.1f}x"
        )
        print(
            f"(b) memory growth during the step: max {max(growth) / 1e6:.1f} MB over {args.rounds} runs (each: {', '.join(f'{g / 1e6:.1f}' for g in growth)} MB)   target <= 50 MB"
        )
        firsts, wholes = [], []
        for _ in range(3):
            first, whole = asyncio.run(open_big(workdir, sim.url, 1_000_000))
            firsts.append(first)
            wholes.append(whole)
        print(
            f"(c) 1 MB runbook: first render {statistics.median(firsts) * 1000:.0f} ms (median of 3), the shown part (256 KiB) {statistics.median(wholes) * 1000:.0f} ms   target <= 300 ms"
        )
        peer = asyncio.run(textual_markdown(runbook_text(8_000)))
        print(
            f"    peer: Textual's Markdown widget loading 8 KB of it: {peer * 1000:.0f} ms; ratio peer(8 KB) / ours(1 MB first render): {peer / statistics.median(firsts):.1f}x"
        )
        big = workdir / "huge.md"
        big.write_text(runbook_text(5_000_000))
        times = []
        for _ in range(3):
            gc.collect()  # what is left of the consoles above must not be collected mid-parse
            start = time.perf_counter()
            runbook = read_runbook(big)
            times.append(time.perf_counter() - start)
        print(
            f"(d) 5 MB runbook read and parsed: median {statistics.median(times) * 1000:.0f} ms of 3, {len(runbook.steps)} steps"
        )


if __name__ == "__main__":
    main()
