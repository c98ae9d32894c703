"""The filter and silence matcher syntax: Alertmanager's, with free text in filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.core.matchers import MatcherError, matchers_for, matches, parse_filter, parse_matchers
from oncall_tui.core.models import Alert, SilenceMatcher


def regex(name: str, value: str, is_equal: bool = True) -> SilenceMatcher:
    return SilenceMatcher(name, value, is_regex=True, is_equal=is_equal)


def make(**labels: str) -> Alert:
    return Alert("fp", labels, {"summary": "Disk nearly FULL"}, datetime.now(UTC), None, "", "active")


CRIT = make(alertname="HighErrorRate", severity="critical", service="ml-api")
WARN = make(alertname="HighLatency", severity="warning", service="search")


@pytest.mark.parametrize(
    ("text", "crit", "warn"),
    [
        ("severity=critical", True, False),
        ("severity!=critical", False, True),
        ("service=~ml-.*", True, False),
        ("service=~ml", False, False),  # anchored, as Alertmanager anchors
        ("service!~ml-.*", False, True),
        ('{severity="critical", service=~"ml-.*"}', True, False),
        ("severity=warning,service=search", False, True),
        ("latency", False, True),  # free text, case-insensitive, in name
        ("full", True, True),  # free text in annotations
        ("ml-api critical", True, False),
        ("team=", True, True),  # a missing label equals the empty string
        ("", True, True),
    ],
)
def test_filter(text: str, crit: bool, warn: bool) -> None:
    parsed = parse_filter(text)
    assert (parsed.matches(CRIT), parsed.matches(WARN)) == (crit, warn)


def test_quoted_values_keep_spaces_commas_and_escapes() -> None:
    parsed = parse_filter(r'summary="a, b \"c\""')
    assert parsed.matchers == (SilenceMatcher("summary", 'a, b "c"'),)


def test_bad_regex_and_unclosed_quote_are_errors() -> None:
    with pytest.raises(MatcherError, match="bad regex"):
        parse_filter("service=~(")
    with pytest.raises(MatcherError, match="unclosed quote"):
        parse_filter('service="ml')


def test_silence_matchers_refuse_free_text_and_match_everything() -> None:
    with pytest.raises(MatcherError, match="is not a matcher"):
        parse_matchers("severity=critical oops")
    with pytest.raises(MatcherError, match="at least one matcher"):
        parse_matchers("  ")
    with pytest.raises(MatcherError, match="match every alert"):
        parse_matchers("alertname=~.*")


def test_matchers_for_an_alert_round_trip_even_with_hostile_values() -> None:
    hostile = make(alertname="X", note='say "hi", then \\ and\nnewline', empty="", esc="\x1b]0;t\x07\u202e")
    text = matchers_for(hostile)
    assert "\x1b" not in text and "\u202e" not in text and "\\u001b]0;t\\u0007\\u202e" in text
    assert parse_matchers(text) == tuple(SilenceMatcher(k, v) for k, v in sorted(hostile.labels.items()))


# -- regexes: anchored, and read as RE2 ------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "hit"),
    [
        ("ml-.*", "ml-api", True),
        ("ml", "ml-api", False),  # anchored, as Alertmanager anchors
        ("a|b", "ab", False),  # the whole alternation is anchored
        ("a|b", "b", True),
        (r"\x{1b}\[31m", "\x1b[31m", True),  # RE2's hex escape, which the console writes
        (r"[\x{202a}-\x{202e}]", "\u202e", True),
        (r"\d+", "12", True),
        (r"\d+", "١٢", False),  # RE2's \d is ASCII
        (r"\w+", "café", False),
        (r"a\sb", "a\vb", False),  # RE2's \s is [\t\n\f\r ]
        (r"a\sb", "a\tb", True),
        (r"[[:alpha:]]+", "abc", True),
        (r"[[:alpha:]]+", "é", False),
        (r"\bfoo\b", "foo", True),
        (r"x\bé", "xé", True),  # é is no word character to RE2
        ("a{,2}", "a{,2}", True),  # not a repeat in RE2
        ("a{,2}", "aa", False),
        ("a{01}", "a{01}", True),
        ("a$", "a", True),
        ("a$\n", "a\n", False),  # $ is the end of the text
        (r"a\z", "a", True),
        ("(?i)critical", "CRITICAL", True),
    ],
)
def test_regexes_match_as_alertmanager_matches(pattern: str, value: str, hit: bool) -> None:
    assert matches(regex("v", pattern), {"v": value}) is hit


@pytest.mark.parametrize(
    "pattern",
    [
        "a(?=b)",
        "(?<=a)b",
        r"(a)\1",
        "a*+",
        "(?>a)",
        "(?x)a b",
        r"a\Z",
        r"\u0041",
        "a{1001}",
        r"\é",
        r"[\b]",
        r"\x{110000}",
        r"\pL",  # RE2 has it, Python not: refused rather than misread
        "a(?i)b",
    ],
)
def test_regexes_outside_what_both_read_alike_are_refused(pattern: str) -> None:
    with pytest.raises(MatcherError, match="bad regex"):
        matches(regex("v", pattern), {"v": ""})
