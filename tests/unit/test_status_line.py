"""The header's word on a busy Alertmanager: busy, with its last answer's age; never stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oncall_tui.core.alerts.tracking import SourceStatus
from oncall_tui.ui.widgets.status_line import DETAIL, FAILING, SHORT, TINY, describe_source

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_a_busy_source_is_busy_at_every_width_and_stale_only_once_it_is_down() -> None:
    busy = SourceStatus("prod", last_ok=NOW - timedelta(seconds=4), busy="prod: HTTP 503, turned away: try again later")
    said = [str(describe_source(busy, NOW, detail)) for detail in (DETAIL, FAILING, SHORT, TINY)]
    assert said == [
        "AM prod ~ busy, answered 4s ago: HTTP 503, turned away: try again later",
        "prod ~ busy, answered 4s ago: HTTP 503, turned away: try again later",
        "prod ~ busy, answered 4s ago",
        "prod~",
    ]
    never = SourceStatus("prod", busy="prod: HTTP 429, turned away: slow down")
    assert str(describe_source(never, NOW, SHORT)) == "prod ~ busy, no data yet"
    down = SourceStatus(
        "prod", last_ok=NOW - timedelta(minutes=2), busy=busy.busy, error="prod: busy: no answer since 14:58:00 UTC"
    )
    down.failing_since = NOW - timedelta(seconds=30)
    assert "✗ stale" in str(describe_source(down, NOW, SHORT)) and "~" not in str(describe_source(down, NOW, TINY))
