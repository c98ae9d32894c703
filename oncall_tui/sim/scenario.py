"""The demo's script: the guide's incident on `ml-api`, plus the usual background noise.

Time runs in cycles of `CYCLE` seconds. Each scripted alert fires in windows of the
cycle and resolves between them, so over a few minutes the demo shows alerts firing,
resolving, re-firing, one warning inhibited by a critical on the same service, and noise.
Everything is computed from the clock, so a test can step time and know what fires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager

DEMO_BIN = Path(__file__).resolve().parent / "bin"
"""Stand-ins for kubectl, curl and ssh that print canned output: the demo's runbook steps use them."""
CYCLE = 360.0
RUNBOOKS = "https://runbooks.example.com/runbooks"
PROMETHEUS = "http://prometheus.demo:9090/graph?g0.expr="


@dataclass(frozen=True)
class ScriptedAlert:
    labels: dict[str, str]
    annotations: dict[str, str]
    windows: tuple[tuple[float, float], ...] = ((0.0, CYCLE),)
    expr: str = ""
    since: float = 0.0  # an always-firing alert started this many seconds before the demo

    def window_at(self, phase: float) -> tuple[float, float] | None:
        for start, end in self.windows:
            if start <= phase < end:
                return start, end
        return None


def _alert(name: str, severity: str, summary: str, description: str, runbook: str = "", **labels: str) -> dict:
    annotations = {"summary": summary, "description": description}
    if runbook:
        annotations["runbook_url"] = f"{RUNBOOKS}/{runbook}"
    return {"labels": {"alertname": name, "severity": severity, **labels}, "annotations": annotations}


SCRIPT: tuple[ScriptedAlert, ...] = (
    ScriptedAlert(
        **_alert(
            "SLOViolation",
            "critical",
            "ml-api availability SLO burning (99.9% target)",
            "Fewer than 99.9% of ml-api requests succeeded over the last 5 minutes.",
            "high-error-rate.md",
            service="ml-api",
            slo="availability",
            namespace="ml",
            team="ml-platform",
        ),
        windows=((60, 260),),
        expr='(sum(rate(http_requests_total{status!~"5.."}[5m])) / sum(rate(http_requests_total[5m]))) < 0.999',
    ),
    ScriptedAlert(
        **_alert(
            "HighErrorRate",
            "critical",
            "ml-api error rate is 7.3%",
            "More than 5% of ml-api requests returned 5xx for 5 minutes. Users are seeing errors.",
            "high-error-rate.md",
            service="ml-api",
            namespace="ml",
            job="ml-api",
            team="ml-platform",
        ),
        windows=((45, 250),),
        expr='sum(rate(http_requests_total{job="ml-api",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="ml-api"}[5m])) > 0.05',
    ),
    ScriptedAlert(
        **_alert(
            "HighLatency",
            "warning",
            "ml-api p99 latency is 2.4s",
            "p99 latency above 1s for 10 minutes.",
            "high-latency.md",
            service="ml-api",
            namespace="ml",
            job="ml-api",
            team="ml-platform",
        ),
        windows=((55, 280),),
        expr='histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="ml-api"}[5m]))) > 1',
    ),
    ScriptedAlert(
        **_alert(
            "HighLatency",
            "warning",
            "search p99 latency is 1.3s",
            "p99 latency above 1s for 10 minutes.",
            "high-latency.md",
            service="search",
            instance="search-7c9d5:8080",
            job="search",
            team="search",
        ),
        windows=((20, 200), (300, 350)),
        expr='histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="search"}[5m]))) > 1',
    ),
    ScriptedAlert(
        **_alert(
            "PodCrashLooping",
            "warning",
            "ml-worker-5d8f7-x2x9q is restarting",
            "Pod ml/ml-worker-5d8f7-x2x9q restarted 6 times in 15 minutes.",
            "pod-crash-looping.md",
            pod="ml-worker-5d8f7-x2x9q",
            namespace="ml",
            container="worker",
            team="ml-platform",
        ),
        windows=((40, 150), (240, 330)),
        expr="increase(kube_pod_container_status_restarts_total[15m]) > 3",
    ),
    ScriptedAlert(
        **_alert(
            "DiskWillFill",
            "warning",
            "db-1:/var/lib/postgresql fills within 4 hours",
            "At the current rate the filesystem /var/lib/postgresql on db-1 is full in about 4 hours.",
            "disk-will-fill.md",
            instance="db-1:9100",
            mountpoint="/var/lib/postgresql",
            job="node",
            team="data",
        ),
        since=2 * 3600,
        expr='predict_linear(node_filesystem_avail_bytes{mountpoint="/var/lib/postgresql"}[6h], 4*3600) < 0',
    ),
    ScriptedAlert(
        **_alert(
            "CPUThrottlingHigh",
            "info",
            "42% throttling of ml-worker",
            "Container worker in ml/ml-worker-5d8f7-x2x9q is throttled 42% of the time.",
            pod="ml-worker-5d8f7-x2x9q",
            namespace="ml",
            container="worker",
        ),
        windows=((0, 25), (70, 95), (140, 165), (210, 235), (280, 305)),
        expr="sum(increase(container_cpu_cfs_throttled_periods_total[5m])) / sum(increase(container_cpu_cfs_periods_total[5m])) > 0.25",
    ),
    ScriptedAlert(
        **_alert(
            "CertificateExpiresSoon",
            "info",
            "api.example.com certificate expires in 13 days",
            "The TLS certificate served by api.example.com expires in 13 days.",
            instance="api.example.com:443",
            job="blackbox",
        ),
        since=26 * 3600,
        expr="probe_ssl_earliest_cert_expiry - time() < 14 * 86400",
    ),
    ScriptedAlert(
        **_alert(
            "Watchdog",
            "none",
            "Alerting pipeline heartbeat",
            "Always firing, to prove the alerting pipeline works end to end.",
        ),
        since=9 * 86400,
        expr="vector(1)",
    ),
)


class Scenario:
    """Feeds the store from the script as the clock advances; call `tick()` before reads."""

    def __init__(self, store: SimAlertmanager, start_phase: float = 70.0) -> None:
        self.store = store
        self.origin = store.clock() - timedelta(seconds=start_phase)
        self._firing: set[int] = set()
        self._lock = threading.Lock()  # the server calls tick() from one thread per request

    def tick(self) -> None:
        with self._lock:
            self._tick()

    def _tick(self) -> None:
        now = self.store.clock()
        elapsed = (now - self.origin).total_seconds()
        cycle, phase = divmod(elapsed, CYCLE)
        cycle_start = self.origin + timedelta(seconds=cycle * CYCLE)
        firing = []
        for index, scripted in enumerate(SCRIPT):
            window = scripted.window_at(phase)
            if window is None:
                if index in self._firing:
                    self.store.resolve(scripted.labels)
                    self._firing.discard(index)
                continue
            started = (
                self.origin - timedelta(seconds=scripted.since)
                if scripted.windows == ((0.0, CYCLE),)
                else cycle_start + timedelta(seconds=window[0])
            )
            self._firing.add(index)
            firing.append(
                {
                    "labels": scripted.labels,
                    "annotations": scripted.annotations,
                    "startsAt": started.isoformat(),
                    "endsAt": (now + timedelta(minutes=4)).isoformat(),
                    "generatorURL": PROMETHEUS + quote(scripted.expr) if scripted.expr else "",
                }
            )
        self.store.post_alerts(firing)


def start_demo(clock: Callable[[], datetime] | None = None) -> SimServer:
    """A running simulator with the scenario wired in."""
    store = SimAlertmanager(clock=clock)
    scenario = Scenario(store)
    return SimServer(store, before_request=scenario.tick).start()
