"""Making untrusted text (alert labels, annotations, server messages) safe to show.

Label values come from whoever can push an alert. They may carry terminal escape
sequences (which could move the cursor or retitle the terminal) and Rich markup. The UI
renders them through `rich.text.Text`, which never interprets markup; this module writes out
what a terminal would interpret, or nobody would see.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (but tab and newline), which start the escape sequences a terminal acts
on (moving the cursor, retitling the window), and the bidirectional marks that can make it show
text in another order than it is ("Trojan Source")."""

_INVISIBLE = ("Cf", "Zl", "Zp")
"""Unicode categories a viewer shows as nothing (zero-width, bidi marks, tags) or as a new line."""


def _invisible_ranges() -> str:
    """The `_INVISIBLE` characters as a regex class body, found once (planes 0, 1 and 14 hold them)."""
    codes = [c for c in (*range(0x20000), *range(0xE0000, 0xE1000)) if unicodedata.category(chr(c)) in _INVISIBLE]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


_HIDDEN = re.compile(_CONTROL.pattern[:-1] + _invisible_ranges() + "]")
"""Those, and every character nobody would see: zero-width ones make two label values look alike."""
_WHITESPACE = re.compile(r"[\t\n\r]")


def _shown(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return "⟨ESC⟩" if code == 0x1B else f"⟨U+{code:04X}⟩"


def clean_line(text: str, limit: int = 0) -> str:
    """`text` with tabs, newlines and carriage returns as spaces, and every character a terminal
    would act on or nobody would see written out (`⟨ESC⟩[31m`, `⟨U+200B⟩`): shown, never acted on
    or dropped, so a value made only of them is not blank and two that look alike differ.

    With `limit`, longer text is cut to that many characters and ends in an ellipsis.
    """
    text = _HIDDEN.sub(_shown, _WHITESPACE.sub(" ", text))
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: a window title, a hyperlink
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS
    r"|\x1b[()*+][0-~]|\x1b[@-Z\\-_0-?]?"  # a character set, a two-byte one
)
"""A terminal escape sequence, parameters and all."""


def without_hidden(text: str) -> str:
    """`text` with escape sequences and the characters `clean_line` writes out dropped instead:
    for finding a secret that one was put inside to hide it."""
    return _HIDDEN.sub("", _SEQUENCE.sub("", text))


def clean_block(text: str, limit: int = 0) -> str:
    """Like `clean_line`, but newlines and tabs are kept (for descriptions); a carriage return
    ends a line as a newline does."""
    text = _HIDDEN.sub(_shown, text.replace("\r\n", "\n").replace("\r", "\n"))
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def clean_output(text: str, limit: int = 0) -> str:
    """A command's output as `clean_block` shows it, but with its escape sequences dropped:
    colours, a cleared screen or a window title are a program's decoration, not its words."""
    return clean_block(_SEQUENCE.sub("", text), limit)


def visible_controls(text: str) -> str:
    """`text` with every character nobody would see written as an escape: controls (but
    newline and tab) and the invisible ones (zero-width, bidi marks, line separators), as
    `\\x1b`, `\\u200b`. For showing a command exactly as it will run (in the step
    confirmation, in the postmortem), without the terminal acting on it or hiding a character."""
    return _HIDDEN.sub(lambda found: found.group(0).encode("unicode_escape").decode("ascii"), text)


def hidden_characters(text: str) -> list[str]:
    """The characters of `text` nobody would see (as `visible_controls` escapes them), each
    once and written out (`⟨U+200B⟩`), for saying that a value holds some."""
    return [f"⟨U+{ord(c):04X}⟩" for c in sorted(set(_HIDDEN.findall(text)))]
