"""The matcher syntax: Alertmanager 0.25's own parser, the silence form's refusals, the filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.core.alerts.matchers import (
    MatcherError,
    format_matchers,
    matchers_for,
    matches,
    parse_filter,
    parse_matcher,
    parse_matcher_list,
    parse_matchers,
)
from oncall_tui.core.alerts.models import Alert, SilenceMatcher


def make(**labels: str) -> Alert:
    return Alert("fp", labels, {"summary": "Disk nearly FULL"}, datetime.now(UTC), None, "", "active")


def eq(name: str, value: str) -> SilenceMatcher:
    return SilenceMatcher(name, value)


def regex(name: str, value: str, is_equal: bool = True) -> SilenceMatcher:
    return SilenceMatcher(name, value, is_regex=True, is_equal=is_equal)


CRIT = make(alertname="HighErrorRate", severity="critical", service="ml-api")
WARN = make(alertname="HighLatency", severity="warning", service="search")


# -- Alertmanager's ParseMatcher, ported -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("foo=bar\\\\", "bar\\"),  # \\ is one backslash, bare as quoted
        ("foo=bar\\n", "bar\n"),  # \n is a newline
        ('foo=a\\"b', 'a"b'),  # an escaped quote is fine in a bare value
        ("foo=bar\\t", "bar\\t"),  # a spurious escape is kept as typed
        ("foo=bar\\", "bar\\"),  # so is a lone backslash at the end
        ("foo=bar\\\\\\", "bar\\\\"),  # \\ then a lone one
        ("foo=é\\", "é\\"),  # the last-character checks count characters, not bytes
        ("foo=日本\\n", "日本\n"),
        ("foo=", ""),
        ("foo=a=b", "a=b"),
    ],
)
def test_escapes_in_bare_values(text: str, value: str) -> None:
    assert parse_matcher(text) == eq("foo", value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('foo="bar\\\\"', "bar\\"),
        ('foo="a\\nb"', "a\nb"),
        ('foo="say \\"hi\\""', 'say "hi"'),
        ('foo="a\\tb"', "a\\tb"),
        ('foo="x, y"', "x, y"),
        ('foo=" padded "', " padded "),  # inside quotes, space is the value's
        ('foo=""', ""),
        ('foo="日本"', "日本"),
        ('foo="é\\\\"', "é\\"),
        ('foo="a\nb"', "a\nb"),  # a raw line feed is tolerated
    ],
)
def test_escapes_in_quoted_values(text: str, value: str) -> None:
    assert parse_matcher(text) == eq("foo", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  foo  =  bar  ", eq("foo", "bar")),
        ('foo =~ "a.*"', regex("foo", "a.*")),
        ("\tfoo\n!=\r\fbar\n", SilenceMatcher("foo", "bar", is_equal=False)),
        ("foo!~ba.", regex("foo", "ba.", is_equal=False)),
        ("foo=~b", regex("foo", "b")),  # =~ before =
        ("foo=!b", eq("foo", "!b")),
        ("foo!=~b", SilenceMatcher("foo", "~b", is_equal=False)),
        ("foo==b", eq("foo", "=b")),
        ("a:b=c", eq("a:b", "c")),  # : is allowed in names, as in Prometheus' recording rules
        (":x_1=c", eq(":x_1", "c")),
        ("foo=\xa0bar", eq("foo", "\xa0bar")),  # the parser's whitespace is ASCII only
        ("foo=bar baz=qux", eq("foo", "bar baz=qux")),  # one matcher, as Alertmanager reads it
    ],
)
def test_names_operators_and_whitespace(text: str, expected: SilenceMatcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("foo", "not a matcher"),
        ("=bar", "not a matcher"),
        ("foo~bar", "not a matcher"),
        ("1a=b", "not a matcher"),
        ("fo-o=b", "not a matcher"),
        ("", "not a matcher"),
        ('foo=b"c', 'unescaped "'),
        ('foo="b"c"', 'unescaped "'),
        ('foo="b" "c"', 'unescaped "'),
        ('foo=bar"', 'unescaped "'),
        ('foo="bar', "unclosed quote"),
        ('foo="bar\\"', "unclosed quote"),
        ('foo="', "unclosed quote"),
        ('foo="日本\\"', "unclosed quote"),
        ("foo=~(", "bad regex"),
        ("foo=~x{2,1}", "bad regex"),
        ("foo=~a(?=b)", "bad regex"),  # Python has lookaheads; Alertmanager's RE2 has not
        ("foo=\ud800", "not valid UTF-8"),
    ],
)
def test_what_alertmanager_rejects_is_rejected(text: str, error: str) -> None:
    with pytest.raises(MatcherError, match=error) as caught:
        parse_matcher(text)
    assert "\n" not in str(caught.value)


# -- Alertmanager's ParseMatchers, ported ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{foo = "bar", dings != "bums", }', (eq("foo", "bar"), SilenceMatcher("dings", "bums", is_equal=False))),
        ("foo=bar,dings=bums", (eq("foo", "bar"), eq("dings", "bums"))),
        ("{a=b}", (eq("a", "b"),)),
        ("{a=b", (eq("a", "b"),)),  # each brace is optional on its own
        ("a=b}", (eq("a", "b"),)),
        ("a=b,", (eq("a", "b"),)),  # a trailing comma, and whitespace after it
        ("a=b, \t", (eq("a", "b"),)),
        ("{a=b,}", (eq("a", "b"),)),
        ("", ()),
        ("{}", ()),
        ('{quote="She said: \\"Hi, ladies!\\""}', (eq("quote", 'She said: "Hi, ladies!"'),)),
        ('a="x,y",b=c', (eq("a", "x,y"), eq("b", "c"))),
        ('a="x\\",y"', (eq("a", 'x",y'),)),  # an escaped quote does not end the quoting
        ("a=b\xa0", (eq("a", "b"),)),  # the last one is trimmed as strings.TrimSpace trims
        ("a=b\xa0,c=d", (eq("a", "b\xa0"), eq("c", "d"))),  # the others are not
        ("a=b\v", (eq("a", "b"),)),
        ("a=b\v,c=d", (eq("a", "b\v"), eq("c", "d"))),
        ("a=b\x1c", (eq("a", "b\x1c"),)),  # not whitespace to Go, though it is to str.strip
        ("{a=b} ", (eq("a", "b}"),)),  # the } is trimmed only at the very end
        ('{a="b"}', (eq("a", "b"),)),
    ],
)
def test_comma_separated_lists(text: str, expected: tuple[SilenceMatcher, ...]) -> None:
    assert parse_matcher_list(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a=b,,c=d", "matcher 2 of 3, '': not a matcher"),  # an empty one between commas
        (",a=b", "matcher 1 of 2, '': not a matcher"),
        (" {a=b}", "matcher 1 of 1, '{a=b': not a matcher"),  # the { is trimmed only when first
        ('a=b, c="d', "matcher 2 of 2, 'c=\"d': unclosed quote"),  # the last one is trimmed
        ("x ,a=b", "matcher 1 of 2, 'x ': not a matcher"),  # the others are as typed
        ('a=\\,"b=x,y"', "matcher 2 of 3, '\"b=x': not a matcher"),  # after \, the quote is escaped
        ('a="x\\,",b=c', 'matcher 1 of 1, \'a="x\\\\,",b=c\': unescaped "'),  # inside quotes too
        ("a=b, c=~(", "matcher 2 of 2, 'c=~(': bad regex"),
    ],
)
def test_list_errors_say_which_matcher(text: str, error: str) -> None:
    with pytest.raises(MatcherError) as caught:
        parse_matcher_list(text)
    assert str(caught.value).startswith(error)


def test_an_error_is_one_line_with_hostile_text_escaped() -> None:
    with pytest.raises(MatcherError) as caught:
        parse_matcher_list('ok=1, bad="\x1b]0;x\x07\n\u202e')
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert message.startswith("matcher 2 of 2") and "unclosed quote" in message


# -- the silence form ------------------------------------------------------------------------


def test_the_form_reads_alertmanager_syntax() -> None:
    assert parse_matchers('{alertname="DiskWillFill", instance = db-1, }') == (
        eq("alertname", "DiskWillFill"),
        eq("instance", "db-1"),
    )
    assert parse_matchers("alertname=~Disk.*,severity!=info") == (
        regex("alertname", "Disk.*"),
        SilenceMatcher("severity", "info", is_equal=False),
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "at least one matcher"),
        ("   ", "at least one matcher"),
        ("{}", "at least one matcher"),
        ("alertname=~.*", "match an alert with no labels"),
        ('team=""', "match an alert with no labels"),
        ("team!=search", "match an alert with no labels"),
        ("foo=bar baz=qux", "unquoted value 'bar baz=qux' contains whitespace; quote the value"),
        ("foo=bar\tbaz", "contains whitespace"),
        ("foo=bar\xa0baz", "contains whitespace"),
        ("severity=critical oops", "or put a comma between matchers"),
        ("{a=b} ", "unquoted value 'b}' contains a brace"),
        ("{a=b}}", "contains a brace"),
        ("a:b=c", "only letters, digits and _"),
        ("a=b,,c=d", "not a matcher"),  # Alertmanager's rejections stay rejections
    ],
)
def test_the_form_refuses_what_would_surprise(text: str, error: str) -> None:
    with pytest.raises(MatcherError, match=error):
        parse_matchers(text)


def test_the_form_takes_what_the_refusals_suggest() -> None:
    assert parse_matchers('foo="bar baz=qux"') == (eq("foo", "bar baz=qux"),)
    assert parse_matchers("foo=bar, baz=qux") == (eq("foo", "bar"), eq("baz", "qux"))
    assert parse_matchers('a="b}"') == (eq("a", "b}"),)
    assert parse_matchers("{a=b}") == (eq("a", "b"),)


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
    text = matchers_for(alert.labels)
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
    text = matchers_for(make(alertname="DiskWillFill", instance="db-1", path='C:\\ "x"\n').labels)
    assert text == 'alertname="DiskWillFill", instance="db-1", path="C:\\\\ \\"x\\"\\n"'
    assert matchers_for(make(esc="\x1b[1m").labels) == 'esc=~"\\\\x{1b}\\\\[1m"'


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
    assert parse_matcher(text).is_equal == matcher.is_equal


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


# -- the / filter -----------------------------------------------------------------------------


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
        ("severity = warning", False, True),  # spaces around the operator
        ("severity= warning", False, True),
        ("severity =warning latency", False, True),
        ("latency", False, True),  # free text, case-insensitive, in name
        ("full", True, True),  # free text in annotations
        ('"disk nearly"', True, True),  # quoted free text keeps its space
        ('"disk full"', False, False),
        ("ml-api critical", True, False),
        ("team=", True, True),  # a missing label equals the empty string
        ("", True, True),
    ],
)
def test_filter(text: str, crit: bool, warn: bool) -> None:
    parsed = parse_filter(text)
    assert (parsed.matches(CRIT), parsed.matches(WARN)) == (crit, warn)


def test_filter_values_are_read_by_the_same_parser() -> None:
    parsed = parse_filter(r'summary="a, b \"c\"" path=C:\\dir\\ note=x\n latency')
    assert parsed.matchers == (eq("summary", 'a, b "c"'), eq("path", "C:\\dir\\"), eq("note", "x\n"))
    assert parsed.words == ("latency",)
    for term in ('summary="a, b \\"c\\""', "path=C:\\\\dir\\\\", "note=x\\n"):
        assert parse_matcher(term) in parsed.matchers


def test_alertmanager_is_asked_to_apply_only_the_matchers_it_applies_as_the_console_does() -> None:
    parsed = parse_filter('severity=critical service=~"ml-.*" team!~"(?:a|b)" name=~"(?i)disk.*" latency "disk full"')
    assert parsed.for_alertmanager == parsed.matchers[:3]  # not the case-insensitive regex: RE2 folds otherwise
    assert [str(m) for m in parsed.for_alertmanager] == ['severity="critical"', 'service=~"ml-.*"', 'team!~"(?:a|b)"']
    assert parse_filter("latency").for_alertmanager == ()  # free text is matched here only


def test_filter_splits_as_the_parser_tracks_quotes() -> None:
    assert parse_filter('service="ml api",team=x').matchers == (eq("service", "ml api"), eq("team", "x"))
    with pytest.raises(MatcherError, match="unclosed quote"):
        parse_filter('a=\\,"x y"')  # after a\, the quote is escaped, as ParseMatchers has it


def test_filter_errors() -> None:
    with pytest.raises(MatcherError, match="bad regex"):
        parse_filter("service=~(")
    with pytest.raises(MatcherError, match="unclosed quote"):
        parse_filter('service="ml')
    with pytest.raises(MatcherError, match='unescaped "'):
        parse_filter('service=ml"x')
