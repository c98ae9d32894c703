r"""Alertmanager's regexes (Go's RE2 syntax) read by Python's `re`, so both match the same alerts.

Alertmanager matches `name=~v` with Go's regexp, anchored as `^(?:v)$`. The console matches
the same regex locally (the silence form's preview, the `/` filter), so this module rewrites
what Python would read differently and refuses what Python would accept but Alertmanager
would not:

- `\x{1b}` (any hex code point, as the console writes a control character) is read as that
  character; Python knows only `\x1b`.
- `\d`, `\w`, `\s`, `\b`, `\B` and the `[[:alpha:]]` classes are ASCII in RE2 (`\s` is
  `[\t\n\f\r ]`) and are written as ASCII ranges; Python's are Unicode.
- `\z` is Python's `\Z`; `$` (without an `m` flag) is the end of the text, not also the place
  before a final newline; `x{,3}` and `x{01}` are literal text, not repeats; so is `\Q…\E`.
- Lookarounds, backreferences, atomic and conditional groups, possessive quantifiers, the
  flags `a`, `L`, `u`, `x`, the escapes `\Z`, `\u`, `\U`, `\N`, an escaped non-ASCII
  character, repeat counts over 1000 and `\Q` without `\E` (it would swallow the `)$`
  Alertmanager appends) are refused: Alertmanager refuses them too.

Refused though Alertmanager accepts them, because Python has no equivalent: `\pL`,
`\p{Greek}`, `\C`, a negated class inside brackets (`[\D]`, `[[:^alpha:]]`), a flag group
after the start (`a(?i)b`, `(?-i)`), `(?U)`, and whatever else Python cannot compile. Left as
Python reads them: Unicode case folding, where RE2's simple folding differs on a few letters.
"""

from __future__ import annotations

import re

_WORD = "0-9A-Za-z_"
_PERL = {"d": "0-9", "w": _WORD, "s": r"\t\n\f\r "}
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": _WORD,
    "xdigit": "0-9A-Fa-f",
}
_BOUNDARY = rf"(?-i:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
_NOT_BOUNDARY = rf"(?-i:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"
_REFUSED_GROUPS = {
    "=": "a lookahead",
    "!": "a lookahead",
    "<=": "a lookbehind",
    "<!": "a lookbehind",
    ">": "an atomic group",
    "(": "a conditional group",
    "#": "a comment group",
    "P=": "a backreference",
}
_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?[:)]")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_HEX = re.compile(r"\\x\{([0-9A-Fa-f]+)\}")
_META = frozenset(r"\.+*?()|[]{}^$")


class RegexError(ValueError):
    """The regex is not one Alertmanager and the console read alike; the message says why."""


def quote_meta(text: str) -> str:
    """`text` as a regex matching exactly it, as Go's `regexp.QuoteMeta` writes it."""
    return "".join("\\" + c if c in _META else c for c in text)


def compile_re2(pattern: str) -> re.Pattern[str]:
    """`pattern`, an RE2 regex, compiled for `fullmatch` to match what Alertmanager's matches."""
    try:
        return re.compile(translate(pattern))
    except re.error as error:
        raise RegexError(error.msg) from None


def translate(pattern: str) -> str:
    """`pattern` rewritten in Python's syntax with RE2's meaning. Raises RegexError."""
    multiline = any("m" in (found.group(1) or "") for found in _FLAGS.finditer(pattern))
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            piece, i = _escape(pattern, i, in_class)
            out.append(piece)
            continue
        if in_class:
            if c == "[":
                piece, i = _posix(pattern, i)
                out.append(piece)
                continue
            if c == "]":
                in_class = False
            out.append("\\" + c if c in "&|~" else c)  # literal in both; Python warns of set operations
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            for literal in ("^", "]"):  # a leading ] is literal, after an optional ^
                if pattern.startswith(literal, i):
                    out.append("\\]" if literal == "]" else literal)
                    i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            _check_group(pattern, i)
        elif c == "{":
            repeat = _REPEAT.match(pattern, i)
            counts = [count for count in repeat.groups() if count] if repeat else []
            if repeat is None or any(len(count) > 1 and count[0] == "0" for count in counts):
                out.append("\\{")  # RE2 reads {,3}, {01} and any other non-repeat as text
                i += 1
                continue
            if any(int(count) > 1000 for count in counts):
                raise RegexError(f"repeat count {repeat.group(0)} is over RE2's limit of 1000")
            out.append(repeat.group(0))
            i = repeat.end()
            _check_possessive(pattern, i)
            continue
        elif c in "*+?":
            _check_possessive(pattern, i + 1)
        elif c == "$" and not multiline:
            out.append(r"\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _check_group(pattern: str, i: int) -> None:
    for opener, what in _REFUSED_GROUPS.items():
        if pattern.startswith(opener, i + 2):
            raise RegexError(f"{what} is not in RE2's syntax, which Alertmanager uses")
    flags = _FLAGS.match(pattern, i)
    if flags:
        letters = (flags.group(1) or "") + (flags.group(2) or "")
        unknown = sorted(set(letters) - set("imsU"))
        if unknown:
            raise RegexError(f"flag {unknown[0]!r} is not in RE2's syntax, which Alertmanager uses")


def _check_possessive(pattern: str, after: int) -> None:
    if pattern.startswith("+", after):
        raise RegexError("a possessive quantifier (like *+) is not in RE2's syntax, which Alertmanager uses")


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The escape at `pattern[i]` (a backslash) in Python's syntax, and where it ends."""
    if i + 1 >= len(pattern):
        raise RegexError("trailing backslash")
    c = pattern[i + 1]
    if c == "x" and pattern.startswith("{", i + 2):
        found = _HEX.match(pattern, i)
        if found is None or int(found.group(1), 16) > 0x10FFFF:
            raise RegexError("bad \\x{…} escape: write hex digits, at most 10FFFF, then }")
        return f"\\U{int(found.group(1), 16):08x}", found.end()
    if c in _PERL:
        return (_PERL[c] if in_class else f"[{_PERL[c]}]"), i + 2
    if c.lower() in _PERL:
        if in_class:
            raise RegexError(f"\\{c} inside brackets is not supported by the console; write [^…] instead")
        return f"[^{_PERL[c.lower()]}]", i + 2
    if not in_class and c in "bB":
        return (_BOUNDARY if c == "b" else _NOT_BOUNDARY), i + 2
    if not in_class and c == "z":
        return r"\Z", i + 2
    if not in_class and c == "Q":  # text up to \E is literal
        end = pattern.find("\\E", i + 2)
        if end < 0:  # RE2 would quote to the end, and so swallow the ")$" Alertmanager appends
            raise RegexError("\\Q without \\E")
        return re.escape(pattern[i + 2 : end]), end + 2
    if c in "ZuUN" or c == "b" or "1" <= c <= "9":
        raise RegexError(f"\\{c} is not in RE2's syntax, which Alertmanager uses")
    if not c.isascii():
        raise RegexError(f"an escaped {c!r} is not in RE2's syntax (write it without the backslash)")
    return pattern[i : i + 2], i + 2


def _posix(pattern: str, i: int) -> tuple[str, int]:
    """A `[:name:]` class inside brackets as a Python range; a literal `[` otherwise."""
    end = pattern.find(":]", i + 2) if pattern.startswith("[:", i) else -1
    if end < 0:
        return "\\[", i + 1
    name = pattern[i + 2 : end]
    if name.startswith("^"):
        raise RegexError(f"[:{name}:] inside brackets is not supported by the console; write [^[:{name[1:]}:]]")
    if name not in _POSIX:
        raise RegexError(f"[:{name}:] is not a character class RE2 knows")
    return _POSIX[name], end + 2
