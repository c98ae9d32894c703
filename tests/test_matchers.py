"""The filter and silence matcher syntax: Alertmanager's, with free text in filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.core.matchers import (
    MatcherError,
    format_matchers,
    matchers_for,
    matches,
    parse_filter,
    parse_matchers,
)
from oncall_tui.core.models import Alert, SilenceMatcher


def eq(name: str, value: str) -> SilenceMatcher:
    return SilenceMatcher(name, value)


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


# -- the form's default text, and editing ----------------------------------------------------


HOSTILE = {
    "alertname": "X",
    "esc": "\x1b[31mred",
    "osc": "\x1b]0;t\x07",
    "rlo": "evil\u202etxt.exe",
    "marks": "\u200e\u2066\u061c\u2069",
    "c1": "\x9b2J",
    "tab": "a\tb",
    "quotes": 'say "hi"',
    "backslashes": "C:\\dir\\",
    "newline": "two\nlines",
    "mixed": '\x1b"\\\n.*[x]',
    "empty": "",
    "comma": "a, b",
    "braces": "{a=b}",
}


def mutations(value: str) -> list[str]:
    return [m for m in (value + "x", "x" + value, value[:-1], value.upper(), value + "\n") if m != value]


def test_the_default_text_round_trips_even_hostile_values() -> None:
    alert = make(**HOSTILE)
    text = matchers_for(alert)
    for hidden in "\x1b\x07\u202e\u200e\u2066\u061c\u2069\x9b\t\n":
        assert hidden not in text
    parsed = parse_matchers(text)
    assert [m.name for m in parsed] == sorted(HOSTILE)
    for matcher in parsed:
        value = HOSTILE[matcher.name]
        assert matches(matcher, alert.labels)
        for other in mutations(value):
            assert not matches(matcher, {**alert.labels, matcher.name: other}), (matcher, other)
    by_name = {m.name: m for m in parsed}
    for name in ("quotes", "backslashes", "newline", "empty", "comma", "braces"):
        assert by_name[name] == eq(name, HOSTILE[name])  # what has an escape stays an equality matcher
    for name in ("esc", "osc", "rlo", "marks", "c1", "tab", "mixed"):
        assert by_name[name].is_regex and by_name[name].is_equal


def test_the_default_text_is_comma_separated_alertmanager_syntax() -> None:
    text = matchers_for(make(alertname="DiskWillFill", instance="db-1", path='C:\\ "x"\n'))
    assert text == 'alertname="DiskWillFill", instance="db-1", path="C:\\\\ \\"x\\"\\n"'
    assert matchers_for(make(esc="\x1b[1m")) == 'esc=~"\\\\x{1b}\\\\[1m"'


@pytest.mark.parametrize(
    ("matcher", "text"),
    [
        (eq("a", 'x\\"\n'), 'a="x\\\\\\"\\n"'),  # only \, " and newline are escaped
        (eq("a", "日本 🚨 ~*"), 'a="日本 🚨 ~*"'),
        (SilenceMatcher("a", "\x1b.", is_equal=False), 'a!~"\\\\x{1b}\\\\."'),
        (regex("a", "x\x1by|\\\x1b"), 'a=~"x\\\\x{1b}y|\\\\x{1b}"'),  # raw or escaped, the same character
        (regex("a", "\\Q\x1b.\\E"), 'a=~"\\\\Q\\\\E\\\\x{1b}\\\\Q.\\\\E"'),  # \x{…} is no escape inside \Q…\E
        (regex("a", "x\ny"), 'a=~"x\\ny"'),
    ],
)
def test_str_writes_what_alertmanager_reads_back(matcher: SilenceMatcher, text: str) -> None:
    assert str(matcher) == text
    assert parse_filter(text).matchers[0].is_equal == matcher.is_equal


def test_editing_a_silence_reads_back_the_same_matching() -> None:
    silence = (
        eq("alertname", "DiskWillFill"),
        regex("instance", "db-.*"),
        SilenceMatcher("env", "dev", is_equal=False),
        regex("job", "node|blackbox", is_equal=False),
        eq("esc", "\x1b[1m"),
    )
    text = format_matchers(silence)
    assert text.count(", ") == 4
    back = parse_matchers(text)
    assert back[:4] == silence[:4]
    labels = {"alertname": "DiskWillFill", "instance": "db-1", "env": "prod", "job": "x", "esc": "\x1b[1m"}
    for matcher, original in zip(back, silence, strict=True):
        for value in ("DiskWillFill", "db-1", "dev", "prod", "node", "\x1b[1m", "\x1b[1mx", ""):
            probe = {**labels, matcher.name: value}
            assert matches(matcher, probe) == matches(original, probe), (matcher, value)


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
