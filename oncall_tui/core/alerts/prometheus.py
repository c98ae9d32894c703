"""Alert history from Prometheus: `ALERTS{alertstate="firing"}` through `/api/v1/query_range`.

Prometheus keeps a sample of `ALERTS` for each firing alert at every rule evaluation and a
staleness marker once it stops, so a range query at step S shows each episode to within S.
The step is the window over `MAX_POINTS` (at least a second): an episode shorter than the step
may be missed, and the answer says so. Every failure is one `HistoryError` line naming
Prometheus; an answer over `MAX_BYTES` is refused, not read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from oncall_tui.core.alerts.history import Episode, Found, HistoryError, Window, fnv_fingerprint
from oncall_tui.core.config import PrometheusSource, tls_verify
from oncall_tui.core.durations import format_duration
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now

MAX_POINTS = 10_000
"""Points per series a query asks for (Prometheus refuses more than 11,000)."""
MAX_BYTES = 64 * 1024 * 1024
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def quoted(value: str) -> str:
    """A PromQL string literal for any label value."""
    return json.dumps(value, ensure_ascii=True)


def selector(name: str | None, labels: dict[str, str] | None) -> str:
    matchers = ['alertstate="firing"']
    if name is not None:
        matchers.append(f"alertname={quoted(name)}")
    for key, value in (labels or {}).items():
        if key not in ("alertname", "alertstate"):
            matchers.append(f"{key}={quoted(value)}")
    return "ALERTS{" + ", ".join(matchers) + "}"


def _within(metric: dict[str, Any], labels: dict[str, str] | None) -> bool:
    return all(k in ("alertstate", "__name__") or (labels or {}).get(k) == v for k, v in metric.items())


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
        `fingerprint`, `labels` are that alert's own: the series whose labels they include
        (Prometheus's external labels are in the alert, not in `ALERTS`)."""
        step = step_for(start, end)
        named = all(LABEL_NAME.fullmatch(k) for k in labels or {})  # no other name is in ALERTS
        result = self._query(selector(name, labels), start, end, step) if named else []
        if fingerprint and not result:  # its labels may include external ones, which ALERTS lacks
            within = [s for s in self._query(selector(name, None), start, end, step) if _within(s["metric"], labels)]
            result = within
        episodes = []
        for series in result:
            metric = {k: v for k, v in series["metric"].items() if k not in ("alertstate", "__name__")}
            episodes += _episodes(metric, series["values"], start, end, step, self.clock())
        episodes.sort(key=lambda e: e.start)
        caveat = f"sampled every {format_duration(step)}: shorter episodes may be missed"
        return Found(episodes, Window(start, end, ((start, end),)), self.source, caveat)

    def _query(self, query: str, start: datetime, end: datetime, step: int) -> list[dict[str, Any]]:
        params = {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": step}
        timeout = format_duration(self.config.timeout)
        try:
            with self._http.stream("GET", "/api/v1/query_range", params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise HistoryError(
                            f"prometheus: its answer is over {_size(MAX_BYTES)}: not read; ask for less "
                            "(--labels, a shorter --since)"
                        )
        except httpx.TimeoutException:
            raise HistoryError(f"prometheus: timed out after {timeout}") from None
        except httpx.ConnectError as error:
            raise HistoryError(
                f"prometheus: unreachable ({clean_line(str(error), 100) or 'connection failed'})"
            ) from None
        except httpx.HTTPError as error:
            raise HistoryError(
                f"prometheus: request failed ({clean_line(str(error), 100) or type(error).__name__})"
            ) from None
        try:
            answer = json.loads(body)
        except ValueError:
            detail = clean_line(body.decode("utf-8", "replace"), 120)
            raise HistoryError(f"prometheus: HTTP {response.status_code}, not JSON: {detail or 'empty'}") from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = clean_line(str(error or "no error given"), 160)
            raise HistoryError(f"prometheus: HTTP {response.status_code}: {detail}")
        data = answer.get("data")
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


def _episodes(
    labels: dict[str, str], values: list[Any], start: datetime, end: datetime, step: int, now: datetime
) -> list[Episode]:
    """The runs of consecutive samples of one series (a gap of more than a step ends one)."""
    if not all(isinstance(v, str) for v in labels.values()):
        raise HistoryError("prometheus: unexpected answer (a label value that is not a string)")
    try:
        times = sorted(float(point[0]) for point in values)
    except (TypeError, ValueError, IndexError):
        raise HistoryError("prometheus: unexpected answer (a sample that is not [time, value])") from None
    fingerprint = fnv_fingerprint(labels)
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
