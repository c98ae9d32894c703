"""Asking the real Alertmanager 0.25 for only what the view shows (its `filter` parameter): it
must pick exactly the alerts the console's own matching picks, hostile values included, or
the console would judge alerts resolved that are not (or show alerts the filter hides)."""

from __future__ import annotations

import pytest

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.matchers import matches, matches_all, parse_filter
from oncall_tui.core.alerts.models import SilenceMatcher
from tests.alertmanager_process import RealAlertmanager
from tests.conftest import alert, make_config

VALUES = [
    "ml-api", "ML-API", "", 'say "hi"', "back\\slash", "two\nlines", "\x1b[31mred", "\u202eevil", "日本",
    "(?i)", "$(touch /tmp/pwned)", "a,b", "{x}", " padded ", "ſ",
]  # fmt: skip
REGEXES = [".+", "", "ml-.*", "[[:upper:]].*", r"\d*", "日.*", ".*\n.*", r".*\x{1b}.*", "(?s).*", "a|b|ml-api"]


def posted_alerts() -> list[dict]:
    posted = [alert(f"F{i}", ("critical", "warning")[i % 2], note=value) for i, value in enumerate(VALUES)]
    return [*posted, alert("NoNote", "critical")]  # a missing label is the empty string, on both sides


async def test_alertmanager_filters_as_the_console_matches(alertmanager: RealAlertmanager) -> None:
    alertmanager.post_alerts(posted_alerts())
    [source] = make_config(alertmanager.url).alertmanagers
    async with AlertmanagerClient(source) as client:
        everything = await client.alerts()
        assert len(everything) == len(VALUES) + 1
        wanted = [
            *(SilenceMatcher("note", v, is_equal=equal) for v in VALUES for equal in (True, False)),
            *(SilenceMatcher("note", r, is_regex=True, is_equal=equal) for r in REGEXES for equal in (True, False)),
        ]
        for matcher in wanted:
            sent = await client.alerts([str(matcher)])
            local = {a.fingerprint for a in everything if matches(matcher, a.labels)}
            assert {a.fingerprint for a in sent} == local, f"{matcher!s} picks otherwise than the console"


@pytest.mark.parametrize(
    "typed",
    ["severity=critical", 'note=~"ml-.*" severity!=warning', 'note!=""', 'note=~"(?i)ml-api" severity=critical'],
)
async def test_a_typed_filter_is_asked_as_the_console_shows_it(alertmanager: RealAlertmanager, typed: str) -> None:
    alertmanager.post_alerts(posted_alerts())
    [source] = make_config(alertmanager.url).alertmanagers
    parsed = parse_filter(typed)
    async with AlertmanagerClient(source) as client:
        everything = await client.alerts()
        sent = await client.alerts([str(m) for m in parsed.for_alertmanager])
        asked = {a.fingerprint for a in everything if matches_all(parsed.for_alertmanager, a.labels)}
        assert {a.fingerprint for a in sent} == asked
        assert any(parsed.matches(a) for a in sent)  # the view has something to show of what was sent
