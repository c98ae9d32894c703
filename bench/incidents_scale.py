"""The journal and incidents at scale, measured beside their floors in the same run.

Run from the repo root:  .venv/bin/python -m bench.incidents_scale [--dir PATH]

Prints:
  (a) journal append with fsync: median and p99 per event, beside a bare write+fsync of
      the same bytes on the same disk (the floor any durable journal pays)
  (b) export of a 10,000-event incident to Markdown: reading the journal, folding it,
      rendering (target <= 0.5 s)
  (c) console start with 50 open incidents of 1,000 events each: to first paint (target
      <= 1.5 s), and until every incident is loaded, beside the same start with none
  (d) acknowledging: from the confirming key to the pane showing "acknowledging…"
      (target <= 50 ms), and to "acknowledged" once the provider confirms
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from oncall_tui.core.config import Config
from oncall_tui.core.incidents.desk import IncidentDesk, LocalProvider
from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.core.incidents.timeline import Journal
from oncall_tui.sim.scenario import start_demo
from oncall_tui.ui.app import OncallApp, oncall_app


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_append(workdir: Path, count: int) -> tuple[list[float], list[float]]:
    journal = Journal.create(workdir / "INC-20261127-0001.jsonl")
    ours = []
    for i in range(count):
        start = time.perf_counter()
        journal.append("note", "bench", f"note {i}", {"text": f"note {i} about the incident"})
        ours.append(time.perf_counter() - start)
    line = journal.events[-1].to_line()
    fd = os.open(workdir / "floor.bin", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    floor = []
    for _ in range(count):
        start = time.perf_counter()
        os.write(fd, line)
        os.fsync(fd)
        floor.append(time.perf_counter() - start)
    os.close(fd)
    return ours, floor


def fill(data_dir: Path, incidents: int, events: int) -> list[str]:
    """Incidents written as the journal writes them, without an fsync per line (setup only)."""
    desk = IncidentDesk(data_dir, "bench").load()
    ids = []
    for n in range(incidents):
        incident = desk.declare(f"incident {n}")
        journal = desk.journals[incident.id]
        first = journal.events[0]
        with journal.path.open("ab") as f:
            for seq in range(2, events + 1):
                f.write(
                    first.__class__(
                        seq, f"{n}-{seq}", first.ts, incident.id, "note", "bench", f"Note: {seq}", {"text": str(seq)}
                    ).to_line()
                )
        ids.append(incident.id)
    return ids


def bench_export(data_dir: Path, incident_id: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        desk = IncidentDesk(data_dir, "bench").load()
        render_markdown(desk.get(incident_id))
        times.append(time.perf_counter() - start)
    return times


async def console_start(data_dir: Path, url: str, expected: int) -> tuple[float, float]:
    config = Config.model_validate(
        {"user": {"name": "bench"}, "alertmanagers": [{"name": "sim", "url": url}], "data_dir": str(data_dir)}
    )
    start = time.perf_counter()
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)):
        first_paint = time.perf_counter() - start  # run_test hands over once the screen is up
        while len(app.services.desk.open_incidents()) < expected:
            await asyncio.sleep(0.005)
        loaded = time.perf_counter() - start
    return first_paint, loaded


class HeldProvider:
    """A provider that confirms only when told, so the optimistic 'acknowledging…' is observable."""

    name = "held"

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()

    def confirm(self, incident, action, data):
        self.release.wait(10)
        return {}


async def time_ack(app: OncallApp, pilot: Pilot, between: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """Seconds from the confirming `y` (after `a`) to the pane showing 'acknowledging…', and
    to 'acknowledged'; `between` runs once the first is seen (to release a held provider)."""
    app.main.incident_pane.show()
    await pilot.press("a")
    start = time.perf_counter()
    app.post_message(events.Key("y", "y"))
    while "acknowledging…" not in str(app.main.incident_pane.render()):
        await asyncio.sleep(0)
    optimistic = time.perf_counter() - start
    between()
    while "acknowledged ·" not in str(app.main.incident_pane.render()):
        await asyncio.sleep(0)
    return optimistic, time.perf_counter() - start


async def ack_latency(data_dir: Path, url: str, rounds: int) -> tuple[list[float], list[float]]:
    """From the confirming key (`y` after `a`) to the pane showing 'acknowledging…', and to 'acknowledged'."""
    config = Config.model_validate(
        {"user": {"name": "bench"}, "alertmanagers": [{"name": "sim", "url": url}], "data_dir": str(data_dir)}
    )
    optimistic, confirmed = [], []
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(rounds):
            incident = app.services.desk.declare("bench")
            app.active_id = incident.id
            held = HeldProvider()
            app.services.desk.provider = held
            times = await time_ack(app, pilot, held.release.set)
            optimistic.append(times[0])
            confirmed.append(times[1])
            app.services.desk.provider = LocalProvider()
            app.services.desk.resolve(incident.id, "bench")
    return optimistic, confirmed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary dir on the same disk as /tmp)")
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        (root / "append").mkdir()
        ours, floor = bench_append(root / "append", args.appends)
        big = root / "big"
        [big_id] = fill(big, 1, 10_000)
        export = bench_export(big, big_id, 5)
        many = root / "many"
        fill(many, 50, 1000)
        server = start_demo()
        try:
            empty = [asyncio.run(console_start(root / "empty", server.url, 0)) for _ in range(3)]
            full = [asyncio.run(console_start(many, server.url, 50)) for _ in range(3)]
            optimistic, confirmed = asyncio.run(ack_latency(root / "ack", server.url, 10))
        finally:
            server.stop()
    ms = 1000
    print(f"disk: {args.dir or tempfile.gettempdir()}")
    print(
        f"(a) journal append + fsync    median {statistics.median(ours) * ms:6.2f} ms, p99 {percentile(ours, 0.99) * ms:6.2f} ms"
        f"   bare write+fsync median {statistics.median(floor) * ms:6.2f} ms, p99 {percentile(floor, 0.99) * ms:6.2f} ms"
        f"   ratio {statistics.median(ours) / statistics.median(floor):.2f} x"
    )
    print(f"(b) export of 10,000 events   median {statistics.median(export) * ms:6.0f} ms (target <= 500 ms)")
    first = statistics.median(f for f, _ in full)
    loaded = statistics.median(loaded for _, loaded in full)
    first_empty = statistics.median(f for f, _ in empty)
    print(
        f"(c) start, 50 x 1,000 events  first paint {first * ms:6.0f} ms (target <= 1500 ms), all loaded {loaded * ms:6.0f} ms"
        f"   with no incidents: first paint {first_empty * ms:6.0f} ms ({first / first_empty:.2f} x)"
    )
    print(
        f"(d) ack: y to 'acknowledging…'  median {statistics.median(optimistic) * ms:6.1f} ms (target <= 50 ms);"
        f" to 'acknowledged' (local provider, released at once) {statistics.median(confirmed) * ms:6.1f} ms"
    )


if __name__ == "__main__":
    main()
