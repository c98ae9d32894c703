"""The runbook as rendered Markdown: a scrolling view of pre-rendered lines.

Rich renders the Markdown (markdown-it-py underneath: headings, lists, tables, links,
code) into lines once per width; the view only paints the lines on screen, so a long
runbook scrolls as fast as a short one. Textual's Markdown widget builds a widget per
block and took over a second for an 8 KB runbook here (bench/runbook_steps.py measures
both), too slow to follow the alert cursor. The first part (up to `FIRST_CHARS`) is
rendered at once and the rest, up to `MAX_CHARS`, in a thread.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual import work
from textual.color import Color, ColorParseError
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.core.runbooks.library import Runbook
from oncall_tui.core.text import clean_block, clean_line

FIRST_CHARS = 8 * 1024
RENDERED_KEPT = 8
RenderKey = tuple[str, int, int, str]
MAX_CHARS = 256 * 1024
MARKER = "▶ step "
HIGHLIGHT = Style(reverse=True, bold=True)


@dataclass(frozen=True, slots=True)
class Look:
    """The Textual theme's colours for Rich's Markdown styles, taken on the UI thread."""

    styles: dict[str, str]
    code_theme: str


PLAIN = Look({}, "monokai")


def _colour(value: str, background: Color) -> str | None:
    """A CSS variable's colour as Rich takes it (alpha blended onto the background); None for auto/transparent."""
    if not value or value.startswith("auto") or value == "transparent":
        return None
    try:
        colour = Color.parse(value)
    except ColorParseError:  # a variable that is not a colour: leave Rich's default
        return None
    if colour.ansi is not None:  # the ansi themes: the terminal's own colour, as Rich names it
        return "default" if colour.ansi < 0 else f"color({colour.ansi})"
    if background.ansi is not None:  # nothing to blend onto
        return Color(colour.r, colour.g, colour.b).hex
    return (background + colour).hex if colour.a < 1 else colour.hex


def look(variables: dict[str, str], dark: bool) -> Look:
    """Headings as Textual's own Markdown draws them (`$markdown-hN-*`); code, links, quotes and
    tables in the theme's accent and primary colours, on its panel colour rather than black."""
    background = Color.parse(variables.get("surface", "#1e1e1e"))
    styles: dict[str, str] = {}

    def put(name: str, text_style: str, fg: str = "", bg: str = "") -> None:
        words = [w for w in text_style.split() if w != "none"]
        if (colour := _colour(variables.get(fg, ""), background)) is not None:
            words.append(colour)
        if (back := _colour(variables.get(bg, ""), background)) is not None:
            words += ["on", back]
        if words:
            styles[name] = " ".join(words)

    for level in range(1, 7):
        h = f"markdown-h{level}"
        put(f"markdown.h{level}", variables.get(f"{h}-text-style", "bold"), f"{h}-color", f"{h}-background")
    put("markdown.h1.border", "", "primary")
    put("markdown.code", "bold", "text-accent", "panel")
    put("markdown.code_block", "", "text-accent", "panel")
    put("markdown.block_quote", "", "text-secondary")
    for name in ("markdown.list", "markdown.item.number", "markdown.table.border", "markdown.table.header"):
        put(name, "", "text-primary")
    put("markdown.link", "", "text-primary")
    put("markdown.link_url", "underline", "text-secondary")
    return Look(styles, "monokai" if dark else "default")


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
            out += [
                f"{indent}**{MARKER}{step.number}** · {_escape(clean_line(step.name, 200))}",
                "",
            ]  # r runs the one lit
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


def render(runbook: Runbook, source: str, width: int, more: str = "", styled: Look = PLAIN) -> Rendered:
    """Render `source` (part of the display source) at `width`. Safe to call from a thread."""
    console = Console(
        width=max(width, 20),
        color_system="truecolor",
        force_terminal=True,
        legacy_windows=False,
        theme=Theme(styled.styles),
    )
    options = console.options.update_width(max(width, 20))
    markdown = Markdown(source, hyperlinks=False, code_theme=styled.code_theme)
    rows = console.render_lines(markdown, options, pad=False)
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
        self._key: RenderKey | None = None
        """What is shown was rendered from (a render finished in a thread must be of it)."""
        self._rendered: OrderedDict[RenderKey, Rendered] = OrderedDict()
        """The last few runbooks rendered whole, by (body, its first line, width, theme): the
        cursor going back and forth between two alerts renders neither again."""

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
        key = self._key = (self.runbook.body, self.runbook.body_line, width, self.app.theme)  # what it is made of
        known = self._rendered.get(key)
        if known is not None:
            self._rendered.move_to_end(key)
            self._set(known)
            self.complete = True
            return
        first, partial = cut(self._source, FIRST_CHARS)
        styled = look(self.app.get_css_variables(), self.app.current_theme.dark)
        rendered = render(self.runbook, first, width, "… rendering the rest …" if partial else "", styled)
        self._set(rendered)
        self.complete = not partial
        if partial:
            self._render_rest(self.runbook, width, styled, key)
        else:
            self._keep(key, rendered)

    def _keep(self, key: RenderKey, rendered: Rendered) -> None:
        self._rendered[key] = rendered
        while len(self._rendered) > RENDERED_KEPT:
            self._rendered.popitem(last=False)

    @work(thread=True, exclusive=True, group="runbook-render", description="Rendering the runbook")
    def _render_rest(self, runbook: Runbook, width: int, styled: Look, key: RenderKey) -> None:
        source, partial = cut(display_source(runbook, MAX_CHARS), MAX_CHARS)
        more = ""
        if partial:
            size = len(runbook.body.encode("utf-8", errors="replace")) / 1024 / 1024
            more = (
                f"… the runbook is {size:.1f} MB: only its first {MAX_CHARS // 1024} KiB are shown here. "
                f"Every step is there (] and [ reach them); read the rest in {runbook.path}."
            )
        rendered = render(runbook, source, width, more, styled)
        if runbook is self.runbook and width == self._width:
            self.app.call_from_thread(self._finish, runbook, rendered, key)

    def _finish(self, runbook: Runbook, rendered: Rendered, key: RenderKey) -> None:
        if runbook is self.runbook and key == self._key:  # not after a resize, or another theme, meanwhile
            self._set(rendered)
            self.complete = True
            self._keep(key, rendered)

    def _set(self, rendered: Rendered) -> None:
        self.rendered = rendered
        # as wide as it was rendered for (it never scrolls sideways): another alert's runbook
        # of as many lines changes no scrollbar, and so lays nothing out again
        self.virtual_size = Size(self._width, len(rendered.lines))
        self.refresh()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._width = 0  # render again, in the new theme's colours
        if self.runbook is not None:
            self._render_now()

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
        strip = lines[index].apply_style(self.rich_style)  # the theme's colours under Rich's, not the terminal's
        if self.selected_step and self.rendered.steps.get(self.selected_step) == index:
            strip = strip.apply_style(HIGHLIGHT)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
