"""Making untrusted text (alert labels, annotations, server messages) safe to show.

Label values come from whoever can push an alert. They may carry terminal escape
sequences (which could move the cursor or retitle the terminal) and Rich markup. The UI
renders them through `rich.text.Text`, which never interprets markup; this module writes out
what a terminal would interpret, or nobody would see.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
"""C0 and C1 controls but tab and newline: they start the escape sequences a terminal acts on
(moving the cursor, retitling the window)."""
_INVISIBLE = ("Cf", "Zl", "Zp")
"""Unicode categories a viewer shows as nothing (zero-width, bidi marks that can show text in
another order than it is, tags) or as a new line."""
_FILLERS = "\u034f\u115f\u1160\u180b-\u180d\u180f\u3164\uffa0"
"""Characters of other categories drawn as nothing or as blank (the Hangul fillers, the
Mongolian variation selectors, the grapheme joiner); not the emoji variation selectors."""


def _invisible_ranges() -> str:
    """The `_INVISIBLE` characters as a regex class body, found once (planes 0, 1 and 14 hold them)."""
    ranges: list[list[int]] = []
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(code)) not in _INVISIBLE:
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


_HIDDEN = re.compile(f"[{_CONTROLS}{_FILLERS}{_invisible_ranges()}]")
"""Every character a terminal would act on or nobody would see: zero-width ones make two label
values look alike."""
_WHITESPACE = re.compile(r"[\t\n\r]")
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)"  # OSC, ended (by BEL or ST, on its line): a window title, a link
    r"|\x1b[P^_X][^\x1b\n]*\x1b\\"  # DCS, PM, APC, SOS, ended
    r"|\x1b[()*+][0-~]|\x1b[@-OQ-WYZ\\\\]"  # a character set, a two-byte one (not the start of another)
)
"""A whole terminal escape sequence; an unended or lone ESC is not one (it is written out)."""


def _shown(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return "⟨ESC⟩" if code == 0x1B else f"⟨U+{code:04X}⟩"


def _cut(text: str, limit: int) -> str:
    return text[: limit - 1] + "…" if limit and len(text) > limit else text


def clean_line(text: str, limit: int = 0) -> str:
    """`text` with tabs, newlines and carriage returns as spaces, and every character a terminal
    would act on or nobody would see written out (`⟨ESC⟩[31m`, `⟨U+200B⟩`): shown, never acted on
    or dropped, so a value made only of them is not blank and two that look alike differ.

    With `limit`, longer text is cut to that many characters and ends in an ellipsis.
    """
    return _cut(_HIDDEN.sub(_shown, _WHITESPACE.sub(" ", text)), limit)


def clean_block(text: str, limit: int = 0) -> str:
    """Like `clean_line`, but newlines and tabs are kept (for descriptions); a carriage return
    ends a line as a newline does."""
    return _cut(_HIDDEN.sub(_shown, text.replace("\r\n", "\n").replace("\r", "\n")), limit)


def clean_output(text: str, limit: int = 0) -> str:
    """A command's output as `clean_block` shows it, but with its whole escape sequences dropped:
    colours, a cleared screen or a window title are a program's decoration, not its words. What
    is left (a lone ESC, a bell, a sequence never ended) is written out: no line is lost."""
    return clean_block(_SEQUENCE.sub("", text), limit)


_FILLER = f"(?:[\x1b\x9b][\\[\\]P^_X()*+]?[0-?]*[ -/]*[@-~]?|{_HIDDEN.pattern}|\\s)*"
"""What may be put between a secret's characters to hide it from a plain search: escape
sequences (whole or begun), invisible characters, white space."""


def secret_pattern(secret: str) -> re.Pattern[str]:
    """Finds `secret` in any case, also with `_FILLER` put between its characters, so that it
    can be hidden wherever it is echoed back."""
    return re.compile(_FILLER.join(map(re.escape, secret)), re.IGNORECASE)


def visible_controls(text: str) -> str:
    """`text` with every character nobody would see written as an escape: controls (but
    newline and tab) and the invisible ones (zero-width, bidi marks, line separators), as
    `\\x1b`, `\\u200b`. For showing a command exactly as it will run (in the step
    confirmation, in the postmortem), without the terminal acting on it or hiding a character."""
    return _HIDDEN.sub(lambda found: found.group(0).encode("unicode_escape").decode("ascii"), text)


def hidden_characters(text: str) -> list[str]:
    """The characters of `text` nobody would see, each once and written out as `clean_line`
    writes them (`⟨U+200B⟩`), for saying that a value holds some."""
    return [_shown(re.match(".", c, re.DOTALL)) for c in sorted(set(_HIDDEN.findall(text)))]
