"""Paging through the real Alertmanager: the console's latency from the confirming key to
"page accepted" (Alertmanager answered the POST and the escalation is fsynced in the journal),
beside the peer: a bare `POST /api/v2/alerts` of the same body from this process (what a
script with curl does, without its process start-up), on the same Alertmanager.

Run: .venv/bin/python -m bench.paging [--rounds 20]. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from textual import events

from oncall_tui.core.config import AlertmanagerSource, Config
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.timeline import format_ts
from oncall_tui.core.paging.pagers import AlertmanagerPager
from oncall_tui.core.timefmt import utc_now
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.screens.confirm import ConfirmScreen
from tests.alertmanager_process import RealAlertmanager


async def console_pages(root: Path, url: str, rounds: int) -> tuple[list[float], dict]:
    config = Config.model_validate(
        {
            "user": {"name": "alice"},
            "alertmanagers": [{"name": "prod", "url": url}],
            "poll_interval": "1h",  # polling is not what is measured
            "data_dir": str(root / "data"),
            "oncall": {"escalation": [{"level": 1, "users": ["alice"]}, {"level": 2, "users": ["dana"]}]},
            "paging": {"alertmanager": "prod"},
        }
    )
    took, body = [], {}
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(rounds):
            incident = await asyncio.to_thread(app.services.desk.declare, "bench: ml-api returns 5xx", (), "SEV-2")
            app.active_id = incident.id
            app.main.incident_pane.show()
            await pilot.press("e")
            assert isinstance(app.screen, ConfirmScreen)
            start = time.perf_counter()
            app.post_message(events.Key("y", "y"))
            while incident.escalation_level != 2:  # set once Alertmanager accepted and the journal has it
                await asyncio.sleep(0.001)  # not 0: a spinning loop would starve the worker thread of the GIL
            took.append(time.perf_counter() - start)
            assert incident.events[-1].data["paged"], "the page was not accepted"
            body = incident.events[-1].data["paged"][0]["body"]
            await asyncio.to_thread(app.services.desk.resolve, incident.id, "bench")  # ends the page, off the clock
            await pilot.pause()
    return took, body


def desk_escalations(root: Path, url: str, rounds: int) -> list[float]:
    """The same escalation without the UI: the page sent, then fsynced in the journal."""
    pager = AlertmanagerPager([AlertmanagerSource(name="prod", url=url)], "prod", 60)
    desk = IncidentDesk(root / "desk", "alice", pager=pager).load()
    took = []
    for _ in range(rounds):
        incident = desk.declare("bench: ml-api returns 5xx", severity="SEV-2")
        start = time.perf_counter()
        desk.escalate(incident.id, ["dana"], last_level=2, to_level=2)
        took.append(time.perf_counter() - start)
        desk.resolve(incident.id, "bench")
    return took


def bare_posts(url: str, body: dict, rounds: int) -> list[float]:
    took = []
    for i in range(rounds):
        now = utc_now()
        alert = {**body, "labels": {**body["labels"], "incident": f"BARE-{i}"}}
        alert |= {"startsAt": format_ts(now), "endsAt": format_ts(now + timedelta(minutes=5))}
        start = time.perf_counter()
        httpx.post(
            f"{url}/api/v2/alerts", json=[alert], timeout=10
        ).raise_for_status()  # a new connection, as the console's
        took.append(time.perf_counter() - start)
    return took


def show(name: str, values: list[float]) -> float:
    median = statistics.median(values)
    print(f"  {name:<46} median {median * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "am").mkdir()
        am = RealAlertmanager(root / "am").start()
        try:
            took, body = asyncio.run(console_pages(root, am.url, rounds))
            direct = desk_escalations(root, am.url, rounds)
            bare = bare_posts(am.url, body, rounds)
        finally:
            am.stop()
    print(f"Paging through the real Alertmanager 0.25, {rounds} rounds:")
    console = show("console: key y → page accepted and recorded", took)
    core = show("  of which the desk: page sent, then fsynced", direct)
    peer = show("peer: bare POST /api/v2/alerts, same body", bare)
    print(f"  ratio console / bare POST: {console / peer:.2f}×; desk / bare POST: {core / peer:.2f}×")
    print("  (the desk adds the journal's fsync; the console adds closing the question and a worker thread)")


if __name__ == "__main__":
    main()
