"""Alert history from Prometheus: `ALERTS{alertstate="firing"}` through `/api/v1/query_range`.

Prometheus keeps a sample of `ALERTS` for each firing alert at every rule evaluation and a
staleness marker once it stops; a range query at step S of whether it fired in each step
(`max_over_time` over S) shows each episode to within S, and misses none, however short
(episodes less than a step apart are one). Rules are evaluated every minute by default, so
most steps of a day (9 s) hold no sample: at those, the alert is as the last sample says
(`ALERTS` itself: firing until its staleness marker), so an alert firing all day is one
episode, not one per evaluation.
What it vouches for begins at its oldest sample (before it, nothing was watched, not quiet).
The step is the window over `MAX_POINTS` (at least a second), and the answer says so. Every
failure is one `HistoryError` line naming Prometheus; an answer over `MAX_BYTES` is refused,
not read.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml

from oncall_tui.core.alerts.history import Episode, Found, HistoryError, NotInHistoryError, Window, fnv_fingerprint
from oncall_tui.core.config import PrometheusSource, tls_verify
from oncall_tui.core.durations import format_duration
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now

KEPT_EVERY = 300.0
"""Seconds between two readings of since when Prometheus keeps data (it moves with retention)."""
_LOWEST = re.compile(r"^prometheus_tsdb_lowest_timestamp_seconds ([0-9.e+]+)$", re.MULTILINE)
MAX_POINTS = 10_000
"""Points per series a query asks for (Prometheus refuses more than 11,000)."""
MAX_BYTES = 64 * 1024 * 1024
METRICS_BYTES = 16 * 1024 * 1024
"""Its own /metrics, read for its oldest sample, at most."""
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def quoted(value: str) -> str:
    """A PromQL string literal for any label value."""
    return json.dumps(value, ensure_ascii=False)  # quotes, backslashes and controls escaped as PromQL reads them


def selector(name: str | None, labels: dict[str, str] | None) -> str:
    matchers = ['alertstate="firing"']
    if name is not None:
        matchers.append(f"alertname={quoted(name)}")
    for key, value in (labels or {}).items():
        if key not in ("alertname", "alertstate"):
            matchers.append(f"{key}={quoted(value)}")
    return "ALERTS{" + ", ".join(matchers) + "}"


def over_steps(name: str | None, labels: dict[str, str] | None, step: int) -> str:
    """What a range query at `step` asks: at each step, whether the alert fired at any rule
    evaluation since the last step (`max_over_time` over the step), so no episode falls
    between two steps, and one firing now is seen now; or, at a step with no evaluation in it
    (rules evaluated less often than every step), whether its last one had it firing (`ALERTS`
    as an instant, `* 1` to drop its name: one series per alert)."""
    alerts = selector(name, labels)
    return f"max_over_time({alerts}[{step}s]) or {alerts} * 1"


class _UnansweredError(HistoryError):
    """Prometheus did not answer at all: timed out, unreachable, the request failed."""


def step_for(start: datetime, end: datetime) -> int:
    return max(1, math.ceil((end - start).total_seconds() / MAX_POINTS))


class PrometheusHistory:
    """One Prometheus's `ALERTS`. Thread-safe: each question makes its own request."""

    source = "prometheus"

    def __init__(
        self,
        config: PrometheusSource,
        clock: Callable[[], datetime] = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config, self.clock = config, clock
        try:
            verify = tls_verify(config.ca_bundle, "prometheus: ca_bundle")
        except ValueError as error:
            raise HistoryError(str(error)) from None
        self._external: dict[str, str] | None = None
        self._kept: tuple[float, datetime | None] | None = None
        """(when read, on the monotonic clock; since when it keeps data, if it could be told)."""
        self._http = httpx.Client(
            base_url=config.url,
            timeout=config.timeout,
            verify=verify,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "oncall-tui"},
        )

    def close(self) -> None:
        self._http.close()

    def episodes(
        self,
        start: datetime,
        end: datetime,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> Found:
        """Episodes of the alerts named `name` with `labels` (every alert: neither). With
        `fingerprint`, `labels` are that alert's own: the series whose labels they include.
        Prometheus's external labels are in the alerts it sends, not in `ALERTS`: asked for,
        they are left out of the question (and, asked with other values, nothing is its)."""
        step = step_for(start, end)
        external = self.external_labels()
        labels = labels or {}
        own = {k: v for k, v in labels.items() if k not in external}
        named = all(LABEL_NAME.fullmatch(k) for k in own)  # no other name is in ALERTS
        its = all(external[k] == v for k, v in labels.items() if k in external)  # all it sends has them
        result = self._query_range(over_steps(name, own, step), start, end, step) if named and its else []
        if fingerprint and not result:
            raise NotInHistoryError(
                "prometheus: no ALERTS series has this alert's labels (it may come from another Prometheus)"
            )
        now = self.clock()
        episodes = []
        for series in result:
            metric = {k: v for k, v in series["metric"].items() if k not in ("alertstate", "__name__")}
            episodes += _episodes(metric, external, series["values"], start, end, step, now)
        episodes.sort(key=lambda e: e.start)
        caveat = f"in steps of {format_duration(step)}: episodes less than that apart are one"
        kept = self.kept_since()
        if kept is None:
            caveat += "; since when it keeps data is unknown"
        watched = max(start, kept) if kept else start  # before its oldest sample, nobody watched
        return Found(episodes, Window(start, end, ((watched, end),) if watched < end else ()), self.source, caveat)

    def kept_since(self) -> datetime | None:
        """When the oldest sample it keeps was taken (`prometheus_tsdb_lowest_timestamp_seconds`
        of its own /metrics), read again after `KEPT_EVERY`; None when that cannot be read."""
        if self._kept is not None and time.monotonic() - self._kept[0] < KEPT_EVERY:
            return self._kept[1]
        try:
            status, body = self._fetch("/metrics", {}, METRICS_BYTES)
            found = _LOWEST.search(body.decode("utf-8", "replace")) if status == 200 else None
            lowest = float(found.group(1)) if found else math.nan
        except (HistoryError, ValueError):
            lowest = math.nan
        if math.isfinite(lowest) and lowest >= 1e11:  # its "no sample yet" (the largest time there is)
            return self.clock()  # (read again next time: samples are coming)
        kept = _at(lowest) if math.isfinite(lowest) and lowest > 0 else None
        self._kept = (time.monotonic(), kept)  # a /metrics that hangs is waited for once in KEPT_EVERY
        return kept

    def external_labels(self) -> dict[str, str]:
        """Its `global.external_labels`: in every alert it sends, not in `ALERTS` (read once;
        none when its config cannot be read)."""
        if self._external is None:
            try:
                answer = self._get("/api/v1/status/config", {})
                config = yaml.safe_load(str(answer["data"]["yaml"])) or {}
                found = (config.get("global") or {}).get("external_labels") or {}
                self._external = {str(k): str(v) for k, v in found.items()}
            except _UnansweredError:
                raise  # down or hung: asked again, and the question fails now, not after a second wait
            except (HistoryError, KeyError, TypeError, AttributeError, yaml.YAMLError):
                self._external = {}
        return self._external

    def firing(self) -> int:
        """How many alerts fire now (an instant query: `check`)."""
        answer = self._get("/api/v1/query", {"query": 'count(ALERTS{alertstate="firing"}) or vector(0)'})
        try:
            return int(float(answer["data"]["result"][0]["value"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise HistoryError("prometheus: unexpected answer to count(ALERTS)") from None

    def _query_range(self, query: str, start: datetime, end: datetime, step: int) -> list[dict[str, Any]]:
        params = {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": step}
        data = self._get("/api/v1/query_range", params).get("data")
        if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            raise HistoryError("prometheus: unexpected answer (no matrix in data.result)")
        for series in data["result"]:
            if not (
                isinstance(series, dict)
                and isinstance(series.get("metric"), dict)
                and isinstance(series.get("values"), list)
            ):
                raise HistoryError("prometheus: unexpected answer (a series without metric and values)")
        return data["result"]

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """Its answer, whole and successful, within the timeout (for all of it, not each read),
        or a HistoryError line."""
        status, body = self._fetch(path, params, MAX_BYTES)
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            detail = clean_line(body.decode("utf-8", "replace").strip(), 120)
            raise HistoryError(f"prometheus: HTTP {status}, not JSON: {detail or 'empty'}") from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = clean_line(str(error or "no error given"), 160)
            raise HistoryError(f"prometheus: HTTP {status}: {detail}")
        return answer

    def _fetch(self, path: str, params: dict[str, Any], most: int) -> tuple[int, bytearray]:
        """Its status and body, at most `most` bytes, within the timeout (for all of it, not each read)."""
        timeout = format_duration(self.config.timeout)
        deadline = time.monotonic() + self.config.timeout
        try:
            with self._http.stream("GET", path, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > most:
                        raise HistoryError(
                            f"prometheus: its answer is over {_size(most)}: not read; ask for a shorter "
                            "window or fewer alerts"
                        )
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the whole answer took too long")
        except httpx.TimeoutException:
            raise _UnansweredError(f"prometheus: timed out after {timeout}") from None
        except httpx.ConnectError as error:
            raise _UnansweredError(
                f"prometheus: unreachable ({clean_line(str(error), 100) or 'connection failed'})"
            ) from None
        except httpx.HTTPError as error:
            raise _UnansweredError(
                f"prometheus: request failed ({clean_line(str(error), 100) or type(error).__name__})"
            ) from None
        return response.status_code, body


def _episodes(
    labels: dict[str, str],
    external: dict[str, str],
    values: list[Any],
    start: datetime,
    end: datetime,
    step: int,
    now: datetime,
) -> list[Episode]:
    """The runs of consecutive samples of one series (a gap of more than a step ends one)."""
    if not all(isinstance(v, str) for v in labels.values()):
        raise HistoryError("prometheus: unexpected answer (a label value that is not a string)")
    try:
        times = sorted(float(point[0]) for point in values)
        if not all(math.isfinite(t) and 0 <= t < 1e11 for t in times):
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise HistoryError("prometheus: unexpected answer (a sample that is not [time, value])") from None
    fingerprint = fnv_fingerprint({**external, **labels})  # as Alertmanager got it, external labels and all
    runs: list[tuple[float, float]] = []
    for moment in times:
        if runs and moment - runs[-1][1] <= step * 1.5:
            runs[-1] = (runs[-1][0], moment)
        else:
            runs.append((moment, moment))
    first, last = start.timestamp(), end.timestamp()
    out = []
    for a, b in runs:
        ends = None if b >= last - step * 1.5 and end >= now - timedelta(seconds=step * 2) else _at(b)
        out.append(Episode(fingerprint, labels, _at(a), ends, began_before=a <= first + step * 0.5))
    return out


def _size(count: int) -> str:
    return f"{count // 2**20} MB" if count >= 2**20 else f"{count // 1024} KB"


def _at(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)
