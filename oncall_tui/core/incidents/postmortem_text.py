"""Text from the journal written as Markdown that shows it, and does nothing else.

Nearly everything in a journal came from someone else: labels and annotations from whoever
can push an alert, notes from a keyboard, commands from runbooks, output from processes.
Pasted into a wiki or opened in a viewer, the postmortem must show that text as it was and
let it add no link, image, HTML, heading, table cell or code block of its own. Each helper
here is for one place text can go: a line of prose, inline code, a fenced block, a link.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from oncall_tui.core.text import clean_line, clean_output, visible_controls

_ACTIVE = re.compile(r"([\\`|<>\[\]*~#])|(?<![^\W_])_|_(?![^\W_])|&(?=#?\w+;)")
"""What would make prose a link, an image, HTML, code, a table cell, emphasis, strikethrough,
a heading or an entity (`&lt;`): `rm -rf /tmp/*_old/*` keeps its asterisks. An `_` inside a
word (`auto_declare`) is left alone: CommonMark never reads it as emphasis."""

_AUTOLINKABLE = re.compile(r"[!-;=?-~]+")
"""Printable ASCII but `<` and `>`: a URL that stays one CommonMark autolink, shown as written."""


def prompt(what: str) -> str:
    """What needs a human: a marked prompt, never invented text."""
    return f"*(to fill in: {what})*"


def cell(text: str, limit: int = 500) -> str:
    """Prose from the journal, safe anywhere in a line (a table cell too): one line, no control
    characters, and each character that could start markup backslash-escaped, so it still
    reads the same."""
    return _ACTIVE.sub(lambda m: "\\" + m.group(0), clean_line(text, limit).strip())


def visible(text: str) -> str:
    """`text` exactly as it was, but for the characters nobody would see: controls and
    invisible ones written as escapes (`\\x1b`, `\\u200b`). A command copied out of the
    postmortem then runs as it ran, and a reviewer sees everything in it."""
    return visible_controls(text)


def quoted(value: str) -> str:
    """A label value as Prometheus writes one, `"ml-api"`: backslash, quote and newline
    escaped, and nothing invisible (see `visible`)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{visible(escaped)}"'


def code(text: str) -> str:
    """Inline code holding `text` whatever backticks it has (CommonMark: a longer run of
    backticks around it, padded with a space where it starts or ends with one or a space)."""
    text = clean_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if longest or text[:1] in (" ", "`") or text[-1:] in (" ", "`"):
        return f"{fence} {text} {fence}"
    return f"{fence}{text}{fence}"


def fenced(text: str, info: str = "", indent: str = "") -> list[str]:
    """A fenced code block holding `text`, every line as it is: the fence is longer than any
    run of backticks inside, so nothing in it can close it. `indent` puts it inside a list item."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = text.removesuffix("\n").split("\n")
    return [f"{indent}{fence}{info}", *(f"{indent}{line}" if line else "" for line in lines), f"{indent}{fence}"]


def output_lines(text: str, keep: int) -> tuple[list[str], int]:
    """The last `keep` lines of a step's output, cleaned of escape sequences and control
    characters (a carriage return's progress bar, colours), and how many lines there were."""
    lines = clean_output(text).removesuffix("\n").split("\n") if text.strip() else []
    return lines[-keep:], len(lines)


def link(url: str) -> str:
    """An http(s) URL as an autolink; anything else as text. Alert annotations are untrusted:
    a `javascript:` URL or a path is no link, and a URL with spaces or invisible characters
    in it is shown, not followed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return cell(url)
    if parts.scheme in ("http", "https") and parts.netloc and _AUTOLINKABLE.fullmatch(url):
        return f"<{url}>"
    return cell(url)


def hms(moment: datetime, day: datetime | None = None) -> str:
    """`14:36:20`, with the date in front when it is not `day`'s (an incident past midnight)."""
    if day is not None and moment.date() != day.date():
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%H:%M:%S")


def full_time(moment: datetime | None) -> str:
    """`2026-11-27 14:32:05 UTC`, or a dash for a moment that has not come."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"
