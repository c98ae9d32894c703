"""Alertmanager's matcher syntax, for the alert filter and the silence form.

Accepted: `name=value`, `name!=value`, `name=~regex`, `name!~regex`, values bare or in
double quotes, separated by spaces or commas, optionally wrapped in `{...}` as amtool
writes them. In a filter, any other word is free text matched against the alert's name,
labels and annotations, case-insensitively. Regexes are anchored, as Alertmanager anchors
them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oncall_tui.core.models import Alert, SilenceMatcher
from oncall_tui.core.re2 import RegexError, compile_re2

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(rf"\s*({_NAME})\s*(=~|!~|!=|=)\s*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_BARE = re.compile(r'[^\s,{}"]*')


class MatcherError(ValueError):
    """The text is not valid matcher syntax; the message says where."""


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: label matchers plus free-text words, all of which must match."""

    matchers: tuple[SilenceMatcher, ...] = ()
    words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.matchers or self.words)

    def matches(self, alert: Alert) -> bool:
        return all(matches(m, alert.labels) for m in self.matchers) and all(_has_word(alert, w) for w in self.words)


def _has_word(alert: Alert, word: str) -> bool:
    for text in (*alert.labels.values(), *alert.labels.keys(), *alert.annotations.values()):
        if word in text.lower():
            return True
    return False


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
            raise MatcherError(f"bad regex {pattern!r}: {error}") from None
        if len(_regex_cache) > 256:
            _regex_cache.clear()
        _regex_cache[pattern] = compiled
    return compiled


def _unquote(raw: str) -> str:
    """Undo matcher escapes: \\n, \\t, \\uXXXX, and a backslash before any other character."""

    def one(found: re.Match[str]) -> str:
        if found.group(1):
            return chr(int(found.group(1), 16))
        return {"n": "\n", "t": "\t"}.get(found.group(2), found.group(2))

    return re.sub(r"\\(?:u([0-9a-fA-F]{4})|(.))", one, raw)


def _parse(text: str, allow_words: bool) -> Filter:
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[SilenceMatcher] = []
    words: list[str] = []
    pos = 0
    while pos < len(body):
        if body[pos] in " \t,":
            pos += 1
            continue
        found = _MATCHER.match(body, pos)
        if found:
            name, op = found.group(1), found.group(2)
            pos = found.end()
            quoted = _QUOTED.match(body, pos)
            if quoted:
                value, pos = _unquote(quoted.group(1)), quoted.end()
            elif pos < len(body) and body[pos] == '"':
                raise MatcherError(f"unclosed quote after {name}{op}")
            else:
                bare = _BARE.match(body, pos)
                value, pos = bare.group(0), bare.end()
            matcher = SilenceMatcher(name, value, is_regex="~" in op, is_equal=not op.startswith("!"))
            if matcher.is_regex:
                _compile(value)
            matchers.append(matcher)
            continue
        end = pos
        while end < len(body) and body[end] not in " \t,":
            end += 1
        word = body[pos:end]
        if not allow_words:
            raise MatcherError(f"{word!r} is not a matcher (write name=value, name=~regex, name!=value)")
        words.append(word.lower())
        pos = end
    return Filter(tuple(matchers), tuple(words))


def parse_filter(text: str) -> Filter:
    """Parse what the user typed after `/`. Raises MatcherError."""
    return _parse(text, allow_words=True)


def parse_matchers(text: str) -> tuple[SilenceMatcher, ...]:
    """Parse the silence form's matchers: matchers only, at least one. Raises MatcherError."""
    parsed = _parse(text, allow_words=False).matchers
    if not parsed:
        raise MatcherError("a silence needs at least one matcher")
    if all(matches(m, {}) for m in parsed):
        raise MatcherError("these matchers would match every alert; add one that needs a label")
    return parsed


def format_matchers(matchers: tuple[SilenceMatcher, ...] | list[SilenceMatcher]) -> str:
    """Matchers as the silence form reads them back: comma-separated, each as `str()` writes it."""
    return ", ".join(map(str, matchers))


def matchers_for(alert: Alert) -> str:
    """The silence form's default: one matcher per label, matching exactly the alert's value."""
    return format_matchers([SilenceMatcher(k, v) for k, v in sorted(alert.labels.items())])
