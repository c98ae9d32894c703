"""Making untrusted text (alert labels, annotations, server messages) safe to show.

Label values come from whoever can push an alert. They may carry terminal escape
sequences (which could move the cursor or retitle the terminal) and Rich markup. The UI
renders them through `rich.text.Text`, which never interprets markup; this module removes
what a terminal would interpret.
"""

from __future__ import annotations

import re
import unicodedata

# CSI, OSC (terminated by BEL or ST), other two-byte ESC sequences, any C0/C1 control
# character left over, and the bidirectional overrides that can make a terminal show
# text in another order than it is ("Trojan Source").
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
    r"|[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_WHITESPACE = re.compile(r"[\t\n\r]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
"""Invisible characters that make two label values look alike: shown, not dropped or kept."""


def _shown(found: re.Match[str]) -> str:
    return f"⟨U+{ord(found.group(0)):04X}⟩"


def clean_line(text: str, limit: int = 0) -> str:
    """`text` with terminal control sequences removed, tabs, newlines and carriage returns as
    spaces, and zero-width characters written out (`⟨U+200B⟩`).

    With `limit`, longer text is cut to that many characters and ends in an ellipsis.
    """
    text = _ZERO_WIDTH.sub(_shown, _ESCAPES.sub("", _WHITESPACE.sub(" ", text)))
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def clean_block(text: str, limit: int = 0) -> str:
    """Like `clean_line`, but newlines and tabs are kept (for descriptions); a carriage return
    ends a line as a newline does."""
    text = _ZERO_WIDTH.sub(_shown, _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_controls(text: str) -> str:
    """`text` with every character nobody would see written as an escape: controls (but
    newline and tab) and the invisible ones (zero-width, bidi marks, line separators), as
    `\\x1b`, `\\u200b`. For showing a command exactly as it will run (in the step
    confirmation, in the postmortem), without the terminal acting on it or hiding a character."""
    return "".join(
        _escaped(c) for c in _CONTROL.sub(lambda found: found.group(0).encode("unicode_escape").decode("ascii"), text)
    )


_INVISIBLE = ("Cf", "Zl", "Zp")
"""Unicode categories a viewer shows as nothing (zero-width, bidi marks) or as a new line."""


def _escaped(char: str) -> str:
    if unicodedata.category(char) in _INVISIBLE and char not in "\n\t":
        return char.encode("unicode_escape").decode("ascii")
    return char


def hidden_characters(text: str) -> list[str]:
    """The characters of `text` nobody would see (as `visible_controls` escapes them), each
    once and written out (`⟨U+200B⟩`), for saying that a value holds some."""
    found = {c for c in text if c not in "\n\t" and (_CONTROL.match(c) or unicodedata.category(c) in _INVISIBLE)}
    return [f"⟨U+{ord(c):04X}⟩" for c in sorted(found)]
