"""The runbook as rendered Markdown: a scrolling view of pre-rendered lines.

Rich renders the Markdown (markdown-it-py underneath: headings, lists, tables, links,
code) into lines once per width; the view only paints the lines on screen, so a long
runbook scrolls as fast as a short one. Textual's Markdown widget builds a widget per
block and took over a second for an 8 KB runbook here (bench/runbook_open.py measures
both), too slow to follow the alert cursor. The first part (up to `FIRST_CHARS`) is
rendered at once and the rest, up to `MAX_CHARS`, in a thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.core.runbooks import Runbook
from oncall_tui.core.text import clean_block

FIRST_CHARS = 8 * 1024
MAX_CHARS = 256 * 1024
MARKER = "▶ step "
HIGHLIGHT = Style(reverse=True, bold=True)


@dataclass(frozen=True, slots=True)
class Rendered:
    lines: list[Strip]
    steps: dict[int, int]
    """step number → rendered line of its marker."""
    headings: list[int]
    """rendered line of each heading (in `runbook.headings` order; -1 if not found)."""


def _escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)


def display_source(runbook: Runbook, limit: int) -> str:
    """The body's first `limit` characters or so, with a `▶ step N · name` line before each runnable block."""
    lines = clean_block(runbook.body[: limit + limit // 4]).split("\n")
    at_line = {step.line - runbook.body_line: step for step in runbook.steps}
    out: list[str] = []
    for index, line in enumerate(lines):
        step = at_line.get(index)
        if step is not None:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}**{MARKER}{step.number}** · {_escape(step.name)} · `r` runs it", ""]
        out.append(line)
    return "\n".join(out)


def cut(source: str, limit: int) -> tuple[str, bool]:
    """At most `limit` characters, cut before a heading (or a blank line) so nothing is torn."""
    if len(source) <= limit:
        return source, False
    for pattern in ("\n#", "\n\n"):
        at = source.rfind(pattern, 0, limit)
        if at > limit // 2:
            return source[:at], True
    return source[:limit], True


def render(runbook: Runbook, source: str, width: int, more: str = "") -> Rendered:
    """Render `source` (part of the display source) at `width`. Safe to call from a thread."""
    console = Console(width=max(width, 20), color_system="truecolor", force_terminal=True, legacy_windows=False)
    options = console.options.update_width(max(width, 20))
    rows = console.render_lines(Markdown(source, hyperlinks=False), options, pad=False)
    if more:
        rows += console.render_lines(Text(more, style="italic"), options, pad=False)
    lines = [Strip(Segment.simplify(row)) for row in rows]
    plain = ["".join(segment.text for segment in row) for row in rows]
    steps: dict[int, int] = {}
    for index, text in enumerate(plain):
        found = text.strip().startswith(MARKER) and re.match(r"\s*▶ step (\d+)", text)
        if found:
            steps.setdefault(int(found.group(1)), index)
    headings, start = [], 0
    for index, heading in enumerate(runbook.headings):  # in order: each is searched after the one before
        window = range(start, min(start + 400, len(plain)))
        at = next((i for i in window if heading.text and heading.text in plain[i]), -1)
        headings.append(at)
        if at >= 0:
            start = at + 1
        elif window.stop == len(plain):  # past the part rendered: the rest are not shown
            headings += [-1] * (len(runbook.headings) - index - 1)
            break
    return Rendered(lines, steps, headings)


class RunbookDocument(ScrollView, can_focus=True):
    """Scroll with the arrows, PgUp/PgDn, Home/End once focused (tab)."""

    DEFAULT_CSS = """
    RunbookDocument { background: $surface; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.runbook: Runbook | None = None
        self.message: Text | None = None
        self.rendered = Rendered([], {}, [])
        self.selected_step = 0
        self._source = ""
        self._width = 0
        self.complete = True
        """False while the rest of a long runbook is still being rendered."""

    def show(self, runbook: Runbook | None, message: Text | None = None) -> None:
        """Show a runbook, or a message instead of one (no match, an error)."""
        if runbook is self.runbook and message == self.message and runbook is not None:
            return
        self.runbook, self.message = runbook, message
        self._source = display_source(runbook, FIRST_CHARS) if runbook else ""
        self.scroll_to(0, 0, animate=False)
        self._width = 0
        self._render_now()

    def _render_now(self) -> None:
        width = self.scrollable_content_region.width or 80
        if width == self._width:
            return
        self._width = width
        if self.runbook is None:
            lines = Console(width=width).render_lines(self.message or Text(""), pad=False) if self.message else []
            self._set(Rendered([Strip(row) for row in lines], {}, []))
            return
        first, partial = cut(self._source, FIRST_CHARS)
        self._set(render(self.runbook, first, width, "… rendering the rest …" if partial else ""))
        self.complete = not partial
        if partial:
            self._render_rest(self.runbook, width)

    @work(thread=True, exclusive=True, group="runbook-render", description="Rendering the runbook")
    def _render_rest(self, runbook: Runbook, width: int) -> None:
        source, partial = cut(display_source(runbook, MAX_CHARS), MAX_CHARS)
        more = ""
        if partial:
            size = len(runbook.body.encode("utf-8", errors="replace")) / 1024 / 1024
            more = (
                f"… the runbook is {size:.1f} MB: only its first {MAX_CHARS // 1024} KiB are shown here. "
                f"Every step is there (] and [ reach them); read the rest in {runbook.path}."
            )
        rendered = render(runbook, source, width, more)
        if runbook is self.runbook and width == self._width:
            self.app.call_from_thread(self._finish, runbook, rendered)

    def _finish(self, runbook: Runbook, rendered: Rendered) -> None:
        if runbook is self.runbook:
            self._set(rendered)
            self.complete = True

    def _set(self, rendered: Rendered) -> None:
        self.rendered = rendered
        width = max((line.cell_length for line in rendered.lines), default=0)
        self.virtual_size = Size(width, len(rendered.lines))
        self.refresh()

    def on_resize(self) -> None:
        if self.runbook is not None or self.message is not None:
            self._render_now()

    def select_step(self, number: int, scroll: bool = True) -> None:
        self.selected_step = number
        line = self.rendered.steps.get(number)
        if scroll and line is not None:
            self.scroll_to(0, max(0, line - 1), animate=False)
        self.refresh()

    def jump_to_heading(self, index: int) -> bool:
        headings = self.rendered.headings
        if 0 <= index < len(headings) and headings[index] >= 0:
            self.scroll_to(0, headings[index], animate=False)
            return True
        return False

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        lines = self.rendered.lines
        if index >= len(lines):
            return Strip.blank(width, self.rich_style)
        strip = lines[index]
        if self.selected_step and self.rendered.steps.get(self.selected_step) == index:
            strip = strip.apply_style(HIGHLIGHT)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
