"""Parsing API payloads, durations, and cleaning untrusted text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.core.alerts.models import Alert, PayloadError
from oncall_tui.core.durations import format_age, format_duration, parse_duration, signed_duration
from oncall_tui.core.text import clean_block, clean_line, hidden_characters, visible_controls

RAW = {
    "fingerprint": "abc",
    "labels": {"alertname": "X", "severity": "critical"},
    "annotations": {},
    "startsAt": "2026-11-27T14:58:01.829123456Z",
    "endsAt": "2026-11-27T15:03:01.829Z",
    "updatedAt": "2026-11-27T14:58:01.829Z",
    "receivers": [{"name": "null"}],
    "status": {"state": "suppressed", "silencedBy": [], "inhibitedBy": ["def"]},
}


def test_parses_an_alert_with_nanoseconds_and_its_state() -> None:
    alert = Alert.from_api(RAW, "prod")
    assert alert.state == "inhibited" and alert.inhibited_by == ("def",)
    assert alert.starts_at.microsecond == 829123 and alert.sources == ("prod",)
    silenced = Alert.from_api({**RAW, "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": ["d"]}})
    assert silenced.state == "silenced"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fingerprint": None}, "fingerprint: missing"),
        ({"labels": ["x"]}, "labels: expected an object"),
        ({"labels": {"a": 1}}, "labels.a: expected a string"),
        ({"startsAt": "yesterday"}, "is not a timestamp"),
        ({"status": {"state": "weird"}}, "unknown state"),
        ({"status": None}, "status: missing"),
    ],
)
def test_wrong_shapes_are_named(change: dict, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        Alert.from_api({**RAW, **change})


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration("500ms") == 0.5 and parse_duration(3) == 3
    for bad in ("", "1x", "h", "0s", True, "-1s"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert format_duration(5400) == "1h30m" and format_age(59) == "59s" and format_age(7200) == "2h"


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b[2J\x1b[H",  # clear screen, cursor home
        "\x1b]0;pwned\x07",  # OSC: set the terminal title
        "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
        "\x1bP+q\x1b\\",  # DCS
        "\x9b31m",  # 8-bit CSI
        "a\rb\x00c\x08",
        "\u202eevil\u202c \u2066x\u2069",  # bidi overrides
    ],
)
def test_clean_line_removes_every_terminal_control(hostile: str) -> None:
    cleaned = clean_line(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x2069 for c in cleaned), repr(
        cleaned
    )


def test_clean_keeps_text_markup_and_unicode_and_cuts_long_values() -> None:
    assert clean_line("[bold red]x[/] café 日本 🚨") == "[bold red]x[/] café 日本 🚨"
    assert clean_line("a\nb\tc\rd") == "a b c d" and clean_block("a\nb\r\nc\rd") == "a\nb\nc\nd"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters_are_shown_so_look_alike_labels_differ(invisible: str) -> None:
    shown = f"⟨U+{ord(invisible):04X}⟩"
    assert clean_line(f"ml{invisible}-api") == f"ml{shown}-api" != clean_line("ml-api")
    assert clean_block(f"a{invisible}\nb") == f"a{shown}\nb"
    assert clean_line("x" * 500, 10) == "x" * 9 + "…"
    escaped = invisible.encode("unicode_escape").decode("ascii")  # a command, exactly: as it will run
    assert visible_controls(f"echo ml{invisible}-api\n") == f"echo ml{escaped}-api\n"
    assert hidden_characters(f'pod="ml{invisible}-api"') == [shown] and hidden_characters("ml-api\n\t") == []


def test_a_command_shown_as_it_will_run_hides_no_control_and_acts_on_none() -> None:
    assert visible_controls("a\rb\x1b]0;t\x07 \u202eevil\tx") == "a\\rb\\x1b]0;t\\x07 \\u202eevil\tx"
    assert hidden_characters("a\rb\x1b\u202e") == ["⟨U+000D⟩", "⟨ESC⟩", "⟨U+202E⟩"]  # as clean_line writes them


@pytest.mark.parametrize(
    ("labels", "page"),
    [
        ({"incident": "INC-20261127-0001", "level": "2", "page": "INC-20261127-0001-3fa2b1c0-L2-dana"}, True),
        ({"incident": "INC-20261127-0001", "level": "2", "page": "INC-20261127-0001-3fa2b1c0-L2"}, True),
        ({"incident": "INC-20261127-0001", "level": "2", "oncall": "dana"}, True),  # before keys were labels
        ({"incident": "INC-20261127-0001", "level": "3", "page": "INC-20261127-0001-3fa2b1c0-L2-dana"}, False),
        ({"incident": "INC-20261127-0002", "level": "2", "page": "INC-20261127-0001-3fa2b1c0-L2-dana"}, False),
        ({"incident": "checkout", "level": "2", "oncall": "dana"}, False),  # another tool's OncallPage
        ({"incident": "INC-20261127-0001"}, False),
    ],
)
def test_a_page_is_known_by_its_whole_shape(labels: dict[str, str], page: bool) -> None:
    alert = Alert("f", {"alertname": "OncallPage", **labels}, {}, datetime.now(UTC), None, "", "active")
    assert alert.is_page is page
    assert not Alert("f", {"alertname": "Other", **labels}, {}, datetime.now(UTC), None, "", "active").is_page


def test_a_span_that_ends_before_it_starts_keeps_its_minus() -> None:
    assert signed_duration(-3321) == "-55m21s" and signed_duration(90) == "1m30s" and signed_duration(0) == "0s"
