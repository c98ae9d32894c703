"""Alertmanager's matcher syntax, read exactly as Alertmanager 0.25 reads it.

`parse_matcher` and `parse_matcher_list` are ports of Alertmanager's `labels.ParseMatcher`
and `labels.ParseMatchers` (the syntax of `matchers:` in alertmanager.yml and of amtool's
arguments), so a silence made from the console's text matches what Alertmanager would make
of the same text. On top of them:

- `parse_matchers` reads the silence form: `parse_matcher_list`, then the console's own
  refusals that protect the user (no matcher; matchers that match every alert; an unquoted
  value with whitespace or a brace in it, which is almost always a typing slip).
- `parse_filter` reads the `/` filter: matchers and free-text words separated by spaces or
  commas; every matcher goes through `parse_matcher`.
- `matches` tells whether labels satisfy a matcher, with regexes read as RE2 (`core.re2`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from oncall_tui.core.alerts.models import Alert, SilenceMatcher
from oncall_tui.core.alerts.re2 import RegexError, compile_re2

# Go's \s is ASCII; strings.TrimSpace is Unicode (unicode.IsSpace).
_GO_SPACE = "[\t\n\f\r ]"
_MATCHER = re.compile(
    rf"\A{_GO_SPACE}*([a-zA-Z_:][a-zA-Z0-9_:]*){_GO_SPACE}*(=~|=|!=|!~){_GO_SPACE}*(.*?){_GO_SPACE}*\Z", re.DOTALL
)
_HEAD = re.compile(rf"[a-zA-Z_:][a-zA-Z0-9_:]*{_GO_SPACE}*(?:=~|=|!=|!~)")
_UNICODE_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    map(chr, range(0x2000, 0x200B))
)
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}


class MatcherError(ValueError):
    """The text is not valid matcher syntax; the message says what and where, on one line."""


@dataclass(frozen=True, slots=True)
class _Read:
    """One matcher as read, with what the silence form's refusals need to know."""

    matcher: SilenceMatcher
    text: str  # the matcher's text, as typed
    raw_value: str  # the value as typed: quotes and escapes still in it
    quoted: bool


def _show(text: str, limit: int = 60) -> str:
    """`text` quoted for an error message: one line, control characters escaped."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def go_trim_space(text: str) -> str:
    """`strings.TrimSpace`: Unicode whitespace off both ends (not Python's wider `str.strip`)."""
    start, end = 0, len(text)
    while start < end and text[start] in _UNICODE_SPACE:
        start += 1
    while end > start and text[end - 1] in _UNICODE_SPACE:
        end -= 1
    return text[start:end]


def _unescape(raw: str, where: str) -> str:
    """The third token of a matcher: quotes optional, `\\n`, `\\"` and `\\\\` decoded.

    Any other backslash (a spurious escape, or one at the very end) is kept as it is; an
    unescaped double quote may only close a value that opened with one.
    """
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    if any("\ud800" <= c <= "\udfff" for c in body):
        raise MatcherError(f"{where}: the value is not valid UTF-8")
    value: list[str] = []
    escaped = closed = False
    last = len(body) - 1  # `\` and `"` are one byte, so the last byte is the last character
    for i, c in enumerate(body):
        if escaped:
            escaped = False
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(c, "\\" + c))
        elif c == "\\":
            if i < last:
                escaped = True
            else:
                value.append("\\")
        elif c == '"':
            if not quoted or i < last:
                raise MatcherError(f'{where}: unescaped " inside the value (write \\" for a quote, inside quotes)')
            closed = True
        else:
            value.append(c)
    if quoted and not closed:
        raise MatcherError(f"{where}: unclosed quote")
    return "".join(value)


def _read(text: str, where: str) -> _Read:
    found = _MATCHER.match(text)
    if found is None:
        raise MatcherError(
            f"{where}: not a matcher; write name=value, name!=value, name=~regex or name!~regex "
            "(a name is letters, digits, _ and :, not starting with a digit)"
        )
    name, operator, raw = found.groups()
    is_regex, is_equal = _OPERATORS[operator]
    matcher = SilenceMatcher(name, _unescape(raw, where), is_regex=is_regex, is_equal=is_equal)
    if is_regex:
        try:
            _compile(matcher.value)
        except MatcherError as error:
            raise MatcherError(f"{where}: {error}") from None
    return _Read(matcher, text, raw, raw.startswith('"'))


def parse_matcher(text: str) -> SilenceMatcher:
    """One matcher, as Alertmanager's `labels.ParseMatcher` reads it. Raises MatcherError.

    A label name, an operator (`=`, `!=`, `=~`, `!~`) and a value, with any ASCII whitespace
    around each; the value may be in double quotes, and `\\n`, `\\"`, `\\\\` are its escapes.
    """
    return _read(text, _show(text)).matcher


def _quoting(c: str, inside_quotes: bool, escaped: bool) -> tuple[bool, bool]:
    """ParseMatchers' view of quoting after character `c`: an unescaped `"` opens or closes a
    quoted part, `\\` escapes the next character, and a comma leaves `escaped` as it was."""
    if c == '"':
        return (inside_quotes, False) if escaped else (not inside_quotes, False)
    if c == "\\":
        return inside_quotes, not escaped
    return inside_quotes, escaped if c == "," else False


def _split_list(text: str) -> list[str]:
    """ParseMatchers' tokens: one `{` and one `}` trimmed, commas outside quotes split."""
    if text.startswith("{"):
        text = text[1:]
    if text.endswith("}"):
        text = text[:-1]
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for c in text:
        if c == "," and not inside_quotes:
            tokens.append("".join(token))  # earlier tokens are kept as they are, even empty
            token = []
            continue
        inside_quotes, escaped = _quoting(c, inside_quotes, escaped)
        token.append(c)
    last = go_trim_space("".join(token))
    if last:
        tokens.append(last)
    return tokens


def _read_list(text: str) -> list[_Read]:
    tokens = _split_list(text)
    return [_read(token, f"matcher {n} of {len(tokens)}, {_show(token)}") for n, token in enumerate(tokens, 1)]


def parse_matcher_list(text: str) -> tuple[SilenceMatcher, ...]:
    """Comma-separated matchers, as Alertmanager's `labels.ParseMatchers` reads them.

    `{a="b", c=~"d.*", }` and `a=b,c=~d.*` are the same two matchers: braces optional, commas
    inside quotes are part of the value, a trailing comma is allowed. Raises MatcherError.
    """
    return tuple(read.matcher for read in _read_list(text))


def parse_matchers(text: str) -> tuple[SilenceMatcher, ...]:
    """The silence form's matchers: `parse_matcher_list`, and refusals that protect the user.

    Refused, saying why: no matcher at all; a label name Alertmanager refuses in a silence;
    an unquoted value with whitespace (`foo=bar baz=qux` is one matcher whose value is
    `bar baz=qux`) or a brace (`{a=b} ` with a trailing space gives `a` the value `b}`);
    matchers that also match an alert without labels, which would silence nearly everything.
    Raises MatcherError.
    """
    reads = _read_list(text)
    if not reads:
        raise MatcherError('a silence needs at least one matcher, like alertname="DiskWillFill"')
    for n, read in enumerate(reads, 1):
        where = f"matcher {n} of {len(reads)}, {_show(read.text)}"
        name, value = read.matcher.name, read.raw_value
        if not _LABEL_NAME.fullmatch(name):
            raise MatcherError(f"{where}: Alertmanager takes only letters, digits and _ in a silence's label names")
        if not read.quoted and any(c in _UNICODE_SPACE or c.isspace() for c in value):
            raise MatcherError(
                f"{where}: the unquoted value {_show(value, 40)} contains whitespace; "
                f'quote the value ({name}{read.matcher.operator}"…") or put a comma between matchers'
            )
        if not read.quoted and ("{" in value or "}" in value):
            raise MatcherError(
                f"{where}: the unquoted value {_show(value, 40)} contains a brace; "
                f'quote the value ({name}{read.matcher.operator}"…"), and write nothing after a closing }}'
            )
    parsed = tuple(read.matcher for read in reads)
    if matches_all(parsed, {}):
        raise MatcherError(
            "these matchers also match an alert with no labels, so they would silence nearly everything; "
            "add one that needs a label value"
        )
    return parsed


def format_matchers(matchers: tuple[SilenceMatcher, ...] | list[SilenceMatcher]) -> str:
    """Matchers as the silence form reads them back: comma-separated, each as `str()` writes it."""
    return ", ".join(map(str, matchers))


def matchers_for(labels: Mapping[str, str]) -> str:
    """The silence form's default: one matcher per label (an alert's, or those a group's alerts
    all share), matching exactly its value."""
    return format_matchers([SilenceMatcher(k, v) for k, v in sorted(labels.items())])


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: label matchers plus free-text words, all of which must match."""

    matchers: tuple[SilenceMatcher, ...] = ()
    words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.matchers or self.words)

    def matches(self, alert: Alert) -> bool:
        return matches_all(self.matchers, alert.labels) and all(_has_word(alert, w) for w in self.words)

    @property
    def for_alertmanager(self) -> tuple[SilenceMatcher, ...]:
        """The matchers Alertmanager can be asked to apply (its `filter`), so it sends less: all
        but a regex with a case-insensitive flag (RE2 folds a few letters otherwise than Python,
        and the console must judge every alert they do not match exactly as Alertmanager does).
        Free text is matched here only."""
        return tuple(m for m in self.matchers if not (m.is_regex and _FOLDING.search(m.value)))


_FOLDING = re.compile(r"\(\?[a-zA-Z-]*i")


def _has_word(alert: Alert, word: str) -> bool:
    for text in (*alert.labels.values(), *alert.labels.keys(), *alert.annotations.values()):
        if word in text.lower():
            return True
    return False


def _filter_terms(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, comma before it) of each term: split on whitespace and commas outside
    quotes, with quotes and escapes tracked as `ParseMatchers` tracks them."""
    start: int | None = None
    comma = False
    inside_quotes = escaped = False
    for i, c in enumerate(text):
        if not inside_quotes and (c == "," or c in _UNICODE_SPACE or c.isspace()):
            if start is not None:
                yield start, i, comma
                start, comma = None, False
            comma = comma or c == ","
            if c != ",":
                escaped = False
            continue
        if start is None:
            start = i
        inside_quotes, escaped = _quoting(c, inside_quotes, escaped)
    if start is not None:
        yield start, len(text), comma


def parse_filter(text: str) -> Filter:
    """What the user typed after `/`: matchers and words. Raises MatcherError.

    Terms are separated by whitespace or commas outside quotes; `{…}` around them is
    optional. A term that starts like a matcher (`name=`, `name !~`, …) is read by
    `parse_matcher`, so `service = "ml api"` is one matcher. Any other term is free text,
    matched case-insensitively against the alert's labels and annotations; in quotes it
    may hold spaces, with the same escapes as a value.
    """
    body = go_trim_space(text)
    if body.startswith("{"):
        body = body[1:]
    if body.endswith("}"):
        body = body[:-1]
    terms = list(_filter_terms(body))
    matchers: list[SilenceMatcher] = []
    words: list[str] = []
    n = 0
    while n < len(terms):
        start, end, _ = terms[n]
        n += 1
        # `name = value` spans three terms: join terms across whitespace until the value begins
        while n < len(terms) and not terms[n][2] and _wants_more(body[start:end], body[terms[n][0] : terms[n][1]]):
            end = terms[n][1]
            n += 1
        term = body[start:end]
        if _HEAD.match(term):
            matchers.append(parse_matcher(term))
        else:
            words.append(_unescape(term, _show(term)).lower() if term.startswith('"') else term.lower())
    return Filter(tuple(matchers), tuple(words))


def _wants_more(term: str, following: str) -> bool:
    """Whether `term` is a matcher's start that `following` continues (`name` `=`, `name=` `v`)."""
    if re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", term):
        return re.match(r"=~|=|!=|!~", following) is not None
    head = _HEAD.match(term)
    return head is not None and head.end() == len(term)


def matches_all(matchers: Iterable[SilenceMatcher], labels: dict[str, str]) -> bool:
    """Whether `labels` satisfy every one of `matchers` (as a silence's, or a filter's, must)."""
    return all(matches(m, labels) for m in matchers)


def matches(matcher: SilenceMatcher, labels: dict[str, str]) -> bool:
    """Whether `labels` satisfy `matcher`; a missing label is the empty string.

    A regex is anchored at both ends, as Alertmanager anchors it, and read as RE2.
    """
    value = labels.get(matcher.name, "")
    if matcher.is_regex:
        hit = _compile(matcher.value).fullmatch(value) is not None
    else:
        hit = value == matcher.value
    return hit == matcher.is_equal


_regex_cache: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    compiled = _regex_cache.get(pattern)
    if compiled is None:
        try:
            compiled = compile_re2(pattern)
        except RegexError as error:
            raise MatcherError(f"bad regex {_show(pattern)}: {error}") from None
        if len(_regex_cache) > 256:
            _regex_cache.clear()
        _regex_cache[pattern] = compiled
    return compiled
