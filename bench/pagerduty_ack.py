"""Acknowledging through PagerDuty: the console's latency against the local HTTPS test server.

  (a) from the confirming key to the incident pane showing "acknowledging…" (optimistic,
      target <= 50 ms), and
  (b) to "acknowledged", recorded only after the test server confirmed the PUT;
  peer: the same acknowledgement as a bare `pagerduty.RestApiV2Client.rput` (what a script
      or the PagerDuty CLI does, without its process start-up), on the same server.

Run: .venv/bin/python -m bench.pagerduty_ack [--rounds 20]. Figures only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import pagerduty

from bench.incidents_scale import time_ack
from oncall_tui.core.config import Config
from oncall_tui.sim.pagerduty import PagerDutyServer, guide_account
from oncall_tui.sim.scenario import start_demo
from oncall_tui.ui.app import oncall_app

TOKEN = "bench-token"


async def console_acks(
    root: Path, am_url: str, server: PagerDutyServer, rounds: int
) -> tuple[list[float], list[float]]:
    config = Config.model_validate(
        {
            "user": {"name": "alice", "email": "alice@example.com"},
            "alertmanagers": [{"name": "sim", "url": am_url}],
            "data_dir": str(root / "data"),
            "incidents": {"provider": "pagerduty"},
            "pagerduty": {
                "token": TOKEN,
                "base_url": server.url,
                "ca_bundle": str(server.ca_path),
                "service_ids": ["PSVC1"],
                "poll_interval": "1h",
            },
        }
    )
    optimistic, confirmed = [], []
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(rounds):
            incident = await asyncio.to_thread(app.services.desk.declare, "bench", (), "SEV-2")
            app.active_id = incident.id
            times = await time_ack(app, pilot)
            optimistic.append(times[0])
            confirmed.append(times[1])
            assert server.account.incidents[incident.pagerduty["id"]]["status"] == "acknowledged"
            await asyncio.to_thread(app.services.desk.resolve, incident.id, "bench")
    return optimistic, confirmed


def peer_acks(server: PagerDutyServer, rounds: int) -> list[float]:
    import ssl

    client = pagerduty.RestApiV2Client(
        TOKEN,
        base_url=server.url,
        default_from="alice@example.com",
        verify=ssl.create_default_context(cafile=str(server.ca_path)),
    )
    times = []
    for _ in range(rounds):
        incident = server.account.open_incident("peer", "PSVC1")
        start = time.perf_counter()
        client.rput(
            f"/incidents/{incident['id']}", json={"incident": {"type": "incident_reference", "status": "acknowledged"}}
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        alertmanager = start_demo()
        try:
            with PagerDutyServer(guide_account(TOKEN), root) as server:
                optimistic, confirmed = asyncio.run(console_acks(root, alertmanager.url, server, args.rounds))
                peer = peer_acks(server, args.rounds)
        finally:
            alertmanager.stop()
    ms = 1000
    o, c, p = (statistics.median(x) * ms for x in (optimistic, confirmed, peer))
    print(
        f"(a) y to 'acknowledging…'              median {o:6.1f} ms, max {max(optimistic) * ms:6.1f} ms (target <= 50 ms)"
    )
    print(f"(b) y to 'acknowledged' (PD confirmed)  median {c:6.1f} ms, max {max(confirmed) * ms:6.1f} ms")
    print(f"peer: bare RestApiV2Client.rput ack     median {p:6.1f} ms   ratio (b)/peer {c / p:.2f} x")


if __name__ == "__main__":
    main()
