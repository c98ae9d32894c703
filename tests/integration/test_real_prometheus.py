"""Alert history from the real Prometheus (Debian's), its rules evaluated every second: the
episodes `ALERTS` holds, the fingerprint Alertmanager gives the same alert, `history` and
`report` on the command line, and the faults: down, slow, an error, an answer too big."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from oncall_tui.core.alerts.history import Fallback, HistoryError, NotInHistoryError, fnv_fingerprint, summarize
from oncall_tui.core.alerts.history_store import LocalHistory, history_path
from oncall_tui.core.alerts.prometheus import PrometheusHistory
from oncall_tui.core.config import PrometheusSource
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager
from tests.alertmanager_process import RealAlertmanager
from tests.conftest import SteppedClock, until
from tests.history_world import a_week_of_history
from tests.misbehaving import Misbehaving
from tests.prometheus_process import RealPrometheus

HOUR = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


def history(url: str, timeout: str = "5s") -> PrometheusHistory:
    return PrometheusHistory(PrometheusSource(url=url, timeout=timeout))


async def test_an_alert_that_fires_at_once_is_one_episode_firing_now(prometheus: RealPrometheus) -> None:
    source = history(prometheus.url)
    found = None

    def fired() -> bool:
        nonlocal found
        found = source.episodes(now() - HOUR, now(), "AlwaysFiring")
        return bool(found.episodes)

    await until(fired, what="AlwaysFiring in ALERTS")
    [episode] = found.episodes
    assert episode.end is None and episode.labels == {
        "alertname": "AlwaysFiring",
        "severity": "critical",
        "service": "ml-api",
    }
    assert found.caveat == "in steps of 1s: episodes less than that apart are one"
    [(watched, _)] = found.window.watched
    assert now() - timedelta(minutes=2) < watched <= episode.start  # from its oldest sample: it started just now
    quoted = source.episodes(now() - HOUR, now(), "AlwaysFiring", {"service": 'ml-api"} or vector(1) #'})
    assert quoted.episodes == []  # a label value is a string in the query, never PromQL
    assert source.episodes(now() - HOUR, now(), "AlwaysFiring", {"service": "🚀 ü"}).episodes == []  # no 400
    with pytest.raises(NotInHistoryError, match="no ALERTS series has this alert's labels"):
        source.episodes(now() - HOUR, now(), "AlwaysFiring", {**episode.labels, "service": "other"}, "fp")
    assert source.firing() in (1, 2)  # AlwaysFiring, and Flapping half of the time
    source.close()


async def test_a_flapping_rule_is_many_episodes_and_called_flapping(prometheus: RealPrometheus) -> None:
    source = history(prometheus.url)

    def episodes() -> list:
        return source.episodes(now() - HOUR, now(), "Flapping").episodes

    await until(lambda: len([e for e in episodes() if e.end]) >= 3, timeout=60, what="three ended episodes")
    found = episodes()
    summary = summarize(found, now())
    assert summary.flapping and summary.flaps >= 2
    assert len([e for e in found if e.end and e.seconds(now()) < 6]) >= 3  # fires 3 s of every 6 s
    source.close()


async def test_rules_evaluated_less_often_than_every_step_still_make_one_episode(tmp_path: Path) -> None:
    """Rules every minute (Prometheus's default) and a day in steps of 9 s: most steps hold no
    evaluation. Here, every 4 s in steps of 1 s: AlwaysFiring is one episode, not one per
    evaluation, and Flapping (3 s of every 6, seen at evaluations 4 s apart) is still several."""
    (tmp_path / "slow").mkdir()
    slow = RealPrometheus(tmp_path / "slow", every="4s").start()
    source = history(slow.url)
    try:
        window = timedelta(seconds=60)  # 1 s steps

        def evaluations() -> int:
            answer = source._get("/api/v1/query", {"query": 'count_over_time(ALERTS{alertname="AlwaysFiring"}[1m])'})
            return int(float(answer["data"]["result"][0]["value"][1])) if answer["data"]["result"] else 0

        await until(lambda: evaluations() >= 4, timeout=60, what="four evaluations of AlwaysFiring")
        found = source.episodes(now() - window, now(), "AlwaysFiring")
        assert found.caveat.startswith("in steps of 1s")
        [episode] = found.episodes  # one, firing now
        assert episode.end is None and (now() - episode.start).total_seconds() >= 12

        def flapping() -> list:  # fires at one or two of every three evaluations: its staleness marker ends each
            return source.episodes(now() - window, now(), "Flapping").episodes

        await until(lambda: len(flapping()) >= 2 and flapping()[0].end, timeout=60, what="two Flapping episodes")
    finally:
        source.close()
        slow.stop()


async def test_the_fingerprint_is_the_one_alertmanager_gives_the_alert(
    tmp_path: Path, alertmanager: RealAlertmanager
) -> None:
    (tmp_path / "sending").mkdir()
    sending = RealPrometheus(tmp_path / "sending", alertmanager=alertmanager.url).start()
    try:
        await until(lambda: any(a["labels"]["alertname"] == "AlwaysFiring" for a in alertmanager.alerts()), timeout=60)
        [received] = [a for a in alertmanager.alerts() if a["labels"]["alertname"] == "AlwaysFiring"]
        source = history(sending.url)
        [episode] = source.episodes(now() - HOUR, now(), "AlwaysFiring").episodes
        assert episode.fingerprint == received["fingerprint"] == fnv_fingerprint(received["labels"])
        source.close()
    finally:
        sending.stop()


async def test_external_labels_are_part_of_the_fingerprint(tmp_path: Path, alertmanager: RealAlertmanager) -> None:
    """Prometheus adds its external labels to what it sends, not to ALERTS: the console adds them back."""
    (tmp_path / "labelled").mkdir()
    labelled = RealPrometheus(
        tmp_path / "labelled", alertmanager=alertmanager.url, external={"cluster": "eu-1"}
    ).start()
    try:
        await until(lambda: any(a["labels"]["alertname"] == "AlwaysFiring" for a in alertmanager.alerts()), timeout=60)
        [received] = [a for a in alertmanager.alerts() if a["labels"]["alertname"] == "AlwaysFiring"]
        assert received["labels"]["cluster"] == "eu-1"
        source = history(labelled.url)
        assert source.external_labels() == {"cluster": "eu-1"}
        [episode] = source.episodes(
            now() - HOUR, now(), "AlwaysFiring", received["labels"], received["fingerprint"]
        ).episodes
        assert episode.fingerprint == received["fingerprint"] and "cluster" not in episode.labels
        source.close()
    finally:
        labelled.stop()


def _config(tmp_path: Path, prometheus_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "user": {"name": "alice"},
                "alertmanagers": [{"name": "prod", "url": "http://127.0.0.1:9"}],
                "prometheus": {"url": prometheus_url, "timeout": "2s"},
                "data_dir": str(tmp_path / "data"),
                "runbooks": {"dir": str(Path(__file__).parents[2] / "runbooks")},
            }
        )
    )
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args], capture_output=True, text=True, env=env, timeout=60
    )


async def test_history_and_report_on_the_command_line(prometheus: RealPrometheus, tmp_path: Path) -> None:
    source = history(prometheus.url)
    await until(lambda: bool(source.episodes(now() - HOUR, now(), "AlwaysFiring").episodes), what="AlwaysFiring")
    source.close()
    config = str(_config(tmp_path, prometheus.url))
    shown = _cli("history", "AlwaysFiring", "--since", "1h", "--labels", "service=ml-api", "--config", config)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("AlwaysFiring: 1 episode(s) since ") and "(prometheus, in steps of 1s" in lines[0]
    assert "firing now" in lines[2] and "service=ml-api, severity=critical" in lines[2]
    none = _cli("history", "AlwaysFiring", "--since", "1h", "--labels", "service=other", "--config", config)
    assert none.stdout.startswith("AlwaysFiring: 0 episode(s)")
    report = _cli("report", "--since", "1h", "--format", "json", "--config", config)
    assert report.returncode == 0, report.stderr
    fatigue = json.loads(report.stdout)["fatigue"]
    by_name = {a["alertname"]: a for a in fatigue["alerts"]}
    assert fatigue["source"] == "prometheus" and by_name["AlwaysFiring"]["fires"] == 1
    assert by_name["AlwaysFiring"]["acted_on"] == 0 and by_name["AlwaysFiring"]["runbook"] is False
    text = _cli("report", "--since", "1h", "--config", config).stdout
    assert "alert fatigue, " in text and "AlwaysFiring" in text and "noise = fires" in text
    bad = _cli("history", "AlwaysFiring", "--labels", "nolabel", "--config", config)
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "oncall-tui: --labels: 'nolabel' is not k=v (e.g. --labels service=ml-api)"
    )


async def test_alerts_prometheus_has_no_alerts_of_come_from_the_local_history(
    prometheus: RealPrometheus, tmp_path: Path
) -> None:
    """Asked of alerts by name or of every alert (`history NAME`, the report), the answer is
    Prometheus's, and the local history's for alerts Prometheus has no ALERTS of (sent to
    Alertmanager by something else), said so: none is left out."""
    clock, data = SteppedClock(now()), tmp_path / "data"
    with SimServer(SimAlertmanager(clock=clock)) as sim:
        await a_week_of_history(sim, clock, data)
    source = history(prometheus.url)
    await until(lambda: bool(source.episodes(now() - HOUR, now(), "AlwaysFiring").episodes), what="AlwaysFiring")
    week = clock.now - timedelta(days=7)
    assert source.episodes(week, clock.now, "DiskWillFill").episodes == []  # Prometheus has none of it
    both = Fallback(source, LocalHistory(history_path(data), 7200, clock))
    disk = both.episodes(week, clock.now, "DiskWillFill")
    assert (
        disk.source == "prometheus" and len(disk.episodes) > 5 and {e.name for e in disk.episodes} == {"DiskWillFill"}
    )
    assert "; 1 alert(s) not in Prometheus's answer: from the local history (the console watched" in disk.caveat
    every = both.episodes(week, now())
    assert {e.name for e in every.episodes} >= {"AlwaysFiring", "DiskWillFill"}
    source.close()


async def test_a_prometheus_that_is_down_is_one_line_and_the_local_history_serves(
    prometheus: RealPrometheus, tmp_path: Path
) -> None:
    prometheus.stop()
    source = history(prometheus.url)
    with pytest.raises(HistoryError, match=r"^prometheus: unreachable \("):
        source.episodes(now() - HOUR, now(), "AlwaysFiring")
    local = tmp_path / "history.sqlite3"
    from oncall_tui.core.alerts.history_store import connect

    connect(local, create=True).close()
    found = Fallback(source, LocalHistory(local, 30)).episodes(now() - HOUR, now(), "AlwaysFiring")
    assert found.source == "local history" and found.trouble.startswith("prometheus: unreachable (")
    assert found.trouble.endswith(": from the local history instead")
    source.close()


async def test_a_slow_prometheus_times_out_in_one_line() -> None:
    server = Misbehaving()
    server.mode = "hang"
    try:
        with pytest.raises(HistoryError, match=r"^prometheus: timed out after 1s$"):
            history(server.url, "1s").episodes(now() - HOUR, now(), "X")
        assert server.asked == ["/api/v1/status/config"]  # one wait, not one a request
    finally:
        server.close()


async def test_a_hung_metrics_is_waited_for_once_and_its_oldest_sample_said_unknown() -> None:
    """Since when Prometheus keeps data comes from its /metrics: hung, it is waited for once in
    five minutes, not on every question, and the answer says it is unknown."""
    server = Misbehaving()
    server.mode = "metrics-hang"
    try:
        source = history(server.url, "1s")
        first = source.episodes(now() - HOUR, now(), "X")
        second = source.episodes(now() - HOUR, now(), "X")
        assert first.caveat.endswith("; since when it keeps data is unknown") and second.caveat == first.caveat
        assert server.asked.count("/metrics") == 1
    finally:
        server.close()


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("status:502", r"^prometheus: HTTP 502, not JSON: upstream ⟨ESC⟩\[31mexploded"),
        ("not-json", r"^prometheus: HTTP 200, not JSON: <html>proxy login</html>$"),
        ("wrong-shape", r"^prometheus: HTTP 200: no error given$"),
        ("huge", r"^prometheus: its answer is over 1 MB: not read; ask for a shorter window or fewer alerts$"),
        ("nan-time", r"^prometheus: unexpected answer \(a sample that is not \[time, value\]\)$"),
    ],
)
async def test_a_misbehaving_prometheus_is_one_line(mode: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("oncall_tui.core.alerts.prometheus.MAX_BYTES", 2**20)
    server = Misbehaving()
    server.mode = mode
    try:
        with pytest.raises(HistoryError, match=said):
            history(server.url).episodes(now() - HOUR, now(), "X")
    finally:
        server.close()


async def test_an_error_from_the_real_prometheus_is_its_own_words(prometheus: RealPrometheus) -> None:
    source = history(prometheus.url)
    with pytest.raises(HistoryError, match=r"^prometheus: HTTP 400: .*11,000 points"):
        source._query_range('ALERTS{alertstate="firing"}', now() - 7 * 24 * HOUR, now(), 1)  # a range too fine
    source.close()
