"""(g) One alert's history over 7 days of 10,000 alerts: the local record and Prometheus.

Run from the repo root:  .venv/bin/python -m bench.history_scale [--alerts 10000] [--rounds 20]

The same week is written twice: into a local history (`history.sqlite3`, the console's own
schema) and, as `ALERTS` samples every minute while each alert fires, into a real Prometheus
(backfilled with `promtool tsdb create-blocks-from openmetrics`). Each of 10,000 alerts fired
3 times, for 5 to 30 minutes. Prints, as medians over the rounds:
  - the detail pane's question (one alert, by its labels and fingerprint) and `history NAME`'s
    (every alert of one alertname), asked of each source through the console's own classes;
  - the peer: `promtool query range` of the same query against the same Prometheus.
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.alerts_scale import realistic_alerts
from oncall_tui.core.alerts.history import fnv_fingerprint
from oncall_tui.core.alerts.history_store import LocalHistory, connect
from oncall_tui.core.alerts.prometheus import PrometheusHistory, over_steps, step_for
from oncall_tui.core.config import PrometheusSource
from tests.prometheus_process import RealPrometheus

WEEK = timedelta(days=7)


def episodes_of(count: int, end: datetime, seed: int = 11) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
    rng = random.Random(seed)
    start = (end - WEEK).timestamp()
    out = []
    for item in realistic_alerts(count):
        spans = sorted(
            (begin, begin + rng.randrange(5, 31) * 60)
            for begin in (start + rng.randrange(0, int(WEEK.total_seconds()) - 3600) for _ in range(3))
        )
        out.append((item["labels"], spans))
    return out


def write_local(path: Path, week: list, end: datetime) -> None:
    db = connect(path, create=True)
    with db:
        db.execute("BEGIN")
        for labels, spans in week:
            fp = fnv_fingerprint(labels)
            db.execute(
                "INSERT INTO alerts VALUES (?, ?, ?, '')", (fp, labels["alertname"], json.dumps(labels, sort_keys=True))
            )
            db.executemany(
                "INSERT OR IGNORE INTO episodes (fingerprint, started, last_seen, ended, learned, sources) VALUES (?, ?, ?, ?, ?, '[\"bench\"]')",
                [(fp, a, b, b, b + 2) for a, b in spans],
            )
        db.execute(
            "INSERT INTO watches (source, started, last) VALUES ('bench', ?, ?)",
            ((end - WEEK).timestamp(), end.timestamp()),
        )
        db.execute("COMMIT")
    db.close()


def write_openmetrics(path: Path, week: list) -> None:
    with path.open("w") as out:
        out.write("# TYPE ALERTS gauge\n")
        for labels, spans in week:
            series = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted({**labels, "alertstate": "firing"}.items()))
            for a, b in spans:
                moment = a
                while moment <= b:
                    out.write(f"ALERTS{{{series}}} 1 {moment:.0f}\n")
                    moment += 60
        out.write("# EOF\n")


def timed(rounds: int, ask) -> tuple[float, object]:
    times, answer = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        answer = ask()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    end = datetime.now(UTC).replace(microsecond=0)
    week = episodes_of(args.alerts, end)
    labels, _ = week[len(week) // 2]
    fingerprint, name = fnv_fingerprint(labels), labels["alertname"]
    same_name = sum(1 for other, _ in week if other["alertname"] == name)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"alerts: {args.alerts}, 3 episodes each over 7 days; one alert: {name} (of {same_name} with that name)")
        started = time.perf_counter()
        write_local(tmp_path / "history.sqlite3", week, end)
        size = (tmp_path / "history.sqlite3").stat().st_size / 2**20
        print(f"    local history written in {time.perf_counter() - started:.1f} s, {size:.1f} MB")
        local = LocalHistory(tmp_path / "history.sqlite3", 30, clock=lambda: end)
        one_ms, one = timed(args.rounds, lambda: local.episodes(end - WEEK, end, name, labels, fingerprint))
        all_ms, every = timed(args.rounds, lambda: local.episodes(end - WEEK, end, name))
        print(f"(g) local, one alert (the detail)   {one_ms:8.1f} ms   {len(one.episodes)} episodes")
        print(f"    local, history {name:<16} {all_ms:8.1f} ms   {len(every.episodes)} episodes")

        (tmp_path / "prometheus").mkdir()
        started = time.perf_counter()
        write_openmetrics(tmp_path / "alerts.om", week)
        subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                str(tmp_path / "alerts.om"),
                str(tmp_path / "prometheus" / "tsdb"),
            ],
            check=True,
        )
        (tmp_path / "alerts.om").unlink()
        prometheus = RealPrometheus(tmp_path / "prometheus", rules="groups: []\n").start()
        print(f"    Prometheus backfilled and started in {time.perf_counter() - started:.1f} s")
        try:
            source = PrometheusHistory(PrometheusSource(url=prometheus.url, timeout="60s"), clock=lambda: end)
            source.episodes(end - WEEK, end, name, labels, fingerprint)  # warm both the same way
            p_one_ms, p_one = timed(args.rounds, lambda: source.episodes(end - WEEK, end, name, labels, fingerprint))
            p_all_ms, p_every = timed(max(3, args.rounds // 4), lambda: source.episodes(end - WEEK, end, name))
            step = step_for(end - WEEK, end)

            def promtool(query: str) -> None:
                subprocess.run(
                    [
                        "promtool",
                        "query",
                        "range",
                        f"--start={(end - WEEK).timestamp():.0f}",
                        f"--end={end.timestamp():.0f}",
                        f"--step={step}s",
                        "-o",
                        "json",
                        prometheus.url,
                        query,
                    ],
                    check=True,
                    capture_output=True,
                )

            peer_one_ms, _ = timed(args.rounds, lambda: promtool(over_steps(name, labels, step)))
            peer_all_ms, _ = timed(max(3, args.rounds // 4), lambda: promtool(over_steps(name, None, step)))
            source.close()
        finally:
            prometheus.stop()
    print(
        f"(g) prometheus, one alert           {p_one_ms:8.1f} ms   {len(p_one.episodes)} episodes;"
        f" promtool query range {peer_one_ms:.1f} ms: {p_one_ms / peer_one_ms:.2f} x"
    )
    print(
        f"    prometheus, history {name:<11} {p_all_ms:8.1f} ms   {len(p_every.episodes)} episodes;"
        f" promtool query range {peer_all_ms:.1f} ms: {p_all_ms / peer_all_ms:.2f} x"
    )
    print(f"    (samples every 60 s, asked at a {step} s step; backfilled samples have no staleness markers)")


if __name__ == "__main__":
    main()
